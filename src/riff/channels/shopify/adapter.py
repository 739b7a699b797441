"""``ShopifyChannel``: the channel contract on top of ``ShopifyClient`` and ``mapping``.

What the operations mean on Shopify (details and sources in docs/channels/shopify.md):

- **publish**: ``productSet`` creates the product with one tracked variant (SKU, price) and its stock at the
  account's location. A known remote id, else a product found by SKU, is reused (an archived one is brought
  back to ACTIVE: the product URL survives a relist).
- **update**: product fields through ``productSet`` (only those sent change), the price through
  ``productVariantsBulkUpdate``, the stock through ``inventoryAdjustQuantities`` with ``changeFromQuantity``
  (compare-and-set) and an ``@idempotent`` key. A compare-and-set mismatch is *not* overwritten: the stock
  changed on Shopify (usually a sale), so RIFF raises ``InventoryConflict`` and the order that caused it
  decides (see the docs).
- **end**: stock to 0 with ``inventorySetQuantities`` (compare-and-set; ending wins, so a mismatch is re-read
  and retried). Sold items stay ACTIVE and show "Sold out" (the shop keeps sold pages, as before); an item
  withdrawn unsold becomes DRAFT. The weekly ``shopify.archive_ended`` job archives both after N days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

from riff.channels.adapter_base import ChannelAdapterBase
from riff.channels.contract import (
    Capabilities,
    EndReason,
    ListingSnapshot,
    ProductSnapshot,
    RemoteListing,
    RemoteListingRef,
    RemoteOrder,
    RemoteState,
    WebhookEvent,
)
from riff.channels.errors import NotFound, Rejected, Transient
from riff.channels.http import HttpWiring
from riff.channels.shopify import consts, mapping, webhooks
from riff.channels.shopify.client import ShopifyClient, new_idempotency_key
from riff.channels.shopify.mapping import ShopifyConfig, ShopifySecrets
from riff.core.logging import get_logger

log = get_logger(__name__)

# Which of several products sharing one SKU is "ours": an active one first, then a draft, then archived.
_STATUS_PREFERENCE = ("ACTIVE", "DRAFT", "ARCHIVED")
_STALE_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
PLACEHOLDER_LOCATION = "gid://shopify/Location/0"


class InventoryConflict(Rejected):
    """Shopify's stock changed between RIFF's read and its write (compare-and-set mismatch). Not retried and
    not overwritten: a change on Shopify's side (a sale) is in flight, and its order decides."""


def _only_stale(errors: list[dict[str, Any]]) -> bool:
    return bool(errors) and all(e.get("code") in _STALE_CODES for e in errors)


