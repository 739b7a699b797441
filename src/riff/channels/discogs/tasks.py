"""Discogs' job handlers. The shared bodies in ``riff.channels.tasks`` serve end, fetch_orders,
mark_shipped and webhook; what differs on Discogs:

- ``discogs.publish`` / ``discogs.update``: a listing is a *release* in a grade, so the product snapshot
  gets the record's release id and grades (``attributes["record"]``) before the adapter sees it;
- ``discogs.pull_listings`` (hourly by default, ``riff.jobs.consts.DEFAULT_SCHEDULES``): the inventory sync
  (``inventory.py``); payload ``{"mode": "auto"|"full"|"incremental"}`` (default: the account's
  ``sync_mode``). When records lack their release data afterwards it enqueues ``discogs.enrich_releases``;
- ``discogs.enrich_releases``: ``GET /releases/{id}`` for up to ``release_lookups_per_run`` releases.
"""

from __future__ import annotations

from typing import Any

from riff.channels import service, tasks
from riff.channels.contract import ProductSnapshot
from riff.channels.discogs import consts, inventory, mapping
from riff.channels.discogs.adapter import DiscogsChannel
from riff.channels.errors import ChannelError
from riff.channels.models import Listing
from riff.core.clock import utcnow
from riff.core.logging import get_logger
from riff.jobs import Priority, enqueue, job_handler
from riff.records.repository import RecordRepository
from riff.records.service import current_fields

log = get_logger(__name__)


def _with_record(session: Any, snapshot: ProductSnapshot) -> ProductSnapshot:
    """The snapshot with the record's release id and grades under ``attributes["record"]``."""
    record = RecordRepository(session).get(snapshot.product_id) if snapshot.product_id else None
    if record is None:
        return snapshot
    fields = {
        k: v
        for k, v in current_fields(record).items()
        if k in ("release_id", "media_condition", "sleeve_condition")
    }
    return snapshot.model_copy(update={"attributes": {**snapshot.attributes, mapping.RECORD_KEY: fields}})


def _listing(session: Any, ctx: Any) -> Listing:
    return tasks._require_listing(session, ctx)


@job_handler("discogs.publish", max_attempts=8)
async def publish(ctx: Any) -> dict[str, Any]:
    with ctx.database.read_session() as session:
        listing = _listing(session, ctx)
        account = tasks._load_account(ctx, consts.SLUG, listing.account_id)
        known_remote_id = listing.remote_id
        snapshot = _with_record(
            session, service.product_snapshot(session, listing.product, consts.SLUG, listing)
        )
    try:
        async with tasks.connected(ctx, account) as channel:
            ref = await channel.publish(snapshot, remote_id=known_remote_id)
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = _listing(session, ctx)
        tasks._apply_ref(listing, remote_id=ref.id, url=ref.url, state=ref.state)
        listing.account_id = account.id
        listing.remote_price = snapshot.price
        listing.remote_currency = snapshot.currency
        listing.remote_quantity = snapshot.quantity
        listing.last_pushed_at = utcnow()
        listing.last_error = None
        listing.extras = {**(listing.extras or {}), "origin": (listing.extras or {}).get("origin", "riff")}
    log.info("discogs.listing.publish.ok", listing_id=ctx.listing_id, remote_id=ref.id, state=str(ref.state))
    return {"remote_id": ref.id, "state": str(ref.state), "url": ref.url}


@job_handler("discogs.update", max_attempts=8)
async def update(ctx: Any) -> dict[str, Any]:
    changed = set(ctx.payload.get("changed_fields") or [])
    with ctx.database.read_session() as session:
        listing = _listing(session, ctx)
        if not listing.remote_id:
            return {"skipped": "not on Discogs yet; the publish job sends current values"}
        account = tasks._load_account(ctx, consts.SLUG, listing.account_id)
        snapshot = service.listing_snapshot(session, listing)
        snapshot = snapshot.model_copy(update={"product": _with_record(session, snapshot.product)})
    try:
        async with tasks.connected(ctx, account) as channel:
            ref = await channel.update(snapshot, changed)
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=ctx.listing_id)
        raise
    with ctx.database.session() as session:
        listing = _listing(session, ctx)
        if "price" in changed:
            listing.remote_price = snapshot.product.price
            listing.remote_currency = snapshot.product.currency
        listing.last_pushed_at = utcnow()
        listing.last_error = None
    return {"remote_id": snapshot.remote_id, "changed_fields": sorted(changed), "state": str(ref.state)}


@job_handler("discogs.end", max_attempts=12)
async def end(ctx: Any) -> dict[str, Any]:
    return await tasks.end(ctx, consts.SLUG)


@job_handler("discogs.pull_listings", max_attempts=5)
async def pull_listings(ctx: Any) -> dict[str, Any]:
    """The inventory sync. A 429 is waited out inside the run (the pacer reads Discogs' headers); what
    escapes is retried by the job engine, and pages already written stay written."""
    account = tasks._load_account(ctx, consts.SLUG, ctx.payload.get("account_id"))
    try:
        async with tasks.connected(ctx, account) as channel:
            assert isinstance(channel, DiscogsChannel)
            mode = str(ctx.payload.get("mode") or channel.config.sync_mode)
            stats = await inventory.sync_inventory(
                ctx.database, channel, account_id=account.id, mode=mode, heartbeat=ctx.heartbeat
            )
            lookups = channel.config.release_lookups_per_run
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    if lookups > 0:
        with ctx.database.session() as session:
            if RecordRepository(session).releases_missing_data(1):
                enqueue(
                    session,
                    "discogs.enrich_releases",
                    channel=consts.SLUG,
                    payload={"account_id": account.id},
                    priority=Priority.BULK,
                    coalesce_key="discogs.enrich_releases",
                )
    return stats.as_dict()


@job_handler("discogs.enrich_releases", max_attempts=5)
async def enrich_releases(ctx: Any) -> dict[str, Any]:
    account = tasks._load_account(ctx, consts.SLUG, ctx.payload.get("account_id"))
    try:
        async with tasks.connected(ctx, account) as channel:
            assert isinstance(channel, DiscogsChannel)
            limit = int(ctx.payload.get("limit") or channel.config.release_lookups_per_run)
            return await inventory.enrich_releases(
                ctx.database, channel, limit=limit, heartbeat=ctx.heartbeat
            )
    except ChannelError as exc:
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise


@job_handler("discogs.fetch_orders", max_attempts=5)
async def fetch_orders(ctx: Any) -> dict[str, Any]:
    return await tasks.fetch_orders(ctx, consts.SLUG, mapping.order_dedupe_key)


@job_handler("discogs.mark_shipped", max_attempts=8)
async def mark_shipped(ctx: Any) -> dict[str, Any]:
    return await tasks.mark_shipped(ctx, consts.SLUG)


@job_handler("discogs.webhook", max_attempts=8)
async def webhook(ctx: Any) -> dict[str, Any]:
    return await tasks.handle_webhook(ctx, consts.SLUG)
