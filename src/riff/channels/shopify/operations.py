"""The GraphQL documents RIFF sends to the Admin API, one per client method, with their cost estimates.

Names follow the Admin GraphQL reference (2026-04). Estimates use the documented rules (object 1,
connection 2 + first x node, mutation 10); the client replaces them with the ``requestedQueryCost`` Shopify
reports for each operation, so they only matter for the very first call.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    estimated_cost: int


_PRODUCT_DETAIL = """
fragment ProductDetail on Product {
  id title handle status vendor productType tags descriptionHtml updatedAt onlineStoreUrl
  variants(first: 1) {
    nodes {
      id sku price inventoryQuantity
      inventoryItem {
        id tracked
        inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}
"""

_PRODUCT_SUMMARY = """
fragment ProductSummary on Product {
  id title handle status vendor productType tags updatedAt onlineStoreUrl
  variants(first: 1) { nodes { id sku price inventoryQuantity inventoryItem { id tracked } } }
}
"""

_MONEY = "shopMoney { amount currencyCode }"

_ORDER_FIELDS = f"""
fragment OrderFields on Order {{
  id name email createdAt updatedAt processedAt cancelledAt
  displayFinancialStatus displayFulfillmentStatus currencyCode
  currentSubtotalPriceSet {{ {_MONEY} }}
  totalShippingPriceSet {{ {_MONEY} }}
  currentTotalTaxSet {{ {_MONEY} }}
  currentTotalPriceSet {{ {_MONEY} }}
  shippingAddress {{ name address1 address2 city province provinceCode zip countryCodeV2 phone }}
  lineItems(first: $lines) {{
    pageInfo {{ hasNextPage }}
    nodes {{ id sku title quantity originalUnitPriceSet {{ {_MONEY} }} product {{ id }} }}
  }}
}}
"""

_USER_ERRORS = "userErrors { field message code }"

PRODUCT = Operation(
    "Product",
    "query Product($id: ID!, $locationId: ID!) { product(id: $id) { ...ProductDetail } }" + _PRODUCT_DETAIL,
    8,
)
PRODUCTS_BY_SKU = Operation(
    "ProductsBySku",
    "query ProductsBySku($query: String!, $locationId: ID!) {"
    " products(first: 5, query: $query) { nodes { ...ProductDetail } } }" + _PRODUCT_DETAIL,
    37,
)
PRODUCTS = Operation(
    "Products",
    "query Products($first: Int!, $after: String, $query: String) {"
    " products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor } nodes { ...ProductSummary } } }" + _PRODUCT_SUMMARY,
    252,
)
LOCATIONS = Operation(
    "Locations", "query Locations { locations(first: 10) { nodes { id name isActive } } }", 12
)
PRODUCT_SET = Operation(
    "ProductSet",
    "mutation ProductSet($input: ProductSetInput!, $identifier: ProductSetIdentifiers, $locationId: ID!) {"
    " productSet(input: $input, identifier: $identifier, synchronous: true) {"
    f" product {{ ...ProductDetail }} {_USER_ERRORS} }} }}" + _PRODUCT_DETAIL,
    16,
)
PRODUCT_UPDATE = Operation(
    "ProductUpdate",
    "mutation ProductUpdate($product: ProductUpdateInput!) { productUpdate(product: $product) {"
    " product { id status updatedAt onlineStoreUrl } userErrors { field message } } }",
    10,
)
VARIANTS_BULK_UPDATE = Operation(
    "VariantsBulkUpdate",
    "mutation VariantsBulkUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {"
    f" productVariantsBulkUpdate(productId: $productId, variants: $variants) {{"
    f" productVariants {{ id price }} {_USER_ERRORS} }} }}",
    10,
)
INVENTORY_SET = Operation(
    "InventorySet",
    "mutation InventorySet($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) {"
    f" inventoryAdjustmentGroup {{ createdAt reason changes {{ name delta }} }} {_USER_ERRORS} }} }}",
    10,
)
# The idempotency key goes in the @idempotent directive (shopify.dev/docs/api/usage/idempotent-requests);
# ``{key}`` is replaced by a UUID (validated before it is put into the document).
INVENTORY_ADJUST = Operation(
    "InventoryAdjust",
    "mutation InventoryAdjust($input: InventoryAdjustQuantitiesInput!) {"
    ' inventoryAdjustQuantities(input: $input) @idempotent(key: "{key}") {'
    f" inventoryAdjustmentGroup {{ createdAt reason changes {{ name delta }} }} {_USER_ERRORS} }} }}",
    10,
)
ORDERS = Operation(
    "Orders",
    "query Orders($first: Int!, $after: String, $query: String, $lines: Int!) {"
    " orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {"
    " pageInfo { hasNextPage endCursor } nodes { ...OrderFields } } }" + _ORDER_FIELDS,
    322,
)
ORDER = Operation(
    "Order", "query Order($id: ID!, $lines: Int!) { order(id: $id) { ...OrderFields } }" + _ORDER_FIELDS, 32
)
FULFILLMENT_ORDERS = Operation(
    "FulfillmentOrders",
    "query FulfillmentOrders($id: ID!) { order(id: $id) { id displayFulfillmentStatus"
    " fulfillmentOrders(first: 5) { nodes { id status lineItems(first: 20) { nodes { id remainingQuantity } } } } } }",
    118,
)
FULFILLMENT_CREATE = Operation(
    "FulfillmentCreate",
    "mutation FulfillmentCreate($fulfillment: FulfillmentInput!, $message: String) {"
    " fulfillmentCreate(fulfillment: $fulfillment, message: $message) {"
    " fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }",
    10,
)
INVENTORY_ITEM_PRODUCT = Operation(
    "InventoryItemProduct",
    "query InventoryItemProduct($id: ID!) { inventoryItem(id: $id) { id variant { id product { id } } } }",
    3,
)
