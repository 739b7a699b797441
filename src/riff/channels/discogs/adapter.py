"""``DiscogsChannel``: the channel contract on top of ``DiscogsClient`` and ``mapping``."""

from __future__ import annotations

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
from riff.channels.discogs import consts, mapping, webhooks
from riff.channels.discogs.client import DiscogsClient
from riff.channels.discogs.mapping import DiscogsConfig, DiscogsSecrets
from riff.channels.discogs.pacing import WindowPacer
from riff.channels.errors import ChannelError, NotFound, Rejected
from riff.channels.http import HttpWiring
from riff.core.logging import get_logger

log = get_logger(__name__)


class DiscogsChannel(ChannelAdapterBase[DiscogsConfig, DiscogsClient]):
    slug = consts.SLUG
    display_name = consts.DISPLAY_NAME
    default_base_url = consts.DEFAULT_BASE_URL
    config_model = DiscogsConfig
    secrets_model = DiscogsSecrets
    capabilities = Capabilities(
        webhooks=False,
        quantity_above_one=False,
        max_images=0,  # images belong to the release in Discogs' database
        variations=False,
        incremental_listing_fetch=False,  # the inventory has no updated-since filter
        order_polling=True,
    )
    secrets: DiscogsSecrets

    def _open_client(self, wiring: HttpWiring) -> DiscogsClient:
        return DiscogsClient(
            self.secrets.token.get_secret_value(),
            wiring,
            user_agent=self.config.user_agent,
            window_seconds=self.config.rate_limit_window_seconds,
        )

    @property
    def pacer(self) -> WindowPacer:
        return self.client.pacer

    @classmethod
    def preflight(cls, product: ProductSnapshot, config: Mapping[str, Any]) -> None:
        """What can be refused without a request and without the record data (the job adds that):
        the currency and the price."""
        checked = DiscogsConfig.model_validate(dict(config))
        mapping.update_changes(product, {"price"}, checked)

    # --- listings -------------------------------------------------------------------------------------

    async def publish(self, product: ProductSnapshot, *, remote_id: str | None = None) -> RemoteListingRef:
        """Idempotent: a known ``remote_id`` that still exists is reused, never duplicated.

        Discogs has no search by ``external_id``, so a lost remote id cannot be recovered by SKU; the task
        stores the id the moment ``POST /marketplace/listings`` answers.
        """
        payload = mapping.create_payload(product, self.config)  # refuses unmapped values before any call
        if remote_id:
            try:
                current = await self.client.get_listing(remote_id)
            except NotFound:
                current = None  # deleted on Discogs: list it again
            if current is not None and mapping.listing_state(current) in (
                RemoteState.LIVE,
                RemoteState.DRAFT,
            ):
                log.info("discogs.listing.create.reused", remote_id=remote_id, sku=product.sku)
                return mapping.listing_ref(current)
        body = await self.client.create_listing(payload)
        listing_id = body.get("listing_id")
        if listing_id is None:
            raise Rejected("Discogs did not return the created listing's id", channel=self.slug)
        log.info("discogs.listing.create.ok", remote_id=str(listing_id), sku=product.sku)
        state = RemoteState.LIVE if self.config.publish else RemoteState.DRAFT
        return RemoteListingRef(id=str(listing_id), url=_web_url(body.get("resource_url")), state=state)

    async def update(self, listing: ListingSnapshot, changed_fields: set[str]) -> RemoteListingRef:
        """Discogs' edit needs release_id, condition, price and status on every call: the current listing
        is read first and supplies what did not change (and refuses an edit of a sold listing early)."""
        changes = mapping.update_changes(listing.product, changed_fields, self.config)
        if not changes:
            return RemoteListingRef(id=listing.remote_id, state=RemoteState.UNKNOWN)
        current = await self.client.get_listing(listing.remote_id)
        if not mapping.edit_changes_anything(current, changes):
            log.info("discogs.listing.update.unchanged", remote_id=listing.remote_id)
            return mapping.listing_ref(current)
        await self.client.edit_listing(listing.remote_id, mapping.edit_payload(current, changes))
        return mapping.listing_ref(current)

    async def end(self, listing: ListingSnapshot, reason: EndReason) -> RemoteListingRef:
        """``DELETE`` the listing. A listing that already sold (422) or is gone (404, raised) counts as ended."""
        response = await self.client.delete_listing(listing.remote_id)
        if response.status_code == 422:
            current = await self.client.get_listing(listing.remote_id)
            ref = mapping.listing_ref(current)
            if ref.state in (RemoteState.SOLD, RemoteState.ENDED):
                log.info("discogs.listing.end.already", remote_id=listing.remote_id, state=ref.state)
                return ref
            raise Rejected.from_response(
                response, channel=self.slug, endpoint="DELETE /marketplace/listings/{id}"
            )
        return RemoteListingRef(id=listing.remote_id, state=RemoteState.ENDED)

    async def fetch_listings(self, since: dt.datetime | None = None) -> AsyncIterator[RemoteListing]:
        """Every own listing in every status, all pages (``since`` is ignored: Discogs cannot filter by it)."""
        async for page in self.client.inventory_pages(self.config.username, status="All"):
            for item in page.get("listings") or []:
                if isinstance(item, dict) and "id" in item:
                    yield mapping.remote_listing(item)

    async def inventory_pages(self, *, status: str = consts.FOR_SALE) -> AsyncIterator[dict[str, Any]]:
        """Raw inventory pages, newest listing first (the inventory sync reads the pagination too)."""
        async for page in self.client.inventory_pages(self.config.username, status=status, sort_order="desc"):
            yield page

    async def get_listing(self, remote_id: str) -> dict[str, Any]:
        return await self.client.get_listing(remote_id)

    async def get_release(self, release_id: int) -> dict[str, Any]:
        return await self.client.get_release(release_id)

    # --- orders ---------------------------------------------------------------------------------------

    async def fetch_orders(self, since: dt.datetime) -> list[RemoteOrder]:
        """Orders with activity since ``since``: newest activity first, stopping at the first older one
        (Discogs filters only on ``created_after``, which would miss a later status change)."""
        orders: dict[str, RemoteOrder] = {}
        async for page in self.client.orders_pages(sort="last_activity", sort_order="desc"):
            older_seen = False
            for item in page.get("orders") or []:
                if not isinstance(item, dict) or item.get("id") is None:
                    continue
                order = mapping.remote_order(item)
                if order.updated_at is not None and order.updated_at < since:
                    older_seen = True
                    break
                orders[order.remote_id] = order  # a page shift can repeat an order; keep the last
            if older_seen:
                break
        return list(orders.values())

    async def fetch_order(self, remote_id: str) -> RemoteOrder:
        return mapping.remote_order(await self.client.get_order(remote_id))

    async def mark_shipped(self, order_id: str, carrier: str, tracking: str) -> RemoteOrder | None:
        await self.client.add_order_message(order_id, mapping.shipped_message(carrier, tracking))
        return await self.fetch_order(order_id)

    # --- webhooks -------------------------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.parse(headers, body)

    async def handle_webhook(self, event: WebhookEvent) -> RemoteOrder | RemoteListing | None:
        """Only polled events reach the inbox; re-read the object they name."""
        if event.topic.startswith("orders/"):
            return await self.fetch_order(event.external_id)
        if event.topic.startswith("listings/"):
            return mapping.remote_listing(await self.client.get_listing(event.external_id))
        return None


def _web_url(resource_url: Any) -> str | None:
    """``.../marketplace/listings/123`` (API) -> ``.../sell/item/123`` (the listing's page)."""
    if not isinstance(resource_url, str) or "/marketplace/listings/" not in resource_url:
        return None
    base, _, listing_id = resource_url.partition("/marketplace/listings/")
    web_base = base.replace("://api.discogs.com", "://www.discogs.com")
    return f"{web_base}/sell/item/{listing_id}"


__all__ = ["ChannelError", "DiscogsChannel"]
