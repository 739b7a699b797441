"""``ReverbChannel``: the channel contract on top of ``ReverbClient`` and ``mapping``."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

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
from riff.channels.errors import ChannelError, NotFound, Rejected, parse_error_body
from riff.channels.http import HttpWiring
from riff.channels.reverb import consts, mapping, webhooks
from riff.channels.reverb.client import ReverbClient
from riff.channels.reverb.mapping import ReverbConfig, ReverbSecrets
from riff.core.logging import get_logger

log = get_logger(__name__)

# Which of several listings sharing one SKU is "ours": a live one first, then a draft.
_SKU_MATCH_PREFERENCE = (RemoteState.LIVE, RemoteState.PENDING, RemoteState.DRAFT, RemoteState.SUSPENDED)


class ReverbChannel(ChannelAdapterBase[ReverbConfig, ReverbClient]):
    slug = consts.SLUG
    display_name = consts.DISPLAY_NAME
    default_base_url = consts.DEFAULT_BASE_URL
    config_model = ReverbConfig
    secrets_model = ReverbSecrets
    capabilities = Capabilities(
        webhooks=True,
        quantity_above_one=True,
        max_images=consts.MAX_PHOTOS,
        variations=False,
        incremental_listing_fetch=False,  # /my/listings has no updated-since filter
        order_polling=True,
    )
    secrets: ReverbSecrets

    def _open_client(self, wiring: HttpWiring) -> ReverbClient:
        return ReverbClient(
            self.secrets.token.get_secret_value(), wiring, display_currency=self.config.currency
        )

    @classmethod
    def preflight(cls, product: ProductSnapshot, config: Mapping[str, Any]) -> None:
        """Refuse, without any request, what Reverb cannot take (unmapped condition/category, currency...)."""
        mapping.create_payload(product, ReverbConfig.model_validate(dict(config)))

    # --- listings -----------------------------------------------------------------------------------

    async def publish(self, product: ProductSnapshot, *, remote_id: str | None = None) -> RemoteListingRef:
        """Idempotent: a known ``remote_id`` or a listing found by SKU is reused, never duplicated.

        ``/my/listings`` is a search index that lags writes by seconds, so callers store the remote id
        as soon as it is known and pass it back on a retry.
        """
        payload = mapping.create_payload(product, self.config)  # refuses unmapped values before any call
        existing = await self._existing_listing(product.sku, remote_id)
        if existing is None:
            body = await self.client.create_listing(payload)
            listing = mapping.unwrap_listing(body)
            if "id" not in listing:
                message, field = _body_message(body)
                raise Rejected(
                    message or "Reverb did not return the created listing", channel=self.slug, field=field
                )
            log.info("reverb.listing.create.ok", remote_id=str(listing["id"]), sku=product.sku)
        else:
            listing = existing
            log.info("reverb.listing.create.reused", remote_id=str(listing["id"]), sku=product.sku)
        ref = mapping.listing_ref(listing)
        if self.config.publish and ref.state == RemoteState.DRAFT and existing is not None:
            await self.client.update_listing(ref.id, {"publish": True})
        if not self.config.publish:
            return ref
        return await self._confirm_live(ref)

    async def _existing_listing(self, sku: str, remote_id: str | None) -> dict[str, Any] | None:
        if remote_id:
            try:
                return mapping.unwrap_listing(await self.client.get_listing(remote_id))
            except NotFound:
                pass  # deleted on Reverb (drafts can be): fall back to the SKU look-up
        candidates = [
            item for item in await self.client.find_listings_by_sku(sku) if item.get("sku") in (None, sku)
        ]
        for wanted in _SKU_MATCH_PREFERENCE:
            for item in candidates:
                if mapping.listing_state(item) == wanted:
                    return item
        return None  # only ended/sold listings share the SKU: a new listing is a relist

    async def _confirm_live(self, ref: RemoteListingRef) -> RemoteListingRef:
        """Publishing and photo processing are asynchronous: re-read the listing, a bounded number of times."""
        for attempt in range(self.config.publish_poll_attempts + 1):
            if ref.state == RemoteState.LIVE:
                return ref
            if attempt == self.config.publish_poll_attempts:
                break
            await asyncio.sleep(self.config.publish_poll_interval_seconds)
            ref = mapping.listing_ref(mapping.unwrap_listing(await self.client.get_listing(ref.id)))
        if ref.state == RemoteState.DRAFT:
            ref = RemoteListingRef(id=ref.id, url=ref.url, state=RemoteState.PENDING)
        return ref

    async def update(self, listing: ListingSnapshot, changed_fields: set[str]) -> RemoteListingRef:
        payload = mapping.update_payload(listing.product, changed_fields, self.config)
        if not payload:
            return mapping.listing_ref(
                mapping.unwrap_listing(await self.client.get_listing(listing.remote_id))
            )
        body = await self.client.update_listing(listing.remote_id, payload)
        inner = mapping.unwrap_listing(body)
        if "id" in inner:
            return mapping.listing_ref(inner)
        return RemoteListingRef(id=listing.remote_id, state=RemoteState.UNKNOWN)

    async def end(self, listing: ListingSnapshot, reason: EndReason) -> RemoteListingRef:
        response = await self.client.end_listing(listing.remote_id, mapping.end_reason(reason))
        if response.status_code == 422:
            # "Already ended" counts as success; anything else (a draft, a validation error) does not.
            current = mapping.listing_ref(
                mapping.unwrap_listing(await self.client.get_listing(listing.remote_id))
            )
            if current.state in (RemoteState.ENDED, RemoteState.SOLD):
                log.info("reverb.listing.end.already", remote_id=listing.remote_id, state=current.state)
                return current
            raise Rejected.from_response(
                response, channel=self.slug, endpoint="PUT /my/listings/{id}/state/end"
            )
        body = self.client.json_body(response)
        inner = mapping.unwrap_listing(body)
        if "id" in inner:
            ref = mapping.listing_ref(inner)
            if ref.state in (RemoteState.ENDED, RemoteState.SOLD):
                return ref
        return RemoteListingRef(id=listing.remote_id, state=RemoteState.ENDED)

    async def fetch_listings(self, since: dt.datetime | None = None) -> AsyncIterator[RemoteListing]:
        """All own listings in every state, all pages (``since`` is ignored: Reverb cannot filter by it)."""
        async for page in self.client.my_listings_pages(state="all"):
            for item in page.get("listings") or []:
                if isinstance(item, dict) and "id" in item:
                    yield mapping.remote_listing(item)

    async def get_listing(self, remote_id: str) -> RemoteListing:
        return mapping.remote_listing(mapping.unwrap_listing(await self.client.get_listing(remote_id)))

    # --- orders -------------------------------------------------------------------------------------

    async def fetch_orders(self, since: dt.datetime) -> list[RemoteOrder]:
        orders: dict[str, RemoteOrder] = {}
        async for page in self.client.selling_orders_pages(updated_start=since):
            for item in page.get("orders") or []:
                if isinstance(item, dict) and item.get("order_number") is not None:
                    order = mapping.remote_order(item)
                    orders[order.remote_id] = order  # a page shift can repeat an order; keep the last
        return list(orders.values())

    async def fetch_order(self, remote_id: str) -> RemoteOrder:
        return mapping.remote_order(await self.client.get_order(remote_id))

    async def mark_shipped(self, order_id: str, carrier: str, tracking: str) -> RemoteOrder | None:
        payload = mapping.ship_payload(carrier, tracking)
        body = await self.client.ship_order(order_id, payload)
        if body.get("order_number") is not None:
            return mapping.remote_order(body)
        return await self.fetch_order(order_id)

    # --- webhooks -----------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.parse(headers, body)

    async def handle_webhook(self, event: WebhookEvent) -> RemoteOrder | RemoteListing | None:
        """Re-read the object from the API: the unsigned body only tells us what to look at."""
        if event.topic.startswith("orders/"):
            return await self.fetch_order(event.external_id)
        if event.topic.startswith("listings/"):
            return await self.get_listing(event.external_id)
        return None


def _body_message(body: dict[str, Any]) -> tuple[str, str | None]:
    return parse_error_body(httpx.Response(200, json=body))


__all__ = ["ChannelError", "ReverbChannel"]
