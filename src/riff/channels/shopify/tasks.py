"""Shopify's job handlers: the shared bodies in ``riff.channels.tasks`` under ``shopify.*`` kinds, plus what
differs on Shopify:

- ``shopify.webhook``: an order is recorded once per *state* (inbox key ``order:<id>:<updated_at>:<status>``,
  the same key polls use), so deliveries that arrive out of order (``orders/paid`` before ``orders/create``)
  or twice end in one record of the latest state; a delivery whose state is already recorded, or a product
  delivery older than what RIFF holds, is skipped without an API call.
- ``shopify.end`` stamps ``extras["ended_at"]``; ``shopify.archive_ended`` (weekly, Sunday 03:00 UTC) archives
  products whose listing ended more than ``archive_after_days`` (default 14) ago.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from riff.channels import service, tasks
from riff.channels.contract import RemoteOrder, WebhookEvent
from riff.channels.errors import ChannelError, NotFound, Rejected, Transient
from riff.channels.mapping import parse_datetime
from riff.channels.models import ChannelAccount, ChannelEvent, Listing, ListingState
from riff.channels.repository import ChannelEventRepository, ListingRepository
from riff.channels.shopify import consts, mapping
from riff.channels.shopify.mapping import ShopifyConfig
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.jobs import job_handler

log = get_logger(__name__)

ORDER_STATE_TOPIC = "orders/state"
ENDED_STATES = (ListingState.ENDED, ListingState.SOLD)


def _order_key(order: RemoteOrder) -> str:
    return mapping.remote_order_key(order)


def _load_account(ctx: Any, account_id: int | None) -> ChannelAccount:
    with ctx.database.read_session() as session:
        account = service.resolve_account(session, consts.SLUG, account_id)
        session.expunge(account)
    service.ensure_usable(account)
    return account


def _set_extras(database: Database, listing_id: int | None, **values: Any) -> None:
    if listing_id is None:
        return
    with database.session() as session:
        listing = session.get(Listing, listing_id)
        if listing is not None:
            extras = {k: v for k, v in {**(listing.extras or {}), **values}.items() if v is not None}
            listing.extras = extras  # a new dict, so the JSON column is seen as changed


@job_handler("shopify.publish", max_attempts=8)
async def publish(ctx: Any) -> dict[str, Any]:
    result = await tasks.publish(ctx, consts.SLUG)
    _set_extras(ctx.database, ctx.listing_id, ended_at=None, archived_at=None)
    return result


@job_handler("shopify.update", max_attempts=8)
async def update(ctx: Any) -> dict[str, Any]:
    return await tasks.update(ctx, consts.SLUG)


@job_handler("shopify.end", max_attempts=12)
async def end(ctx: Any) -> dict[str, Any]:
    result = await tasks.end(ctx, consts.SLUG)
    _set_extras(ctx.database, ctx.listing_id, ended_at=utcnow().isoformat())
    return result


@job_handler("shopify.pull_listings", max_attempts=5)
async def pull_listings(ctx: Any) -> dict[str, Any]:
    return await tasks.pull_listings(ctx, consts.SLUG)


@job_handler("shopify.fetch_orders", max_attempts=5)
async def fetch_orders(ctx: Any) -> dict[str, Any]:
    return await tasks.fetch_orders(ctx, consts.SLUG, _order_key)


@job_handler("shopify.mark_shipped", max_attempts=8)
async def mark_shipped(ctx: Any) -> dict[str, Any]:
    return await tasks.mark_shipped(ctx, consts.SLUG)


# --- webhooks ---------------------------------------------------------------------------------------


def _mark_handled(database: Database, event_id: int, note: str | None = None) -> None:
    with database.session() as session:
        stored = session.get(ChannelEvent, event_id)
        if stored is not None:
            stored.handled_at = utcnow()
            stored.last_error = None
    if note:
        log.info("shopify.webhook.skipped", event_id=event_id, reason=note)


def record_order_state(
    database: Database, account: ChannelAccount, order: RemoteOrder, *, source: str
) -> bool:
    """Record one order state through the inbox (key shared with polls); False if it was already recorded."""
    state = WebhookEvent(
        channel=consts.SLUG,
        topic=ORDER_STATE_TOPIC,
        external_id=order.remote_id,
        dedupe_key=_order_key(order),
        payload=order.raw,
    )
    with database.session() as session:
        state_id = service.record_event(session, account, state, enqueue_handler=False)
        if state_id is None:
            return False
        service.record_remote_order(session, consts.SLUG, order, source=source)
        stored = session.get(ChannelEvent, state_id)
        if stored is not None:
            stored.handled_at = utcnow()
    return True


def _already_seen(ctx: Any, stored: ChannelEvent) -> str | None:
    """Why this delivery needs no API call: its order state is recorded, or the product is newer in RIFF."""
    payload = stored.payload or {}
    with ctx.database.read_session() as session:
        if stored.topic.startswith("orders/"):
            key = mapping.order_state_key(
                stored.object_id or "", payload.get("updated_at"), mapping.webhook_order_status(payload)
            )
            if ChannelEventRepository(session).get_by_key(consts.SLUG, key) is not None:
                return "order state already recorded"
            return None
        if stored.topic.startswith("products/"):
            listing = ListingRepository(session).by_remote_id(consts.SLUG, stored.object_id or "")
            sent = parse_datetime(payload.get("updated_at"))
            if (
                listing is not None
                and listing.remote_updated_at
                and sent
                and sent <= listing.remote_updated_at
            ):
                return "stale product update"
    return None


@job_handler("shopify.webhook", max_attempts=8)
async def webhook(ctx: Any) -> dict[str, Any]:
    event_id = int(ctx.payload["event_id"])
    with ctx.database.read_session() as session:
        stored = service.get_event(session, event_id)
        session.expunge(stored)
    if stored.handled_at is not None:
        return {"event_id": event_id, "skipped": "already handled"}
    reason = _already_seen(ctx, stored)
    if reason is not None:
        _mark_handled(ctx.database, event_id, reason)
        return {"event_id": event_id, "topic": stored.topic, "skipped": reason}
    if not stored.topic.startswith("orders/"):
        return await tasks.handle_webhook(ctx, consts.SLUG)
    return await _handle_order_event(ctx, stored)


async def _handle_order_event(ctx: Any, stored: ChannelEvent) -> dict[str, Any]:
    account = _load_account(ctx, stored.account_id)
    event = WebhookEvent(
        channel=consts.SLUG,
        topic=stored.topic,
        external_id=stored.object_id or "",
        dedupe_key=stored.external_id,
        payload=stored.payload or {},
    )
    try:
        async with tasks.connected(ctx, account) as channel:
            fresh = await channel.handle_webhook(event)
        sent = parse_datetime(event.payload.get("updated_at"))
        if isinstance(fresh, RemoteOrder) and sent and fresh.updated_at and fresh.updated_at < sent:
            # The API has not caught up with the state the (signed) delivery announced: read again shortly.
            raise Transient(
                f"Shopify order {event.external_id} reads older than its webhook",
                channel=consts.SLUG,
                retry_after=consts.ORDER_READ_LAG_RETRY_SECONDS,
            )
    except ChannelError as exc:
        with ctx.database.session() as session:
            failed = session.get(ChannelEvent, stored.id)
            if failed is not None:
                failed.last_error = exc.message
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    recorded = isinstance(fresh, RemoteOrder) and record_order_state(
        ctx.database, account, fresh, source="webhook"
    )
    _mark_handled(ctx.database, stored.id)
    return {
        "event_id": stored.id,
        "topic": stored.topic,
        "object_id": stored.object_id,
        "recorded": recorded,
        "status": str(fresh.status) if isinstance(fresh, RemoteOrder) else None,
    }


# --- the weekly archive -------------------------------------------------------------------------------


def _ended_at(listing: Listing) -> dt.datetime | None:
    stamped = parse_datetime((listing.extras or {}).get("ended_at"))
    return stamped or listing.last_pushed_at or listing.updated_at


def due_for_archive(listings: list[Listing], account_id: int, cutoff: dt.datetime) -> list[tuple[int, str]]:
    due = []
    for listing in listings:
        if listing.state not in ENDED_STATES or (listing.extras or {}).get("archived_at"):
            continue
        if listing.account_id not in (None, account_id) or not listing.remote_id:
            continue
        ended = _ended_at(listing)
        if ended is not None and ended <= cutoff:
            due.append((listing.id, listing.remote_id))
    return due


async def archive_ended(ctx: Any) -> dict[str, Any]:
    """Archive (status ARCHIVED) Shopify products whose listing ended more than ``archive_after_days`` ago.
    Each archived listing is stamped at once, so a job retried after a failure picks up where it stopped."""
    account = _load_account(ctx, ctx.payload.get("account_id"))
    config = ShopifyConfig.model_validate(account.config or {})
    cutoff = utcnow() - dt.timedelta(days=config.archive_after_days)
    with ctx.database.read_session() as session:
        due = due_for_archive(
            list(ListingRepository(session).with_remote_id(consts.SLUG)), account.id, cutoff
        )
    archived = missing = refused = 0
    try:
        async with tasks.connected(ctx, account) as channel:
            for listing_id, remote_id in due:
                ctx.heartbeat()
                try:
                    await channel.archive(remote_id)  # type: ignore[attr-defined]
                    archived += 1
                except NotFound:
                    missing += 1  # deleted on Shopify: nothing left to archive
                except Rejected as exc:
                    refused += 1
                    tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=listing_id)
                    continue
                _set_extras(ctx.database, listing_id, archived_at=utcnow().isoformat())
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    log.info("shopify.archive.ok", due=len(due), archived=archived, missing=missing, refused=refused)
    return {
        "cutoff": cutoff.isoformat(),
        "due": len(due),
        "archived": archived,
        "missing": missing,
        "refused": refused,
    }


@job_handler("shopify.archive_ended", max_attempts=5)
async def archive_ended_job(ctx: Any) -> dict[str, Any]:
    return await archive_ended(ctx)


# The job engine's default schedule fires this kind on cron "0 3 * * 0" (Sundays 03:00 UTC).
@job_handler("shopify.archive_sold", max_attempts=5)
async def archive_sold_job(ctx: Any) -> dict[str, Any]:
    return await archive_ended(ctx)
