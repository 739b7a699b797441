"""Pure functions: RIFF's normalized types <-> Shopify's GraphQL inputs and nodes. No I/O here.

Every value that needs a table (condition, category, carrier) and the currency are checked before an input
is built, so an unmapped value is a ``Rejected`` before any request is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from riff.channels.contract import (
    Address,
    OrderLine,
    OrderStatus,
    ProductSnapshot,
    RemoteListing,
    RemoteListingRef,
    RemoteOrder,
    RemoteState,
)
from riff.channels.errors import Rejected
from riff.channels.mapping import load_table, money, parse_datetime, require
from riff.channels.shopify import consts

DATA_PACKAGE = "riff.channels.shopify"
GID_PREFIX = "gid://shopify/"


class ShopifyConfig(BaseModel):
    """Per-account settings (stored in ``channel_accounts.config``)."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    shop_domain: str | None = Field(
        None,
        title="Shop domain",
        description="your-shop.myshopify.com (the API host; not needed when the account has a base URL)",
        pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$",
    )
    api_version: str = Field(
        consts.DEFAULT_API_VERSION,
        title="Admin API version",
        description="Pinned YYYY-MM version; 2026-04 or later for compare-and-set inventory writes",
        pattern=consts.API_VERSION_PATTERN,
    )
    currency: str = Field("GBP", title="Shop currency", description="The store's currency (ISO 4217)")
    location_id: str | None = Field(
        None,
        title="Location id",
        description="gid://shopify/Location/... holding the stock; default: the shop's first active location",
    )
    publish: bool = Field(True, title="Publish on create", description="False creates DRAFT products")
    archive_after_days: int = Field(
        consts.ARCHIVE_AFTER_DAYS,
        ge=0,
        le=365,
        title="Archive after (days)",
        description="The weekly job archives products whose listing ended longer ago than this",
    )
    notify_customer: bool = Field(True, title="Email the buyer on shipment")


class ShopifySecrets(BaseModel):
    """Write-only credentials (encrypted in ``channel_accounts.secrets_encrypted``)."""

    token: SecretStr = Field(
        ..., title="Admin API access token", description="shpat_...: the custom app's Admin API access token"
    )
    client_secret: SecretStr | None = Field(
        None, title="API secret key", description="The app's client secret: verifies webhook signatures"
    )
    webhook_token: SecretStr | None = Field(
        None, title="Webhook path token", description="Secret part of /webhooks/shopify/{token}"
    )


# --- ids ------------------------------------------------------------------------------------------


def to_gid(kind: str, value: str | int) -> str:
    text = str(value)
    return text if text.startswith(GID_PREFIX) else f"{GID_PREFIX}{kind}/{text}"


def numeric_id(value: str | int | None) -> str | None:
    """``gid://shopify/Order/5896545558666`` -> ``5896545558666`` (query strings dropped)."""
    if value is None:
        return None
    match = re.search(r"(\d+)(?:\?.*)?$", str(value))
    return match.group(1) if match else None


# --- tables ---------------------------------------------------------------------------------------


def _conditions() -> dict[str, Any]:
    return load_table(DATA_PACKAGE, "conditions")["riff_to_shopify"]  # type: ignore[no-any-return]


def _categories() -> dict[str, Any]:
    return load_table(DATA_PACKAGE, "categories")


def _carriers() -> dict[str, str]:
    return load_table(DATA_PACKAGE, "carriers")["riff_to_shopify"]  # type: ignore[no-any-return]


def condition_label(condition: str) -> str:
    entry = require(_conditions(), condition, channel=consts.SLUG, what="condition", field="condition")
    return str(entry["label"])


def product_type(product: ProductSnapshot) -> str:
    table = _categories()
    if product.category_slug is None:
        return str(table["default"])
    return str(
        require(
            table["by_slug"], product.category_slug, channel=consts.SLUG, what="category", field="category"
        )
    )


def taxonomy_category(product: ProductSnapshot) -> str | None:
    """A channel_category_mappings row naming a Shopify taxonomy category (``gid://shopify/TaxonomyCategory/..``)."""
    for remote_id in product.category_remote_ids:
        if remote_id.startswith(f"{GID_PREFIX}TaxonomyCategory/"):
            return remote_id
    return None


def carrier_company(carrier: str) -> str:
    return str(
        require(_carriers(), carrier.strip().lower(), channel=consts.SLUG, what="carrier", field="carrier")
    )


