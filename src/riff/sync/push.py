"""Push on change: a product change enqueues, in the same transaction, one job per affected listing.

- price, text, images, quantity -> one coalesced ``<channel>.update`` per live listing, carrying only the
  fields that changed (the union of every change made before the job starts), so a price change never
  re-uploads photos;
- sold out, sold or archived -> ``<channel>.end`` for every live listing, at URGENT priority;
- stock back for a stocked item -> listings ended for lack of stock are published again.

Jobs due inside a channel's maintenance window are scheduled for its end. Nothing here commits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.models import Product, ProductStatus
from riff.channels.contract import EndReason
from riff.channels.models import ChannelAccount, Listing, ListingState
from riff.channels.registry import CHANNELS
from riff.core.clock import utcnow
from riff.core.logging import get_logger
from riff.jobs import enqueue
from riff.jobs.consts import Priority
from riff.jobs.models import Job
from riff.sync import windows
from riff.sync.config import DEFAULT_WINDOWS, get_sync_settings
from riff.sync.consts import (
    ENDED_FOR_STOCK,
    FALLBACK_UPDATABLE_FIELDS,
    PRICE_FIELDS,
    PUSHED_FIELDS,
    EventKind,
)
from riff.sync.repository import SyncRepository

log = get_logger(__name__)

# Fields whose local change time the conflict rules compare with the channel's update time.
TRACKED_FIELDS = frozenset({"price", "currency", "quantity", "title", "description", "status"})
PUBLISH_RETRY_AFTER_END = dt.timedelta(seconds=30)


@dataclasses.dataclass
class PushResult:
    updates: dict[int, set[str]] = dataclasses.field(default_factory=dict)  # listing id -> fields
    ended: list[int] = dataclasses.field(default_factory=list)  # listing ids being ended
    published: list[int] = dataclasses.field(default_factory=list)  # listing ids re-created

    @property
    def empty(self) -> bool:
        return not (self.updates or self.ended or self.published)


# -- what a channel can take -----------------------------------------------------------------------------


@functools.cache
def updatable_fields(channel: str) -> frozenset[str]:
    """The RIFF field names ``<channel>.update`` accepts (``riff.channels.<slug>.mapping.UPDATABLE_FIELDS``)."""
    try:
        mapping = importlib.import_module(f"riff.channels.{channel}.mapping")
    except ImportError:
        return FALLBACK_UPDATABLE_FIELDS
    fields = getattr(mapping, "UPDATABLE_FIELDS", None)
    return frozenset(fields) if fields else FALLBACK_UPDATABLE_FIELDS


def holds_quantity(channel: str) -> bool:
    """Does the channel keep a count above one (Reverb, eBay, Shopify), or one unit only (V&R, Discogs)?"""
    cls = CHANNELS.get(channel)
    return bool(cls is not None and cls.capabilities.quantity_above_one)


def channel_fields(channel: str, changed: Iterable[str]) -> set[str]:
    changed = set(changed)
    fields = changed & PUSHED_FIELDS
    if changed & PRICE_FIELDS:
        fields.add("price")
    if not holds_quantity(channel):
        fields.discard("quantity")  # a single-unit channel is ended at zero and re-created instead
    return fields & updatable_fields(channel)


def is_available(product: Product) -> bool:
    return product.status not in (ProductStatus.SOLD, ProductStatus.ARCHIVED) and product.quantity > 0


# -- maintenance windows ---------------------------------------------------------------------------------


def channel_windows(session: Session, channel: str, account_id: int | None = None) -> list[windows.Window]:
    """The channel's maintenance windows: the account's ``maintenance_window`` when it sets one (None
    switches it off), else ``RIFF_SYNC_MAINTENANCE_WINDOWS``, else what the adapter declares."""
    cache: dict[tuple[str, int | None], list[windows.Window]] = session.info.setdefault("sync_windows", {})
    key = (channel, account_id)
    if key in cache:
        return cache[key]
    found: list[windows.Window] | None = None
    account = session.get(ChannelAccount, account_id) if account_id else None
    if account is None:
        accounts = [a for a in SyncRepository(session).accounts(channel) if a.enabled]
        account = accounts[0] if accounts else None
    if account is not None and "maintenance_window" in (account.config or {}):
        window = windows.parse_window((account.config or {}).get("maintenance_window"))
        found = [window] if window else []
    if found is None:
        configured = get_sync_settings().windows_for(channel)
        if configured is not None:
            found = [w for w in (windows.parse_window(t) for t in configured) if w]
    if found is None:
        declared = getattr(CHANNELS.get(channel), "maintenance_window_utc", None)
        if declared:
            found = [tuple(declared)]  # type: ignore[list-item]
        else:
            found = [w for w in (windows.parse_window(t) for t in DEFAULT_WINDOWS.get(channel, [])) if w]
    cache[key] = found
    return found


def run_after_for(
    session: Session, channel: str, account_id: int | None, now: dt.datetime | None = None
) -> dt.datetime | None:
    return windows.run_after(channel_windows(session, channel, account_id), now or utcnow())


# -- enqueueing ------------------------------------------------------------------------------------------


def enqueue_update(
    session: Session,
    listing: Listing,
    fields: Collection[str],
    *,
    priority: int = Priority.HIGH,
    queued: Mapping[str, Job] | None = None,
) -> int | None:
    """One coalesced ``<channel>.update`` for the listing carrying the union of every field changed
    before it starts (the job engine keeps one queued job per key and takes the newest payload, so the
    fields already queued are merged in here). Returns the job id (the queued one when absorbed).
    ``queued``: the queued jobs by coalesce key when the caller fetched them for many listings at once."""
    if not fields:
        return None
    key = f"{listing.channel}.update:{listing.id}"
    holder = queued.get(key) if queued is not None else SyncRepository(session).queued_job(key)
    merged = set(fields) | set((holder.payload or {}).get("changed_fields") or []) if holder else set(fields)
    job = enqueue(
        session,
        f"{listing.channel}.update",
        channel=listing.channel,
        product_id=listing.product_id,
        listing_id=listing.id,
        payload={"changed_fields": sorted(merged)},
        priority=priority,
        coalesce_key=key,
        run_after=run_after_for(session, listing.channel, listing.account_id),
    )
    if job is not None:
        return int(job.id)
    return int(holder.id) if holder is not None else None


def enqueue_end(
    session: Session,
    listing: Listing,
    reason: EndReason,
    *,
    priority: int = Priority.URGENT,
    not_before: dt.datetime | None = None,
) -> int | None:
    window_end = run_after_for(session, listing.channel, listing.account_id)
    run_after = max([t for t in (window_end, not_before) if t is not None], default=None)
    job = enqueue(
        session,
        f"{listing.channel}.end",
        channel=listing.channel,
        product_id=listing.product_id,
        listing_id=listing.id,
        payload={"reason": str(reason)},
        priority=priority,
        coalesce_key=f"{listing.channel}.end:{listing.id}",
        run_after=run_after,
    )
    return int(job.id) if job is not None else None


def end_listings(
    session: Session,
    product: Product,
    listings: Iterable[Listing],
    reason: EndReason,
    *,
    for_stock: bool = False,
) -> list[int]:
    """End every live (or publishing) listing given; returns the ids of those that need a call."""
    targets: list[int] = []
    repository = SyncRepository(session)
    for listing in listings:
        if listing.state not in (ListingState.LIVE, ListingState.PENDING):
            continue
        if for_stock:
            listing.extras = {**(listing.extras or {}), ENDED_FOR_STOCK: True}
        if listing.remote_id is None:
            # Never reached the channel. Stop a queued publish; one already running gets an end that
            # retries until the remote id it is about to store exists.
            publish_key = f"{listing.channel}.publish:{listing.id}"
            queued = repository.queued_job(publish_key)
            if queued is not None:
                from riff.jobs import cancel_job

                cancel_job(session, int(queued.id))
            if repository.running_job_exists(publish_key):
                enqueue_end(session, listing, reason, not_before=utcnow() + PUBLISH_RETRY_AFTER_END)
                targets.append(listing.id)
            else:
                listing.state = ListingState.ENDED
            continue
        if not repository.running_job_exists(f"{listing.channel}.end:{listing.id}"):
            enqueue_end(session, listing, reason)  # (an end already running will end it: no second call)
        targets.append(listing.id)
    session.flush()
    return targets


def republish(session: Session, product: Product, listing: Listing, *, actor: str) -> bool:
    """Publish a listing again (stock is back); False when the channel refuses it up front."""
    from riff.channels import service as channels
    from riff.core.errors import RiffError

    try:
        channels.publish_product(session, product, listing.channel)
    except RiffError as exc:
        SyncRepository(session).add_event(
            channel=listing.channel,
            product_id=product.id,
            listing_id=listing.id,
            kind=EventKind.PUSH,
            outcome="error",
            message=f"could not publish {product.sku} on {listing.channel} again: {exc.message}",
            actor=actor,
        )
        return False
    listing.extras = {k: v for k, v in (listing.extras or {}).items() if k != ENDED_FOR_STOCK}
    return True


# -- the hook --------------------------------------------------------------------------------------------


def product_changed(
    session: Session,
    product: Product,
    changed: Iterable[str],
    *,
    actor: str = "system",
    exclude_listing_ids: Collection[int] = (),
    record: bool = True,
) -> PushResult:
    """Called in the same transaction after a product change (``riff.catalog.service``): enqueue what the
    channels need. ``exclude_listing_ids``: listings that already show the change (the channel it came
    from)."""
    changed = set(changed)
    result = PushResult()
    if not changed:
        return result
    repository = SyncRepository(session)
    now = utcnow()
    repository.touch_fields(product.id, changed & TRACKED_FIELDS, now)
    listings = [li for li in repository.listings_for_product(product.id) if li.id not in exclude_listing_ids]
    if not listings:
        return result
    if not is_available(product):
        sold_out = product.quantity == 0 or product.status == ProductStatus.SOLD
        reason = EndReason.SOLD_ELSEWHERE if sold_out else EndReason.NOT_SOLD
        result.ended = end_listings(
            session, product, listings, reason, for_stock=sold_out and product.is_stocked_item
        )
    else:
        if changed & {"quantity", "status", "is_stocked_item"} and product.is_stocked_item:
            for listing in listings:
                if listing.state in (ListingState.ENDED, ListingState.SOLD) and (listing.extras or {}).get(
                    ENDED_FOR_STOCK
                ):
                    if republish(session, product, listing, actor=actor):
                        result.published.append(listing.id)
        for listing in listings:
            if listing.state != ListingState.LIVE or listing.remote_id is None:
                continue  # a pending publish sends current values anyway
            fields = channel_fields(listing.channel, changed)
            if fields:
                enqueue_update(session, listing, fields)
                result.updates[listing.id] = fields
    if record and not result.empty:
        repository.add_event(
            product_id=product.id,
            kind=EventKind.PUSH,
            after={
                "fields": sorted(changed),
                "updates": {str(k): sorted(v) for k, v in result.updates.items()},
                "ended": result.ended,
                "published": result.published,
            },
            actor=actor,
            message=_push_message(product, result),
        )
    session.flush()
    return result


def _push_message(product: Product, result: PushResult) -> str:
    parts = []
    if result.updates:
        parts.append(f"update on {len(result.updates)} listing(s)")
    if result.ended:
        parts.append(f"end {len(result.ended)} listing(s)")
    if result.published:
        parts.append(f"publish {len(result.published)} listing(s) again")
    return f"{product.sku}: " + ", ".join(parts)


def price_rule_changed(session: Session, channel: str, *, actor: str = "system") -> int:
    """A channel's markup changed: every live listing there gets a price update (BULK priority)."""
    if "price" not in updatable_fields(channel):
        return 0
    count = 0
    for listing in SyncRepository(session).live_listings_for_channel(channel):
        enqueue_update(session, listing, {"price"}, priority=Priority.BULK)
        count += 1
    if count:
        SyncRepository(session).add_event(
            channel=channel,
            kind=EventKind.PUSH,
            after={"fields": ["price"], "listings": count},
            actor=actor,
            message=f"{channel} price rule changed: price update queued for {count} listing(s)",
        )
    return count


def publish_everywhere(
    session: Session, product: Product, channels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Publish the product to the given channels (default: every channel with an enabled account)."""
    from riff.channels import service as channels_service

    wanted = (
        list(channels)
        if channels
        else sorted(
            {a.channel for a in SyncRepository(session).accounts() if a.enabled and a.channel in CHANNELS}
        )
    )
    jobs: dict[str, Any] = {}
    for channel in wanted:
        listing, job_id = channels_service.publish_product(session, product, channel)
        jobs[channel] = {"listing_id": listing.id, "job_id": job_id}
    return jobs
