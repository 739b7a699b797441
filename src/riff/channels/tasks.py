"""Job handler bodies shared by every channel. ``riff.channels.<slug>.tasks`` registers them under
``<slug>.publish`` etc.; a channel with special needs writes its own body instead.

Each handler reads current state from the database when it runs (the payload is a hint), talks to the
marketplace outside any transaction, then records the outcome in a short transaction of its own. On a
``ChannelError`` the outcome is recorded *before* re-raising, so the job engine's rollback of the job
itself never loses it:

- ``AuthExpired``: the account is marked ``needs_attention`` with a clear message; later jobs fail at once
  without a request (``service.ensure_usable``) until the user saves new credentials.
- ``Rejected``: the platform's message, verbatim, lands on ``listings.last_error`` (and the job's error).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any, Protocol

from riff.channels import service
from riff.channels.contract import Channel, EndReason, RemoteListing, RemoteOrder, RemoteState, WebhookEvent
from riff.channels.errors import AuthExpired, ChannelError, NotFound, Rejected, Transient
from riff.channels.models import ChannelAccount, ChannelEvent, Listing, ListingState
from riff.channels.repository import ChannelEventRepository
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.security import load_secret_key
from riff.core.settings import Settings

log = get_logger(__name__)

PUBLISH_RECHECK_SECONDS = 30.0
DEFAULT_ORDER_LOOKBACK = dt.timedelta(days=7)
ORDER_CURSOR_OVERLAP = dt.timedelta(minutes=10)

_STATE_FROM_REMOTE = {
    RemoteState.LIVE: ListingState.LIVE,
    RemoteState.DRAFT: ListingState.PENDING,
    RemoteState.PENDING: ListingState.PENDING,
    RemoteState.SOLD: ListingState.SOLD,
    RemoteState.ENDED: ListingState.ENDED,
    RemoteState.SUSPENDED: ListingState.ERROR,
}


class Context(Protocol):
    """The part of ``riff.jobs.JobContext`` these handlers use."""

    payload: dict[str, Any]
    channel: str | None
    product_id: int | None
    listing_id: int | None
    database: Database
    settings: Settings

    def heartbeat(self) -> None: ...


def _rate_limiter(ctx: Context) -> Any:
    try:
        return getattr(ctx, "rate_limiter", None)
    except Exception:  # a limiter that cannot start (e.g. Redis down) must not stop the job here
        log.warning("channels.rate_limiter.unavailable", exc_info=True)
        return None


@contextlib.asynccontextmanager
async def connected(ctx: Context, account: ChannelAccount) -> AsyncIterator[Channel]:
    """An open channel for ``account``; closes its HTTP client afterwards."""
    channel = service.open_channel(account, load_secret_key(ctx.settings), rate_limiter=_rate_limiter(ctx))
    try:
        yield channel
    finally:
        await channel.aclose()
        store_account_updates(ctx, account, channel)


def store_account_updates(ctx: Context, account: ChannelAccount, channel: Channel) -> None:
    """Save what a channel refreshed on its own during the job (eBay: a new OAuth access token and its
    expiry), even when the call itself then failed. Optional: a channel exposes
    ``pending_account_updates() -> (config, secrets) | None``."""
    pending = getattr(channel, "pending_account_updates", None)
    if pending is None:
        return
    updates = pending()
    if not updates:
        return
    config, secrets = updates
    try:
        with ctx.database.session() as session:
            service.store_channel_updates(
                session, load_secret_key(ctx.settings), account.id, config=config, secrets=secrets
            )
    except Exception:  # never hide the job's own outcome behind a bookkeeping failure
        log.warning("channels.account.updates.failed", account_id=account.id, exc_info=True)


def _load_account(ctx: Context, slug: str, account_id: int | None) -> ChannelAccount:
    """The account to use, detached; ``AuthExpired`` at once (no request) while it needs attention.
    Inside the channel's maintenance window the job is rescheduled for its end (``riff.sync.pull``)."""
    from riff.sync.pull import wait_out_window

    with ctx.database.read_session() as session:
        account = service.resolve_account(session, slug, account_id)
        session.expunge(account)
        wait_out_window(session, slug, account.id)
    service.ensure_usable(account)
    return account


def record_failure(
    database: Database, exc: ChannelError, *, account_id: int | None, listing_id: int | None
) -> None:
    """Persist what the user must see about a failure, in its own transaction."""
    with database.session() as session:
        if isinstance(exc, AuthExpired) and account_id is not None:
            service.mark_needs_attention(session, account_id, _auth_message(exc))
        if listing_id is not None:
            listing = session.get(Listing, listing_id)
            if listing is not None:
                listing.last_error = exc.message
                if isinstance(exc, Rejected) and listing.state == ListingState.PENDING:
                    listing.state = ListingState.ERROR