# --- products -------------------------------------------------------------------------------------


def _check_currency(product: ProductSnapshot, config: ShopifyConfig) -> None:
    if product.currency.upper() != config.currency.upper():
        raise Rejected(
            f"product is priced in {product.currency} but the Shopify store sells in {config.currency}",
            channel=consts.SLUG,
            field="currency",
        )


def price(product: ProductSnapshot) -> str:
    if product.price < 0:
        raise Rejected("price must not be negative", channel=consts.SLUG, field="price")
    return f"{product.price.quantize(Decimal('0.01'))}"


def quantity(product: ProductSnapshot) -> int:
    """One-of-a-kind items have stock 1 while for sale; stocked items their count."""
    return max(product.quantity, 0) if product.is_stocked_item else 1


def managed_tags(product: ProductSnapshot) -> list[str]:
    tags = []
    if product.brand:
        tags.append(f"Brand: {product.brand}")
    if product.model:
        tags.append(f"Model: {product.model}")
    if product.year is not None:
        tags.append(f"Year: {product.year}")
    elif product.decade:
        tags.append(f"Decade: {product.decade}")
    if product.finish:
        tags.append(f"Finish: {product.finish}")
    tags.append(f"Condition: {condition_label(product.condition)}")
    return tags


def merge_tags(current: Iterable[str], product: ProductSnapshot) -> list[str]:
    """The shop's own tags stay; RIFF's (``Year: 1965`` ...) are replaced by the product's current values."""
    kept = [tag for tag in current if not tag.startswith(consts.MANAGED_TAG_PREFIXES)]
    return sorted({*kept, *managed_tags(product)})


def _files(product: ProductSnapshot) -> list[dict[str, Any]]:
    urls = [
        image.url
        for image in sorted(product.images, key=lambda i: i.position)
        if image.url.startswith("http")
    ]
    return [
        {"originalSource": url, "alt": product.title, "contentType": "IMAGE"}
        for url in urls[: consts.MAX_IMAGES]
    ]


def status(config: ShopifyConfig) -> str:
    return "ACTIVE" if config.publish else "DRAFT"


def create_input(product: ProductSnapshot, config: ShopifyConfig, location_id: str) -> dict[str, Any]:
    """``ProductSetInput`` for a new product: one variant with SKU, price, tracked stock at our location."""
    _check_currency(product, config)
    if not product.title.strip():
        raise Rejected("a title is required", channel=consts.SLUG, field="title")
    files = _files(product)
    if not files:
        raise Rejected(
            "Shopify needs at least one photo with a public http(s) URL", channel=consts.SLUG, field="images"
        )
    product_input: dict[str, Any] = {
        "title": product.title,
        "descriptionHtml": product.description,
        "vendor": product.brand or "",
        "productType": product_type(product),
        "tags": managed_tags(product),
        "status": status(config),
        "files": files,
        "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
        "variants": [
            {
                "optionValues": [{"optionName": "Title", "name": "Default Title"}],
                "sku": product.sku,
                "price": price(product),
                "inventoryItem": {"tracked": True},
                "inventoryQuantities": [
                    {"locationId": location_id, "name": consts.INVENTORY_NAME, "quantity": quantity(product)}
                ],
            }
        ],
    }
    category = taxonomy_category(product)
    if category:
        product_input["category"] = category
    return product_input


# RIFF field name -> which Shopify write carries it.
PRODUCT_FIELDS = frozenset(
    {"title", "description", "brand", "model", "finish", "year", "decade", "condition", "category", "images"}
)
VARIANT_FIELDS = frozenset({"price"})
INVENTORY_FIELDS = frozenset({"quantity", "is_stocked_item"})
UPDATABLE_FIELDS = PRODUCT_FIELDS | VARIANT_FIELDS | INVENTORY_FIELDS
_TAG_FIELDS = frozenset({"brand", "model", "finish", "year", "decade", "condition"})


def check_update_fields(changed_fields: Iterable[str]) -> None:
    unknown = sorted(set(changed_fields) - UPDATABLE_FIELDS)
    if unknown:
        raise Rejected(
            f"Shopify cannot update field(s): {', '.join(unknown)}", channel=consts.SLUG, field=unknown[0]
        )