class ShopifyChannel(ChannelAdapterBase[ShopifyConfig, ShopifyClient]):
    slug = consts.SLUG
    display_name = consts.DISPLAY_NAME
    default_base_url = consts.DEFAULT_BASE_URL
    config_model = ShopifyConfig
    secrets_model = ShopifySecrets
    capabilities = Capabilities(
        webhooks=True,
        quantity_above_one=True,
        max_images=consts.MAX_IMAGES,
        variations=False,
        incremental_listing_fetch=True,  # products(query: "updated_at:>'...'")
        order_polling=True,
    )
    secrets: ShopifySecrets

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._location_id = self.config.location_id
        self._location_discovered = False

    def _open_client(self, wiring: HttpWiring) -> ShopifyClient:
        wiring = dataclasses.replace(wiring, base_url=self._shop_url(wiring.base_url))
        return ShopifyClient(
            self.secrets.token.get_secret_value(), wiring, api_version=self.config.api_version
        )

    def _shop_url(self, url: str) -> str:
        if "{shop_domain}" in url:
            if not self.config.shop_domain:
                raise Rejected(
                    "set shop_domain (your-shop.myshopify.com) in the Shopify account config",
                    channel=self.slug,
                    field="shop_domain",
                )
            url = url.format(shop_domain=self.config.shop_domain)
        return url

    @classmethod
    def preflight(cls, product: ProductSnapshot, config: Mapping[str, Any]) -> None:
        """Refuse, without any request, what Shopify cannot take (unmapped condition/category, currency...)."""
        mapping.create_input(product, ShopifyConfig.model_validate(dict(config)), PLACEHOLDER_LOCATION)

    def pending_account_updates(self) -> tuple[dict[str, Any], dict[str, str]] | None:
        """The location found on the first call is saved in the account config (one query less per job)."""
        if self._location_discovered and self._location_id:
            return {"location_id": self._location_id}, {}
        return None

    async def location_id(self) -> str:
        if self._location_id:
            return self._location_id
        active = [loc for loc in await self.client.locations() if loc.get("isActive")]
        if not active:
            raise Rejected("the Shopify store has no active location", channel=self.slug, field="location_id")
        self._location_id = str(active[0]["id"])
        self._location_discovered = True
        log.info("shopify.location.discovered", location_id=self._location_id)
        return self._location_id

    def _reference(self, listing_id: int | None, sku: str) -> str:
        return consts.REFERENCE_URI.format(listing=listing_id if listing_id is not None else sku)

    # --- listings -----------------------------------------------------------------------------------

    async def publish(self, product: ProductSnapshot, *, remote_id: str | None = None) -> RemoteListingRef:
        """Idempotent: a known ``remote_id`` or a product found by SKU is reused, never duplicated."""
        mapping.create_input(product, self.config, PLACEHOLDER_LOCATION)  # refuses bad values before any call
        location = await self.location_id()
        existing = await self._existing_product(product.sku, remote_id, location)
        if existing is None:
            node = await self.client.product_set(
                mapping.create_input(product, self.config, location), location
            )
            log.info("shopify.listing.create.ok", remote_id=node["id"], sku=product.sku)
        else:
            node = await self._bring_back(existing, product, location)
            log.info("shopify.listing.create.reused", remote_id=node["id"], sku=product.sku)
        return mapping.listing_ref(node)

    async def _existing_product(
        self, sku: str, remote_id: str | None, location: str
    ) -> dict[str, Any] | None:
        if remote_id:
            node = await self.client.product(mapping.to_gid("Product", remote_id), location)
            if node is not None:
                return node
            # Deleted on Shopify: fall back to the SKU look-up.
        candidates = [
            node
            for node in await self.client.products_by_sku(sku, location)
            if mapping.first_variant(node).get("sku") == sku
        ]
        for wanted in _STATUS_PREFERENCE:
            for node in candidates:
                if node.get("status") == wanted:
                    return node
        return None

    async def _bring_back(
        self, node: dict[str, Any], product: ProductSnapshot, location: str
    ) -> dict[str, Any]:
        """A product found for a (re)publish: make it match the snapshot, writing only what differs."""
        wanted_status = mapping.status(self.config)
        if node.get("status") != wanted_status:
            full = mapping.update_input(product, mapping.PRODUCT_FIELDS, node.get("tags") or [])
            full["status"] = wanted_status
            node = await self.client.product_set(full, location, product_id=node["id"])
        variant = mapping.first_variant(node)
        if mapping.money(variant.get("price")) != mapping.money(mapping.price(product)):
            await self.client.variants_bulk_update(
                node["id"], [{"id": variant["id"], "price": mapping.price(product)}]
            )
        await self._adjust_stock(node, mapping.quantity(product), location, None, product.sku)
        refreshed = await self.client.product(node["id"], location)
        return refreshed or node

    async def update(self, listing: ListingSnapshot, changed_fields: set[str]) -> RemoteListingRef:
        mapping.check_update_fields(changed_fields)
        product = listing.product
        if "price" in changed_fields:
            mapping.price(product)
            if product.currency.upper() != self.config.currency.upper():
                raise Rejected(
                    f"product is priced in {product.currency} but the Shopify store sells in {self.config.currency}",
                    channel=self.slug,
                    field="currency",
                )
        location = await self.location_id()
        node = await self._require_product(listing.remote_id, location)
        product_fields = changed_fields & mapping.PRODUCT_FIELDS
        if product_fields:
            product_input = mapping.update_input(product, product_fields, node.get("tags") or [])
            node = await self.client.product_set(product_input, location, product_id=node["id"])
        if "price" in changed_fields:
            variant = mapping.first_variant(node)
            await self.client.variants_bulk_update(
                node["id"], [{"id": variant["id"], "price": mapping.price(product)}]
            )
        if changed_fields & mapping.INVENTORY_FIELDS:
            delta = await self._adjust_stock(
                node, mapping.quantity(product), location, listing.listing_id, product.sku
            )
            variant = mapping.first_variant(node)
            if isinstance(variant.get("inventoryQuantity"), int):
                variant["inventoryQuantity"] += delta
        return mapping.listing_ref(node)

    async def _require_product(self, remote_id: str, location: str) -> dict[str, Any]:
        node = await self.client.product(mapping.to_gid("Product", remote_id), location)
        if node is None:
            raise NotFound(f"Shopify product {remote_id} does not exist", channel=self.slug)
        return node

    async def _adjust_stock(
        self, node: dict[str, Any], target: int, location: str, listing_id: int | None, sku: str
    ) -> int:
        """Move the available stock to ``target`` with one delta, guarded twice: ``changeFromQuantity`` (the
        stock we read) and an ``@idempotent`` key (an inline retry of a request whose answer was lost is
        applied once). Returns the delta applied."""
        item = mapping.first_variant(node).get("inventoryItem") or {}
        if not item.get("tracked"):
            raise Rejected(
                "Shopify does not track stock for this product; turn on 'Track quantity' for its variant",
                channel=self.slug,
                field="quantity",
            )
        current = mapping.available_at_location(node) or 0
        if current == target:
            return 0
        adjust_input = {
            "name": consts.INVENTORY_NAME,
            "reason": consts.INVENTORY_REASON,
            "referenceDocumentUri": self._reference(listing_id, sku),
            "changes": [
                {
                    "delta": target - current,
                    "inventoryItemId": item["id"],
                    "locationId": location,
                    "changeFromQuantity": current,
                }
            ],
        }
        payload = await self.client.inventory_adjust(
            adjust_input, idempotency_key=new_idempotency_key(), allow=_only_stale
        )
        if not payload.get("userErrors"):
            return target - current
        fresh = await self._require_product(node["id"], location)
        now = mapping.available_at_location(fresh) or 0
        if now == target:
            return (
                target - current
            )  # already there (our own earlier write, or the same change made on Shopify)
        log.warning(
            "shopify.inventory.conflict", remote_id=node["id"], expected=current, found=now, target=target
        )
        raise InventoryConflict(
            f"Shopify's available stock changed from {current} to {now} while RIFF was setting it to {target}; "
            "it was not overwritten (a sale on Shopify may be in flight; its order decides)",
            channel=self.slug,
            field="quantity",
            body=payload.get("userErrors"),
        )

    async def end(self, listing: ListingSnapshot, reason: EndReason) -> RemoteListingRef:
        location = await self.location_id()
        node = await self._require_product(listing.remote_id, location)
        state = RemoteState.ENDED if reason == EndReason.NOT_SOLD else RemoteState.SOLD
        if node.get("status") == "ARCHIVED":
            return RemoteListingRef(id=node["id"], url=node.get("onlineStoreUrl"), state=RemoteState.ENDED)
        tracked = bool((mapping.first_variant(node).get("inventoryItem") or {}).get("tracked"))
        if tracked:
            await self._zero_stock(node, location, listing.listing_id, listing.product.sku)
        if (reason == EndReason.NOT_SOLD or not tracked) and node.get("status") != "DRAFT":
            await self.client.product_update({"id": node["id"], "status": "DRAFT"})
        log.info("shopify.listing.end.ok", remote_id=node["id"], reason=str(reason))
        return RemoteListingRef(id=node["id"], url=node.get("onlineStoreUrl"), state=state)

    async def _zero_stock(
        self, node: dict[str, Any], location: str, listing_id: int | None, sku: str
    ) -> None:
        """Set the available stock to 0 with compare-and-set; on a mismatch re-read and try again: the item
        is gone elsewhere, so ending must win over whatever changed the stock meanwhile."""
        for _ in range(consts.END_COMPARE_AND_SET_ATTEMPTS):
            current = mapping.available_at_location(node)
            if not current:
                return
            item = mapping.first_variant(node).get("inventoryItem") or {}
            payload = await self.client.inventory_set(
                {
                    "name": consts.INVENTORY_NAME,
                    "reason": consts.INVENTORY_REASON,
                    "referenceDocumentUri": self._reference(listing_id, sku),
                    "quantities": [
                        {
                            "inventoryItemId": item["id"],
                            "locationId": location,
                            "quantity": 0,
                            "changeFromQuantity": current,
                        }
                    ],
                },
                allow=_only_stale,
            )
            if not payload.get("userErrors"):
                return
            log.info("shopify.inventory.stale", remote_id=node["id"], expected=current)
            node = await self._require_product(node["id"], location)
        raise Transient(
            f"Shopify's stock for {node['id']} kept changing while RIFF set it to 0", channel=self.slug
        )

    async def archive(self, remote_id: str) -> RemoteListingRef:
        """Status ARCHIVED (the weekly job, N days after the end). Archiving an archived product succeeds."""
        product_id = mapping.to_gid("Product", remote_id)
        location = await self.location_id()
        node = await self._require_product(product_id, location)
        if node.get("status") != "ARCHIVED":
            await self.client.product_update({"id": product_id, "status": "ARCHIVED"})
        return RemoteListingRef(id=product_id, url=None, state=RemoteState.ENDED)

    async def fetch_listings(self, since: dt.datetime | None = None) -> AsyncIterator[RemoteListing]:
        """Every product (all statuses), all pages; ``since`` narrows to ``updated_at:>since`` on Shopify."""
        query = f"updated_at:>'{since.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'" if since else None
        async for page in self.client.products_pages(query=query):
            for node in page.get("nodes") or []:
                if isinstance(node, dict) and node.get("id"):
                    yield mapping.remote_listing(node, self.config.currency)

    async def get_listing(self, remote_id: str) -> RemoteListing:
        location = await self.location_id()
        node = await self._require_product(remote_id, location)
        return mapping.remote_listing(node, self.config.currency)

    # --- orders -------------------------------------------------------------------------------------

    async def fetch_orders(self, since: dt.datetime) -> list[RemoteOrder]:
        orders: dict[str, RemoteOrder] = {}
        async for page in self.client.orders_pages(query=mapping.orders_query(since)):
            for node in page.get("nodes") or []:
                if not isinstance(node, dict) or not node.get("id"):
                    continue
                if ((node.get("lineItems") or {}).get("pageInfo") or {}).get("hasNextPage"):
                    node = (
                        await self.client.order(node["id"]) or node
                    )  # more lines than a page: read it whole
                order = mapping.remote_order(node)
                orders[order.remote_id] = order  # an order updated while paging can repeat; keep the last
        return list(orders.values())

    async def fetch_order(self, remote_id: str) -> RemoteOrder:
        node = await self.client.order(mapping.to_gid("Order", remote_id))
        if node is None:
            raise NotFound(f"Shopify order {remote_id} does not exist", channel=self.slug)
        return mapping.remote_order(node)

    async def mark_shipped(self, order_id: str, carrier: str, tracking: str) -> RemoteOrder | None:
        """``fulfillmentCreate`` over every open fulfillment order's remaining lines, with the tracking.
        An order with nothing left to fulfil (a retry after success) is returned as it is."""
        mapping.fulfillment_input([], carrier, tracking, self.config.notify_customer)  # validate first
        order_gid = mapping.to_gid("Order", order_id)
        found = await self.client.fulfillment_orders(order_gid)
        if found is None:
            raise NotFound(f"Shopify order {order_id} does not exist", channel=self.slug)
        nodes = ((found.get("fulfillmentOrders") or {}).get("nodes")) or []
        fulfillment = mapping.fulfillment_input(nodes, carrier, tracking, self.config.notify_customer)
        if fulfillment is None:
            log.info("shopify.order.ship.already", order_id=order_gid)
        else:
            await self.client.fulfillment_create(fulfillment)
            log.info("shopify.order.ship.ok", order_id=order_gid)
        return await self.fetch_order(order_gid)

    # --- webhooks -----------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        secret = self.secrets.client_secret.get_secret_value() if self.secrets.client_secret else None
        return webhooks.parse(headers, body, secret)

    async def handle_webhook(self, event: WebhookEvent) -> RemoteOrder | RemoteListing | None:
        """Re-read the object through the API: one GraphQL shape to map, and always the latest state."""
        if event.topic.startswith("orders/"):
            return await self.fetch_order(event.external_id)
        if event.topic.startswith("products/"):
            return await self.get_listing(event.external_id)
        if event.topic.startswith("inventory_levels/"):
            product_id = await self.client.inventory_item_product(event.external_id)
            return await self.get_listing(product_id) if product_id else None
        return None


__all__ = ["InventoryConflict", "ShopifyChannel"]
