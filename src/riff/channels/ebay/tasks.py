"""eBay's job handlers: the shared bodies in ``riff.channels.tasks`` under ``ebay.*`` kinds, plus eBay's own
where the platform differs:

- ``ebay.publish`` / ``ebay.update`` keep eBay's warnings (``Ack=Warning``) on ``listings.extras``.
- ``ebay.update`` with only price/quantity changes does not call eBay: it marks the listing and enqueues one
  coalesced ``ebay.revise_inventory`` job per account, which sends every marked listing in
  ReviseInventoryStatus calls of at most 4 (so n queued changes cost ceil(n/4) calls).
- ``ebay.webhook`` records the confirmed order under the same inbox key a poll uses, so an order seen by a
  notification and again by ``ebay.fetch_orders`` is recorded once.
- ``ebay.refresh_budget`` stores GetApiAccessRules (the daily quota per call) on the account.
"""

from __future__ import annotations

import uuid
from typing import Any

from riff.channels import service, tasks
from riff.channels.contract import RemoteListing, RemoteOrder, WebhookEvent
from riff.channels.ebay import consts, mapping
from riff.channels.ebay.adapter import EbayChannel, InventoryChange, InventoryResult
from riff.channels.ebay.trading import Issue
from riff.channels.errors import ChannelError
from riff.channels.models import ChannelAccount, ChannelEvent, Listing
from riff.channels.repository import ListingRepository
from riff.core.clock import utcnow
from riff.core.logging import get_logger
from riff.jobs import HIGH, enqueue, job_handler

log = get_logger(__name__)

PENDING_INVENTORY = "ebay_inventory_pending"  # listings.extras: price/quantity waiting for the batch
WARNINGS = "ebay_warnings"  # listings.extras: eBay's warnings of the last successful write
REVISE_INVENTORY = "ebay.revise_inventory"


def revise_inventory_key(account_id: int) -> str:
    return f"{REVISE_INVENTORY}:{account_id}"


def _ebay(channel: Any) -> EbayChannel:
    assert isinstance(channel, EbayChannel)
    return channel


def _store_warnings(listing: Listing, warnings: list[Issue] | tuple[Issue, ...]) -> None:
    extras = dict(listing.extras or {})
    if warnings:
        extras[WARNINGS] = {"at": utcnow().isoformat(), "warnings": [w.as_dict() for w in warnings]}
    else:
        extras.pop(WARNINGS, None)
    listing.extras = extras


@job_handler("ebay.publish", max_attempts=8)
async def publish(ctx: Any) -> dict[str, Any]:
    with ctx.database.read_session() as session:
        listing = tasks._require_listing(session, ctx)
        account = tasks._load_account(ctx, consts.SLUG, listing.account_id)
        known_remote_id = listing.remote_id
        snapshot = service.product_snapshot(session, listing.product, consts.SLUG, listing)
    try:
        async with tasks.connected(ctx, account) as channel:
            ref = await channel.publish(snapshot, remote_id=known_remote_id)
            warnings = _ebay(channel).warnings
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = tasks._require_listing(session, ctx)
        tasks._apply_ref(listing, remote_id=ref.id, url=ref.url, state=ref.state)
        listing.account_id = account.id
        listing.remote_price = snapshot.price
        listing.remote_currency = snapshot.currency
        listing.remote_quantity = mapping.quantity(snapshot)
        listing.last_pushed_at = utcnow()
        listing.last_error = None
        _store_warnings(listing, warnings)
    log.info("ebay.listing.publish.ok", listing_id=ctx.listing_id, remote_id=ref.id, warnings=len(warnings))
    return {"remote_id": ref.id, "state": str(ref.state), "url": ref.url, "warnings": len(warnings)}


@job_handler("ebay.update", max_attempts=8)
async def update(ctx: Any) -> dict[str, Any]:
    changed = set(ctx.payload.get("changed_fields") or [])
    if changed and changed <= consts.INVENTORY_FIELDS:
        return _defer_inventory_change(ctx, changed)
    with ctx.database.read_session() as session:
        listing = tasks._require_listing(session, ctx)
        if not listing.remote_id:
            return {"skipped": "not on the channel yet; the publish job sends current values"}
        account = tasks._load_account(ctx, consts.SLUG, listing.account_id)
        snapshot = service.listing_snapshot(session, listing)
    try:
        async with tasks.connected(ctx, account) as channel:
            await channel.update(snapshot, changed)
            warnings = _ebay(channel).warnings
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = tasks._require_listing(session, ctx)
        _store_pushed(listing, snapshot.product, changed)
        _store_warnings(listing, warnings)
    return {"remote_id": snapshot.remote_id, "changed_fields": sorted(changed)}