def update_input(
    product: ProductSnapshot, changed_fields: Iterable[str], current_tags: Iterable[str]
) -> dict[str, Any]:
    """``ProductSetInput`` with only the product-level fields that changed (productSet leaves others alone)."""
    changed = set(changed_fields)
    product_input: dict[str, Any] = {}
    if "title" in changed:
        product_input["title"] = product.title
    if "description" in changed:
        product_input["descriptionHtml"] = product.description
    if "brand" in changed:
        product_input["vendor"] = product.brand or ""
    if "category" in changed:
        product_input["productType"] = product_type(product)
        category = taxonomy_category(product)
        if category:
            product_input["category"] = category
    if changed & _TAG_FIELDS:
        product_input["tags"] = merge_tags(current_tags, product)
    if "images" in changed:
        files = _files(product)
        if not files:
            raise Rejected("Shopify needs at least one photo", channel=consts.SLUG, field="images")
        product_input["files"] = files
    return product_input


def first_variant(node: Mapping[str, Any]) -> dict[str, Any]:
    nodes = ((node.get("variants") or {}).get("nodes")) or []
    return nodes[0] if nodes and isinstance(nodes[0], dict) else {}


def available_at_location(node: Mapping[str, Any]) -> int | None:
    """The ``available`` quantity at our location from a ProductDetail node (None if not stocked there)."""
    item = first_variant(node).get("inventoryItem") or {}
    level = item.get("inventoryLevel")
    if not isinstance(level, dict):
        return None
    for entry in level.get("quantities") or []:
        if entry.get("name") == consts.INVENTORY_NAME:
            return int(entry.get("quantity") or 0)
    return None


def listing_state(node: Mapping[str, Any]) -> RemoteState:
    """ARCHIVED -> ended; DRAFT -> ended once its stock is 0 (RIFF's end of a withdrawn item) else draft;
    ACTIVE -> sold once tracked stock is 0 (the store shows "Sold out") else live."""
    product_status = str(node.get("status") or "").upper()
    variant = first_variant(node)
    tracked = bool((variant.get("inventoryItem") or {}).get("tracked"))
    stock = variant.get("inventoryQuantity")
    sold_out = tracked and isinstance(stock, int) and stock <= 0
    if product_status == "ARCHIVED":
        return RemoteState.ENDED
    if product_status == "DRAFT":
        return RemoteState.ENDED if sold_out else RemoteState.DRAFT
    if product_status == "ACTIVE":
        return RemoteState.SOLD if sold_out else RemoteState.LIVE
    return RemoteState.UNKNOWN


def listing_ref(node: Mapping[str, Any]) -> RemoteListingRef:
    return RemoteListingRef(id=str(node["id"]), url=node.get("onlineStoreUrl"), state=listing_state(node))


def remote_listing(node: Mapping[str, Any], currency: str | None = None) -> RemoteListing:
    variant = first_variant(node)
    stock = variant.get("inventoryQuantity")
    return RemoteListing(
        remote_id=str(node["id"]),
        sku=variant.get("sku") or None,
        title=str(node.get("title") or ""),
        price=money(variant.get("price")),
        currency=currency,
        quantity=stock if isinstance(stock, int) else None,
        state=listing_state(node),
        url=node.get("onlineStoreUrl"),
        updated_at=parse_datetime(node.get("updatedAt")),
        raw=dict(node),
    )


# --- orders ---------------------------------------------------------------------------------------


def order_status(financial: str | None, fulfillment: str | None, cancelled: bool) -> OrderStatus:
    """From Order.displayFinancialStatus / displayFulfillmentStatus (upper case) or the REST equivalents."""
    financial = (financial or "").upper()
    fulfillment = (fulfillment or "").upper()
    if cancelled:
        return OrderStatus.CANCELLED
    if financial in ("REFUNDED", "VOIDED"):
        return OrderStatus.REFUNDED
    if fulfillment in ("FULFILLED", "SHIPPED"):
        return OrderStatus.SHIPPED
    if financial in ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED"):
        return OrderStatus.PAID
    if financial in ("PENDING", "AUTHORIZED", "EXPIRED"):
        return OrderStatus.UNPAID
    return OrderStatus.UNKNOWN


def webhook_order_status(payload: Mapping[str, Any]) -> OrderStatus:
    """The same normalization for a REST-format webhook body (financial_status ``paid``, fulfillment
    ``fulfilled``/``partial``/null, cancelled_at)."""
    return order_status(
        str(payload.get("financial_status") or ""),
        str(payload.get("fulfillment_status") or ""),
        bool(payload.get("cancelled_at")),
    )