def _auth_message(exc: AuthExpired) -> str:
    channel = exc.channel or "channel"
    status = f" (HTTP {exc.status_code})" if exc.status_code else ""
    if "riff channels set" in exc.message:  # the channel already says which secret to save
        return f"{channel} refused the credentials{status}: {exc.message}"
    return (
        f"{channel} refused the credentials{status}: {exc.message}. "
        f"Save a new token with `riff channels set <id> --secret token` or PATCH /api/channels/accounts/<id>."
    )


def _apply_ref(listing: Listing, *, remote_id: str, url: str | None, state: RemoteState) -> None:
    listing.remote_id = remote_id
    if url:
        listing.remote_url = url
    listing.state = _STATE_FROM_REMOTE.get(state, listing.state)


def _require_listing(session: Any, ctx: Context) -> Listing:
    if ctx.listing_id is None:
        raise Rejected("job has no listing_id")
    listing = session.get(Listing, ctx.listing_id)
    if listing is None:
        raise NotFound(f"listing {ctx.listing_id} no longer exists")
    return listing


async def publish(ctx: Context, slug: str) -> dict[str, Any]:
    with ctx.database.read_session() as session:
        listing = _require_listing(session, ctx)
        account = _load_account(ctx, slug, listing.account_id)
        known_remote_id = listing.remote_id
        snapshot = service.product_snapshot(session, listing.product, slug, listing)
    try:
        async with connected(ctx, account) as channel:
            ref = await channel.publish(snapshot, remote_id=known_remote_id)
    except ChannelError as exc:
        record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = _require_listing(session, ctx)
        _apply_ref(listing, remote_id=ref.id, url=ref.url, state=ref.state)
        listing.account_id = account.id
        listing.remote_price = snapshot.price
        listing.remote_currency = snapshot.currency
        listing.remote_quantity = snapshot.quantity
        listing.last_pushed_at = utcnow()
        listing.last_error = None
    log.info(f"{slug}.listing.publish.ok", listing_id=ctx.listing_id, remote_id=ref.id, state=str(ref.state))
    if ref.state in (RemoteState.PENDING, RemoteState.DRAFT) and (account.config or {}).get("publish", True):
        # Stored the remote id above, so the retry re-reads this listing instead of creating another.
        raise Transient(
            f"{slug} listing {ref.id} is not live yet", channel=slug, retry_after=PUBLISH_RECHECK_SECONDS
        )
    return {"remote_id": ref.id, "state": str(ref.state), "url": ref.url}


async def update(ctx: Context, slug: str) -> dict[str, Any]:
    changed = set(ctx.payload.get("changed_fields") or [])
    with ctx.database.read_session() as session:
        listing = _require_listing(session, ctx)
        if not listing.remote_id:
            return {"skipped": "not on the channel yet; the publish job sends current values"}
        account = _load_account(ctx, slug, listing.account_id)
        snapshot = service.listing_snapshot(session, listing)
    try:
        async with connected(ctx, account) as channel:
            ref = await channel.update(snapshot, changed)
    except ChannelError as exc:
        record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = _require_listing(session, ctx)
        if "price" in changed:
            listing.remote_price = snapshot.product.price
            listing.remote_currency = snapshot.product.currency
        if changed & {"quantity", "is_stocked_item"}:
            listing.remote_quantity = snapshot.product.quantity
        if ref.state != RemoteState.UNKNOWN:
            listing.state = _STATE_FROM_REMOTE.get(ref.state, listing.state)
        listing.last_pushed_at = utcnow()
        listing.last_error = None
    return {"remote_id": snapshot.remote_id, "changed_fields": sorted(changed)}


async def end(ctx: Context, slug: str) -> dict[str, Any]:
    reason = EndReason(ctx.payload.get("reason") or EndReason.NOT_SOLD)
    with ctx.database.read_session() as session:
        listing = _require_listing(session, ctx)
        account = _load_account(ctx, slug, listing.account_id)
        snapshot = service.listing_snapshot(session, listing)
    state = ListingState.SOLD if reason == EndReason.SOLD_HERE else ListingState.ENDED
    try:
        async with connected(ctx, account) as channel:
            await channel.end(snapshot, reason)
    except NotFound:
        log.info(f"{slug}.listing.end.missing", listing_id=ctx.listing_id, remote_id=snapshot.remote_id)
    except ChannelError as exc:
        record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = _require_listing(session, ctx)
        listing.state = state
        listing.last_pushed_at = utcnow()
        listing.last_error = None
        from riff.sync.sales import listing_end_confirmed  # sale -> delist latency

        listing_end_confirmed(session, listing)
    return {"remote_id": snapshot.remote_id, "state": str(state)}