def _defer_inventory_change(ctx: Any, changed: set[str]) -> dict[str, Any]:
    """Mark the listing and enqueue (or join) the account's batch job, in one transaction."""
    with ctx.database.read_session() as session:
        listing = tasks._require_listing(session, ctx)
        if not listing.remote_id:
            return {"skipped": "not on the channel yet; the publish job sends current values"}
        account = tasks._load_account(ctx, consts.SLUG, listing.account_id)
    with ctx.database.session() as session:
        listing = tasks._require_listing(session, ctx)
        extras = dict(listing.extras or {})
        earlier = extras.get(PENDING_INVENTORY) or {}
        fields = sorted(set(earlier.get("fields") or []) | changed)
        # A fresh token per change: the batch clears the mark only if no newer change arrived meanwhile.
        extras[PENDING_INVENTORY] = {"fields": fields, "token": uuid.uuid4().hex, "at": utcnow().isoformat()}
        listing.extras = extras
        enqueue(
            session,
            REVISE_INVENTORY,
            channel=consts.SLUG,
            payload={"account_id": account.id},
            priority=HIGH,
            coalesce_key=revise_inventory_key(account.id),
        )
    return {"deferred": fields, "batch": REVISE_INVENTORY}


def _store_pushed(listing: Listing, product: Any, fields: set[str] | frozenset[str]) -> None:
    if "price" in fields:
        listing.remote_price = product.price
        listing.remote_currency = product.currency
    if fields & {"quantity", "is_stocked_item"}:
        listing.remote_quantity = mapping.quantity(product)
    listing.last_pushed_at = utcnow()
    listing.last_error = None


@job_handler(REVISE_INVENTORY, max_attempts=8)
async def revise_inventory(ctx: Any) -> dict[str, Any]:
    """Send every pending price/quantity change of the account, 4 listings per ReviseInventoryStatus."""
    account = tasks._load_account(ctx, consts.SLUG, ctx.payload.get("account_id"))
    changes: list[InventoryChange] = []
    tokens: dict[int, str] = {}
    with ctx.database.read_session() as session:
        for listing in ListingRepository(session).with_remote_id(consts.SLUG):
            mark = (listing.extras or {}).get(PENDING_INVENTORY)
            if not mark or listing.account_id not in (None, account.id):
                continue
            snapshot = service.listing_snapshot(session, listing)
            changes.append(InventoryChange(snapshot, frozenset(mark.get("fields") or [])))
            tokens[listing.id] = str(mark.get("token"))
    if not changes:
        return {"revised": 0, "calls": 0}
    revised = refused = calls = 0
    retry: ChannelError | None = None
    try:
        async with tasks.connected(ctx, account) as channel:
            async for results in _ebay(channel).revise_inventory(changes):
                calls += 1
                ok, failed, retryable = _record_inventory_results(ctx, results, tokens)
                revised, refused = revised + ok, refused + failed
                retry = retry or retryable
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    if retry is not None:
        raise retry  # the marks of those listings stay: the retry sends only them
    log.info("ebay.inventory.revise.ok", revised=revised, refused=refused, calls=calls)
    return {"revised": revised, "refused": refused, "calls": calls}


def _record_inventory_results(
    ctx: Any, results: list[InventoryResult], tokens: dict[int, str]
) -> tuple[int, int, ChannelError | None]:
    ok = failed = 0
    retryable: ChannelError | None = None
    with ctx.database.session() as session:
        for result in results:
            listing_id = result.change.listing.listing_id
            listing = session.get(Listing, listing_id) if listing_id is not None else None
            if listing is None:
                continue
            if result.error is not None and result.error.retryable:
                retryable = retryable or result.error
                continue
            extras = dict(listing.extras or {})
            mark = extras.get(PENDING_INVENTORY) or {}
            if mark.get("token") == tokens.get(listing.id):
                extras.pop(PENDING_INVENTORY, None)
                listing.extras = extras
            if result.error is None:
                _store_pushed(listing, result.change.listing.product, result.change.fields)
                _store_warnings(listing, result.warnings)
                ok += 1
            else:
                listing.last_error = result.error.message
                failed += 1
    return ok, failed, retryable