def _state_time(value: Any) -> str:
    moment = value if isinstance(value, dt.datetime) else parse_datetime(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "unknown"


def order_state_key(order_id: str | int, updated_at: Any, state: OrderStatus) -> str:
    """One key per order state: a webhook (REST body) and a poll (GraphQL node) of the same state agree, so
    the state is recorded once; the normalized status is part of it because two changes can share a second."""
    return f"order:{numeric_id(order_id)}:{_state_time(updated_at)}:{state.value}"


def _money_set(value: Any) -> Decimal | None:
    if not isinstance(value, dict):
        return None
    return money((value.get("shopMoney") or {}).get("amount"))


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    return Address(
        name=raw.get("name"),
        line1=raw.get("address1"),
        line2=raw.get("address2"),
        city=raw.get("city"),
        region=raw.get("provinceCode") or raw.get("province"),
        postal_code=raw.get("zip"),
        country_code=raw.get("countryCodeV2"),
        phone=raw.get("phone"),
    )


def remote_order(node: Mapping[str, Any]) -> RemoteOrder:
    lines = []
    for line in ((node.get("lineItems") or {}).get("nodes")) or []:
        unit = line.get("originalUnitPriceSet")
        lines.append(
            OrderLine(
                sku=line.get("sku"),
                remote_listing_id=(line.get("product") or {}).get("id"),
                title=line.get("title"),
                quantity=int(line.get("quantity") or 1),
                price=_money_set(unit),
                currency=((unit or {}).get("shopMoney") or {}).get("currencyCode"),
            )
        )
    financial = node.get("displayFinancialStatus")
    fulfillment = node.get("displayFulfillmentStatus")
    return RemoteOrder(
        remote_id=str(node["id"]),
        status=order_status(financial, fulfillment, bool(node.get("cancelledAt"))),
        remote_status=" / ".join(s for s in (financial, fulfillment) if s) or None,
        buyer_name=(node.get("shippingAddress") or {}).get("name"),
        buyer_email=node.get("email"),
        shipping_address=_address(node.get("shippingAddress")),
        lines=lines,
        currency=node.get("currencyCode"),
        subtotal=_money_set(node.get("currentSubtotalPriceSet")),
        shipping=_money_set(node.get("totalShippingPriceSet")),
        tax=_money_set(node.get("currentTotalTaxSet")),
        total=_money_set(node.get("currentTotalPriceSet")),
        created_at=parse_datetime(node.get("createdAt")),
        updated_at=parse_datetime(node.get("updatedAt")),
        paid_at=parse_datetime(node.get("processedAt")) if financial == "PAID" else None,
        raw=dict(node),
    )


def remote_order_key(order: RemoteOrder) -> str:
    return order_state_key(order.remote_id, order.updated_at, order.status)


def orders_query(since: dt.datetime) -> str:
    return f"updated_at:>'{since.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


def fulfillment_input(
    fulfillment_orders: list[Mapping[str, Any]], carrier: str, tracking: str, notify_customer: bool
) -> dict[str, Any] | None:
    """Every open fulfillment order's remaining lines, with the tracking; None when nothing is left."""
    if not tracking.strip():
        raise Rejected("a tracking number is required", channel=consts.SLUG, field="tracking")
    company = carrier_company(carrier)
    groups = []
    for fulfillment_order in fulfillment_orders:
        if str(fulfillment_order.get("status") or "").upper() not in ("OPEN", "IN_PROGRESS"):
            continue
        lines = [
            {"id": line["id"], "quantity": int(line["remainingQuantity"])}
            for line in ((fulfillment_order.get("lineItems") or {}).get("nodes")) or []
            if int(line.get("remainingQuantity") or 0) > 0
        ]
        if lines:
            groups.append({"fulfillmentOrderId": fulfillment_order["id"], "fulfillmentOrderLineItems": lines})
    if not groups:
        return None
    tracking_info: dict[str, Any] = {"number": tracking.strip()}
    if company != "Other":
        tracking_info["company"] = company
    return {
        "lineItemsByFulfillmentOrder": groups,
        "trackingInfo": tracking_info,
        "notifyCustomer": notify_customer,
    }