def _store_remote_listing(session: Any, listing: Listing, remote: RemoteListing) -> None:
    """A remote listing confirmed through the API (a webhook): the sync engine applies the pull's rules."""
    from riff.sync.pull import apply_remote_listing

    apply_remote_listing(session, listing.channel, remote)


async def pull_listings(ctx: Context, slug: str) -> dict[str, Any]:
    """Pull the channel's listings and diff them against RIFF's (the sync engine: ``riff.sync.pull``)."""
    from riff.sync.pull import run_pull

    return await run_pull(ctx, slug)


def _orders_since(ctx: Context, slug: str) -> dt.datetime:
    since = ctx.payload.get("since")
    if since:
        return dt.datetime.fromisoformat(since)
    with ctx.database.read_session() as session:
        events = ChannelEventRepository(session).list(slug, limit=1)
        # Read inside the scope: closing a read scope rolls back, which expires loaded rows.
        last_received = events[0].received_at if events else None
    if last_received is not None:
        return last_received - ORDER_CURSOR_OVERLAP
    return utcnow() - DEFAULT_ORDER_LOOKBACK


async def fetch_orders(ctx: Context, slug: str, dedupe_key: Any) -> dict[str, Any]:
    """Poll orders updated since the last poll; each order state goes through the inbox, so one seen by a
    webhook and again by a poll is recorded once."""
    account = _load_account(ctx, slug, ctx.payload.get("account_id"))
    since = _orders_since(ctx, slug)
    try:
        async with connected(ctx, account) as channel:
            orders = await channel.fetch_orders(since)
    except ChannelError as exc:
        record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    new = 0
    for order in orders:
        if record_polled_order(ctx.database, slug, account, order, dedupe_key(order)):
            new += 1
    return {"since": since.isoformat(), "fetched": len(orders), "new": new}


def record_polled_order(
    database: Database, slug: str, account: ChannelAccount, order: RemoteOrder, key: str
) -> bool:
    event = WebhookEvent(
        channel=slug,
        topic="orders/poll",
        external_id=order.remote_id,
        dedupe_key=key,
        payload=order.raw,
    )
    with database.session() as session:
        event_id = service.record_event(session, account, event, enqueue_handler=False)
        if event_id is None:
            return False
        service.record_remote_order(session, slug, order, source="poll")
        stored = session.get(ChannelEvent, event_id)
        if stored is not None:
            stored.handled_at = utcnow()
    return True


async def mark_shipped(ctx: Context, slug: str) -> dict[str, Any]:
    payload = ctx.payload
    account = _load_account(ctx, slug, payload.get("account_id"))
    try:
        async with connected(ctx, account) as channel:
            order = await channel.mark_shipped(
                str(payload["order_id"]), str(payload["carrier"]), str(payload["tracking"])
            )
    except ChannelError as exc:
        record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    if order is not None:
        with ctx.database.session() as session:
            service.record_remote_order(session, slug, order, source="ship")
    return {"order_id": payload["order_id"], "status": str(order.status) if order else None}


async def handle_webhook(ctx: Context, slug: str) -> dict[str, Any]:
    """Confirm one inbox event against the API and hand the fresh object on; stamps ``handled_at``."""
    event_id = int(ctx.payload["event_id"])
    with ctx.database.read_session() as session:
        stored = service.get_event(session, event_id)
        if stored.handled_at is not None:
            return {"event_id": event_id, "skipped": "already handled"}
        event_account_id = stored.account_id
        received_at = stored.received_at
        event = WebhookEvent(
            channel=stored.channel,
            topic=stored.topic,
            external_id=stored.object_id or "",
            dedupe_key=stored.external_id,
            payload=stored.payload or {},
        )
    account = _load_account(ctx, slug, event_account_id)
    try:
        async with connected(ctx, account) as channel:
            fresh = await channel.handle_webhook(event)
    except ChannelError as exc:
        with ctx.database.session() as session:
            failed = session.get(ChannelEvent, event_id)
            if failed is not None:
                failed.last_error = exc.message
        record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    with ctx.database.session() as session:
        if isinstance(fresh, RemoteOrder):
            service.record_remote_order(session, slug, fresh, source="webhook")
        elif isinstance(fresh, RemoteListing):
            from riff.sync.pull import apply_remote_listing  # the pull's rules, for one listing

            apply_remote_listing(session, slug, fresh, received_at=received_at)
        handled = session.get(ChannelEvent, event_id)
        if handled is not None:
            handled.handled_at = utcnow()
            handled.last_error = None
    return {"event_id": event_id, "topic": event.topic, "object_id": event.external_id}