@job_handler("ebay.end", max_attempts=12)
async def end(ctx: Any) -> dict[str, Any]:
    return await tasks.end(ctx, consts.SLUG)


@job_handler("ebay.pull_listings", max_attempts=5)
async def pull_listings(ctx: Any) -> dict[str, Any]:
    return await tasks.pull_listings(ctx, consts.SLUG)


@job_handler("ebay.fetch_orders", max_attempts=5)
async def fetch_orders(ctx: Any) -> dict[str, Any]:
    return await tasks.fetch_orders(ctx, consts.SLUG, mapping.order_dedupe_key)


@job_handler("ebay.mark_shipped", max_attempts=8)
async def mark_shipped(ctx: Any) -> dict[str, Any]:
    return await tasks.mark_shipped(ctx, consts.SLUG)


@job_handler("ebay.webhook", max_attempts=8)
async def webhook(ctx: Any) -> dict[str, Any]:
    """Confirm a notification with GetOrders (or GetItem) and record what eBay says now."""
    event_id = int(ctx.payload["event_id"])
    with ctx.database.read_session() as session:
        stored = service.get_event(session, event_id)
        if stored.handled_at is not None:
            return {"event_id": event_id, "skipped": "already handled"}
        event_account_id = stored.account_id
        event = WebhookEvent(
            channel=stored.channel,
            topic=stored.topic,
            external_id=stored.object_id or "",
            dedupe_key=stored.external_id,
            payload=stored.payload or {},
        )
    account = tasks._load_account(ctx, consts.SLUG, event_account_id)
    try:
        async with tasks.connected(ctx, account) as channel:
            fresh = await channel.handle_webhook(event)
    except ChannelError as exc:
        with ctx.database.session() as session:
            failed = session.get(ChannelEvent, event_id)
            if failed is not None:
                failed.last_error = exc.message
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    recorded = False
    with ctx.database.session() as session:
        if isinstance(fresh, RemoteOrder):
            recorded = _record_confirmed_order(session, account, fresh)
        elif isinstance(fresh, RemoteListing):
            listing = ListingRepository(session).by_remote_id(consts.SLUG, fresh.remote_id)
            if listing is not None:
                tasks._store_remote_listing(session, listing, fresh)
        handled = session.get(ChannelEvent, event_id)
        if handled is not None:
            handled.handled_at = utcnow()
            handled.last_error = None
    return {"event_id": event_id, "topic": event.topic, "object_id": event.external_id, "recorded": recorded}


def _record_confirmed_order(session: Any, account: ChannelAccount, order: RemoteOrder) -> bool:
    """Record the order state once: under the key ``ebay.fetch_orders`` uses for the same state."""
    confirmation = WebhookEvent(
        channel=consts.SLUG,
        topic="orders/confirmed",
        external_id=order.remote_id,
        dedupe_key=mapping.order_dedupe_key(order),
        payload=order.raw,
    )
    event_id = service.record_event(session, account, confirmation, enqueue_handler=False)
    if event_id is None:
        return False
    service.record_remote_order(session, consts.SLUG, order, source="webhook")
    stored = session.get(ChannelEvent, event_id)
    if stored is not None:
        stored.handled_at = utcnow()
    return True


@job_handler("ebay.refresh_budget", max_attempts=3)
async def refresh_budget(ctx: Any) -> dict[str, Any]:
    """GetApiAccessRules -> the account (``api_access_rules``), for ``GET /api/channels/ebay/budget``."""
    account = tasks._load_account(ctx, consts.SLUG, ctx.payload.get("account_id"))
    try:
        async with tasks.connected(ctx, account) as channel:
            rules = await _ebay(channel).refresh_access_rules()
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    return {"rules": len(rules["rules"]), "fetched_at": rules["fetched_at"]}
