"""``EbayChannel``: the channel contract on top of ``EbayClient`` (Trading API) and ``mapping``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
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
from riff.channels.ebay import consts, mapping, trading, webhooks
from riff.channels.ebay.client import EbayClient
from riff.channels.ebay.mapping import EbayConfig, EbaySecrets, secret
from riff.channels.ebay.oauth import EbayOAuth
from riff.channels.ebay.trading import AlreadyEnded, DuplicateListing, Issue
from riff.channels.errors import ChannelError, NotFound, Rejected
from riff.channels.http import HttpWiring
from riff.core.clock import utcnow
from riff.core.logging import get_logger

log = get_logger(__name__)

# A publish that keeps meeting ended listings under its UUID relists at most this many times.
MAX_UUID_CHAIN = 3


@dataclasses.dataclass(frozen=True)
class InventoryChange:
    """One listing's price/quantity change for ReviseInventoryStatus."""

    listing: ListingSnapshot
    fields: frozenset[str]


@dataclasses.dataclass(frozen=True)
class InventoryResult:
    change: InventoryChange
    error: ChannelError | None = None
    warnings: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


class EbayChannel(ChannelAdapterBase[EbayConfig, EbayClient]):
    slug = consts.SLUG
    display_name = consts.DISPLAY_NAME
    default_base_url = consts.DEFAULT_BASE_URL
    config_model = EbayConfig
    secrets_model = EbaySecrets
    capabilities = Capabilities(
        webhooks=True,
        quantity_above_one=True,
        max_images=consts.MAX_PICTURES,
        variations=False,
        incremental_listing_fetch=False,  # GetMyeBaySelling has no modified-since filter
        order_polling=True,
    )
    secrets: EbaySecrets

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Warnings of the last publish/update (eBay's Ack=Warning): kept on the listing by the job.
        self.warnings: list[Issue] = []
        self._access_rules: dict[str, Any] | None = None

    def _open_client(self, wiring: HttpWiring) -> EbayClient:
        oauth = EbayOAuth(
            client_id=secret(self.secrets.client_id),
            client_secret=secret(self.secrets.client_secret),
            refresh_token=secret(self.secrets.refresh_token),
            access_token=secret(self.secrets.access_token),
            expires_at=self.config.token_expires_at(),
            scopes=self.config.scopes,
            base_url=wiring.base_url,
            transport=wiring.transport,
            counters=wiring.counters,
        )
        timeout = httpx.Timeout(self.config.timeout_seconds, connect=min(10.0, self.config.timeout_seconds))
        return EbayClient(
            oauth,
            wiring,
            site_id=self.config.site_id,
            compatibility_level=self.config.compatibility_level,
            timeout=timeout,
        )

    @classmethod
    def preflight(cls, product: ProductSnapshot, config: Mapping[str, Any]) -> None:
        """Refuse, without any call, what eBay cannot take (unmapped condition/category, no picture...)."""
        mapping.check_publishable(product, EbayConfig.model_validate(dict(config)))

    # --- account bookkeeping ---------------------------------------------------------------------------

    def pending_account_updates(self) -> tuple[dict[str, Any], dict[str, str]] | None:
        """(config, secrets) the job saves on the account: a refreshed access token and its expiry, the calls
        made today (for the budget view) and a fresh GetApiAccessRules answer."""
        config: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        token = self.client.oauth.updates()
        if token is not None:
            config.update(token[0])
            secrets.update(token[1])
        if self.client.calls:
            config[consts.CONFIG_CALL_USAGE] = merged_usage(self.config.call_usage, self.client.calls)
        if self._access_rules is not None:
            config[consts.CONFIG_ACCESS_RULES] = self._access_rules
        return (config, secrets) if config or secrets else None

    def item_url(self, item_id: str) -> str | None:
        """The listing's page (AddFixedPriceItem does not return it): the site's ``/itm/{id}`` on eBay, the
        same path on any other base URL (the local sandbox serves it)."""
        base = self.base_url.rstrip("/")
        if base == consts.EBAY_SANDBOX_BASE_URL:
            return consts.EBAY_SANDBOX_ITEM_URL.format(item_id=item_id)
        if base != consts.DEFAULT_BASE_URL:
            return f"{base}/itm/{item_id}"
        template = consts.ITEM_URLS.get(self.config.site_id)
        return template.format(item_id=item_id) if template else None

    # --- listings --------------------------------------------------------------------------------------

    async def publish(self, product: ProductSnapshot, *, remote_id: str | None = None) -> RemoteListingRef:
        """Idempotent: a known ``remote_id`` or a live listing found by SKU is reused; the create carries a
        UUID that is the same on every attempt, so a retry after a timeout gets the first listing back."""
        mapping.check_publishable(product, self.config)  # refuses unmapped values before any call
        self.warnings = []
        existing, ended = await self._existing(product.sku, remote_id)
        if existing is not None:
            log.info("ebay.listing.create.reused", remote_id=existing.id, sku=product.sku)
            return existing
        relist_of = ended
        for _ in range(MAX_UUID_CHAIN):
            uuid = mapping.listing_uuid(product, relist_of=relist_of)
            try:
                response = await self.client.add_fixed_price_item(
                    mapping.add_item_request(product, self.config, uuid)
                )
            except DuplicateListing as exc:
                found = await self._duplicate(exc)
                if found is None:
                    raise
                ref, item_ended = found
                if not item_ended:
                    log.info("ebay.listing.create.duplicate", remote_id=ref.id, sku=product.sku)
                    return ref
                relist_of = ref.id  # the UUID belongs to an ended listing: list again under a new one
                continue
            item_id = response.text("ItemID")
            if not item_id:
                raise Rejected("eBay did not return the new ItemID", channel=self.slug)
            self.warnings = response.warnings
            log.info(
                "ebay.listing.create.ok", remote_id=item_id, sku=product.sku, warnings=len(self.warnings)
            )
            return RemoteListingRef(id=item_id, url=self.item_url(item_id), state=RemoteState.LIVE)
        raise Rejected("eBay keeps answering with ended listings for this item's UUID", channel=self.slug)

    async def _existing(self, sku: str, remote_id: str | None) -> tuple[RemoteListingRef | None, str | None]:
        """(a live listing to reuse, the id of an ended one to relist from)."""
        ended: str | None = None
        if remote_id:
            try:
                ref = mapping.listing_ref(await self.client.get_item(item_id=remote_id))
            except NotFound:
                ref = None
            if ref is not None:
                if ref.state == RemoteState.LIVE:
                    return ref, None
                ended = ref.id
        try:
            found = mapping.listing_ref(await self.client.get_item(sku=sku))
        except NotFound:
            return None, ended
        if found.state == RemoteState.LIVE:
            return found, None
        return None, ended or found.id

    async def _duplicate(self, exc: DuplicateListing) -> tuple[RemoteListingRef, bool] | None:
        if not exc.item_id:
            return None
        try:
            ref = mapping.listing_ref(await self.client.get_item(item_id=exc.item_id))
        except NotFound:
            return None
        return ref, ref.state != RemoteState.LIVE

    async def update(self, listing: ListingSnapshot, changed_fields: set[str]) -> RemoteListingRef:
        """Price/quantity only -> ReviseInventoryStatus; anything else -> ReviseFixedPriceItem (with all
        the changed fields in that one call)."""
        mapping.check_update_fields(changed_fields)
        self.warnings = []
        if not changed_fields:
            return mapping.listing_ref(await self.client.get_item(item_id=listing.remote_id))
        if changed_fields <= consts.INVENTORY_FIELDS:
            async for results in self.revise_inventory([InventoryChange(listing, frozenset(changed_fields))]):
                result = results[0]
                if result.error is not None:
                    raise result.error
                self.warnings = list(result.warnings)
            return RemoteListingRef(
                id=listing.remote_id, url=self.item_url(listing.remote_id), state=RemoteState.LIVE
            )
        request = mapping.revise_item_request(listing.remote_id, listing.product, changed_fields, self.config)
        response = await self.client.revise_fixed_price_item(request)
        self.warnings = response.warnings
        return RemoteListingRef(
            id=listing.remote_id, url=self.item_url(listing.remote_id), state=RemoteState.LIVE
        )

    async def revise_inventory(
        self, changes: Sequence[InventoryChange]
    ) -> AsyncIterator[list[InventoryResult]]:
        """Price/quantity changes of many listings, at most 4 per ReviseInventoryStatus call. Yields each
        call's results so the caller can save progress before a later call fails (a Transient or
        AuthExpired of one call is raised; a refusal of single items is their result)."""
        size = consts.INVENTORY_STATUS_PER_CALL
        for start in range(0, len(changes), size):
            chunk = list(changes[start : start + size])
            statuses = [
                mapping.inventory_status(c.listing.remote_id, c.listing.product, c.fields, self.config)
                for c in chunk
            ]
            try:
                response = await self.client.revise_inventory_status(
                    mapping.revise_inventory_request(statuses)
                )
            except Rejected as exc:  # Failure: no item was revised; tell each its own error if eBay says
                issues = trading.issues_of_error(exc)
                yield [InventoryResult(c, error=_item_error(c, issues, exc)) for c in chunk]
                continue
            revised = {trading.text(node, "ItemID") for node in response.findall("InventoryStatus")}
            results = []
            for change in chunk:
                if change.listing.remote_id in revised:
                    results.append(InventoryResult(change, warnings=tuple(response.warnings)))
                else:
                    failure = trading.error_for(response.errors, call_name="ReviseInventoryStatus")
                    results.append(
                        InventoryResult(change, error=_item_error(change, response.errors, failure))
                    )
            yield results

    async def end(self, listing: ListingSnapshot, reason: EndReason) -> RemoteListingRef:
        """EndFixedPriceItem; "already closed" (1047) counts as ended. A listing sold out on eBay has already
        ended by itself, so every RIFF end reason maps to the account's ``end_reason`` (NotAvailable)."""
        request = mapping.end_item_request(listing.remote_id, self.config.end_reason)
        try:
            await self.client.end_fixed_price_item(request)
        except AlreadyEnded:
            log.info("ebay.listing.end.already", remote_id=listing.remote_id)
        state = RemoteState.SOLD if reason == EndReason.SOLD_HERE else RemoteState.ENDED
        return RemoteListingRef(id=listing.remote_id, url=self.item_url(listing.remote_id), state=state)

    async def fetch_listings(self, since: dt.datetime | None = None) -> AsyncIterator[RemoteListing]:
        """Active, then sold and unsold listings of the last 60 days, all pages; each item once."""
        seen: set[str] = set()
        size = self.config.selling_page_size
        async for _, active in self.client.my_ebay_selling_pages("ActiveList", page_size=size):
            for item in trading.findall(active, "ItemArray/Item"):
                listing = mapping.remote_listing(item, RemoteState.LIVE)
                if listing.remote_id and listing.remote_id not in seen:
                    seen.add(listing.remote_id)
                    yield listing
        days = consts.SOLD_UNSOLD_DURATION_DAYS
        async for _, sold in self.client.my_ebay_selling_pages(
            "SoldList", page_size=size, duration_days=days
        ):
            for item in _sold_items(sold):
                listing = mapping.remote_listing(item, RemoteState.SOLD)
                if listing.remote_id and listing.remote_id not in seen:
                    seen.add(listing.remote_id)
                    yield listing
        async for _, unsold in self.client.my_ebay_selling_pages(
            "UnsoldList", page_size=size, duration_days=days
        ):
            for item in trading.findall(unsold, "ItemArray/Item"):
                listing = mapping.remote_listing(item, RemoteState.ENDED)
                if listing.remote_id and listing.remote_id not in seen:
                    seen.add(listing.remote_id)
                    yield listing

    async def get_listing(self, remote_id: str) -> RemoteListing:
        return mapping.remote_listing(await self.client.get_item(item_id=remote_id))

    # --- orders ----------------------------------------------------------------------------------------

    async def fetch_orders(self, since: dt.datetime) -> list[RemoteOrder]:
        """GetOrders modified between ``since`` and now (eBay keeps 90 days), every page."""
        now = utcnow()
        oldest = now - dt.timedelta(days=consts.ORDERS_MAX_AGE_DAYS) + dt.timedelta(minutes=5)
        start = max(since, oldest)
        if start >= now:
            return []
        orders: dict[str, RemoteOrder] = {}
        async for page in self.client.orders_pages(
            mod_time_from=start, mod_time_to=now, page_size=self.config.orders_page_size
        ):
            for node in page.findall("OrderArray/Order"):
                order = mapping.remote_order(node)
                if order.remote_id:
                    orders[order.remote_id] = order  # a page shift can repeat an order; keep the last
        return list(orders.values())

    async def fetch_order(self, remote_id: str) -> RemoteOrder:
        async for page in self.client.orders_pages(order_ids=[remote_id]):
            for node in page.findall("OrderArray/Order"):
                return mapping.remote_order(node)
        raise NotFound(f"eBay has no order {remote_id}", channel=self.slug)

    async def mark_shipped(self, order_id: str, carrier: str, tracking: str) -> RemoteOrder | None:
        request = mapping.complete_sale_request(order_id, carrier, tracking, utcnow())
        await self.client.complete_sale(request)
        return await self.fetch_order(order_id)

    # --- notifications ---------------------------------------------------------------------------------

    def _keyset(self) -> tuple[str, str, str] | None:
        values = (
            secret(self.secrets.dev_id),
            secret(self.secrets.client_id),
            secret(self.secrets.client_secret),
        )
        if all(values):
            return values  # type: ignore[return-value]
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.parse(
            headers, body, keyset=self._keyset(), max_age_seconds=self.config.notification_max_age_seconds
        )

    async def handle_webhook(self, event: WebhookEvent) -> RemoteOrder | RemoteListing | None:
        """Confirm through the API: GetOrders for a transaction, GetItem for an item event."""
        if event.topic in consts.ORDER_EVENTS:
            return await self.fetch_order(str(event.payload.get("order_id") or event.external_id))
        if event.topic in consts.LISTING_EVENTS:
            return await self.get_listing(str(event.payload.get("item_id") or event.external_id))
        return None

    # --- call budget -----------------------------------------------------------------------------------

    async def refresh_access_rules(self) -> dict[str, Any]:
        """GetApiAccessRules -> ``{"fetched_at", "rules": [...]}`` (saved on the account by the job)."""
        response = await self.client.get_api_access_rules()
        rules = [_access_rule(node) for node in response.findall("ApiAccessRule")]
        self._access_rules = {"fetched_at": utcnow().isoformat(), "rules": rules}
        return self._access_rules


def _sold_items(sold: trading.Element | None) -> list[trading.Element]:
    # SoldList nests items in OrderTransaction/Transaction (single) or OrderTransaction/Order/TransactionArray.
    items = trading.findall(sold, "OrderTransactionArray/OrderTransaction/Transaction/Item")
    items += trading.findall(
        sold, "OrderTransactionArray/OrderTransaction/Order/TransactionArray/Transaction/Item"
    )
    return items


def _item_error(change: InventoryChange, issues: Sequence[Issue], fallback: ChannelError) -> ChannelError:
    """The error eBay gave for this item (its ItemID or SKU among the ErrorParameters), else the call's."""
    keys = {change.listing.remote_id, change.listing.product.sku}
    own = [issue for issue in issues if issue.is_error and keys & set(issue.parameters)]
    if own:
        return trading.error_for(own, call_name="ReviseInventoryStatus")
    return fallback


def _access_rule(node: trading.Element) -> dict[str, Any]:
    def number(name: str) -> int | None:
        value = trading.text(node, name)
        return int(value) if value and value.isdigit() else None

    return {
        "call_name": trading.text(node, "CallName"),
        "counts_toward_aggregate": trading.text(node, "CountsTowardAggregate") == "true",
        "daily_usage": number("DailyUsage"),
        "daily_soft_limit": number("DailySoftLimit"),
        "daily_hard_limit": number("DailyHardLimit"),
        "hourly_usage": number("HourlyUsage"),
        "hourly_hard_limit": number("HourlyHardLimit"),
        "period": trading.text(node, "Period"),
        "periodic_usage": number("PeriodicUsage"),
        "periodic_hard_limit": number("PeriodicHardLimit"),
        "periodic_start_date": trading.text(node, "PeriodicStartDate"),
        "status": trading.text(node, "RuleCurrentStatus"),
    }


def merged_usage(
    stored: Mapping[str, Any] | None, calls: Mapping[str, int], now: dt.datetime | None = None
) -> dict[str, Any]:
    """Today's (UTC) call counts: the stored ones plus this job's. A new day starts from zero."""
    today = (now or utcnow()).date().isoformat()
    counts: dict[str, int] = {}
    if stored and stored.get("day") == today and isinstance(stored.get("counts"), dict):
        counts = {str(k): int(v) for k, v in stored["counts"].items()}
    for name, count in calls.items():
        if name:
            counts[name] = counts.get(name, 0) + count
    return {"day": today, "counts": dict(sorted(counts.items()))}


__all__ = ["ChannelError", "EbayChannel", "InventoryChange", "InventoryResult"]
