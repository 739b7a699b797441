"""The Discogs inventory sync: the seller's listings For Sale -> RIFF products, records and listings.

Discogs' inventory has no "updated since" filter, so there are two ways to look at it:

- **full**: every page of ``status=For Sale`` (100 a page, newest first). Each listing is compared with
  what RIFF stored (a fingerprint of the listing's fields): new ones are added, changed ones updated, and
  listings RIFF holds as live that no page showed are looked up one by one (``GET
  /marketplace/listings/{id}``: Sold, Expired, Draft, or gone) and taken off. Requests: ceil(N/100) plus one
  per removed listing.
- **incremental**: page 1 only (newest first) - new listings are at the top, so the pages stop at the first
  one that holds a listing RIFF knows. Listings on the pages read are compared as above. Then the page's
  ``pagination.items`` (how many are For Sale) is checked against what RIFF expects (live known + added):
  any difference means something was sold, deleted or relisted, and the sync **escalates** to a full
  comparison, reusing the pages already read. Requests: usually 1. What it cannot see: a seller's edit of an
  older listing on discogs.com; ``auto`` mode therefore runs a full sync every ``full_sync_interval_hours``.

Listings first seen on Discogs become products (origin ``discogs``: Discogs is their master, so their
price, comments, grades and status follow the listing). Listings RIFF published keep RIFF as master: only
the listing's remote fields are stored. Each page is written in its own short transaction, so a sync that
is interrupted (a long 429, a crash) keeps what it did and the next run continues from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from riff.catalog import service as catalog_service
from riff.catalog.models import MovementReason, Product, ProductStatus
from riff.catalog.repository import ProductRepository
from riff.channels.discogs import consts, mapping
from riff.channels.discogs.adapter import DiscogsChannel
from riff.channels.discogs.repository import SYNC_KIND_PREFIX, DiscogsSyncRepository, KnownListing
from riff.channels.errors import NotFound
from riff.channels.mapping import parse_datetime
from riff.channels.models import Listing, ListingState
from riff.channels.repository import ListingRepository
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.records import service as records
from riff.records.repository import RecordRepository
from riff.records.schemas import RecordCreate
from riff.sync import sales
from riff.sync.models import SyncEvent

log = get_logger(__name__)

ORIGIN = "discogs"
ACTOR = "discogs:sync"
MAX_REMOVAL_LOOKUPS = 100  # per run; more vanished listings are ended without a look-up
PAGES_AHEAD = 2  # pages read ahead while the previous one is written
# Listing status -> (listing state in RIFF, product status for products whose master is Discogs)
GONE_STATES: dict[str, tuple[ListingState, ProductStatus]] = {
    "Sold": (ListingState.SOLD, ProductStatus.SOLD),
    "Draft": (ListingState.PENDING, ProductStatus.DRAFT),
    "Expired": (ListingState.ENDED, ProductStatus.DRAFT),
    "Suspended": (ListingState.ERROR, ProductStatus.DRAFT),
    "Violation": (ListingState.ERROR, ProductStatus.DRAFT),
    "Deleted": (ListingState.ENDED, ProductStatus.ARCHIVED),
}
MISSING = (ListingState.ENDED, ProductStatus.ARCHIVED)


@dataclasses.dataclass
class SyncStats:
    mode: str  # what was asked: auto | full | incremental
    performed: str = "incremental"  # what ran: full | incremental
    escalated: bool = False
    pages: int = 0
    requests: int = 0  # answered requests (what Discogs counts in its window); 429s apart
    rate_limited: int = 0
    waited_seconds: float = 0.0
    remote_total: int | None = None
    seen: int = 0
    added: int = 0
    linked: int = 0  # listings matched to an existing product by SKU
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0  # listings RIFF could not store (reported in the log)
    duration_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except ArithmeticError:
        return None


def record_fields(item: dict[str, Any]) -> dict[str, Any]:
    """Record fields a listing carries (the release's genres, styles and labels need ``GET /releases``)."""
    release = item.get("release") or {}
    community = (release.get("stats") or {}).get("community") or {}
    images = [i for i in release.get("images") or [] if isinstance(i, dict) and i.get("uri")]
    year = release.get("year")
    fields: dict[str, Any] = {
        "release_id": release.get("id") if isinstance(release.get("id"), int) else None,
        "artist": (release.get("artist") or "")[:500] or None,
        "title": (release.get("title") or "")[:500] or None,
        "catalog_number": (release.get("catalog_number") or "")[:200] or None,
        "format_text": (release.get("format") or "").strip("() ")[:300] or None,
        "year": year if isinstance(year, int) and 1800 <= year <= 2100 else None,
        "media_condition": item.get("condition") or None,
        "sleeve_condition": item.get("sleeve_condition") or None,
        "have_count": community.get("in_collection"),
        "want_count": community.get("in_wantlist"),
        "cover_image_url": images[0]["uri"] if images else release.get("thumbnail") or None,
        "listed_at": parse_datetime(item.get("posted")),
    }
    return fields


def _quantity(item: dict[str, Any]) -> int:
    quantity = item.get("quantity")
    return quantity if isinstance(quantity, int) and quantity > 0 else 1


def product_changes(item: dict[str, Any]) -> dict[str, Any]:
    """What a listing says about a product whose master is Discogs (API field names)."""
    price = item.get("price") or {}
    status = str(item.get("status") or "")
    live = status == consts.FOR_SALE
    changes: dict[str, Any] = {
        "price": _decimal(price.get("value")),
        "currency": str(price.get("currency") or "USD").upper(),
        "description": item.get("comments") or "",
        "status": ProductStatus.ACTIVE if live else GONE_STATES.get(status, MISSING)[1],
    }
    if live:
        quantity = _quantity(item)
        changes["quantity"] = quantity
        changes["is_stocked_item"] = quantity > 1
    return changes


def record_create(item: dict[str, Any], sku: str) -> RecordCreate:
    changes = product_changes(item)
    return RecordCreate.model_validate(
        {
            "sku": sku,
            "price": changes["price"],
            "currency": changes["currency"],
            "status": changes["status"],
            "quantity": changes.get("quantity", 1),
            "is_stocked_item": changes.get("is_stocked_item", False),
            "description": changes["description"],
            **{k: v for k, v in record_fields(item).items() if v is not None},
        }
    )


def _listing_values(item: dict[str, Any]) -> dict[str, Any]:
    price = item.get("price") or {}
    status = str(item.get("status") or "")
    state = ListingState.LIVE if status == consts.FOR_SALE else GONE_STATES.get(status, MISSING)[0]
    return {
        "remote_price": _decimal(price.get("value")),
        "remote_currency": price.get("currency"),
        "remote_quantity": _quantity(item),
        "remote_url": item.get("uri"),
        "state": state,
    }


class InventorySync:
    """One run of the inventory sync for one account (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        channel: DiscogsChannel,
        *,
        account_id: int | None,
        heartbeat: Callable[[], None] = lambda: None,
        max_removal_lookups: int = MAX_REMOVAL_LOOKUPS,
    ) -> None:
        self.database = database
        self.channel = channel
        self.account_id = account_id
        self.heartbeat = heartbeat
        self.max_removal_lookups = max_removal_lookups
        self.known: dict[str, KnownListing] = {}
        self.seen: set[str] = set()

    # --- the run ------------------------------------------------------------------------------------------

    def choose_mode(self, mode: str, now: dt.datetime) -> str:
        if mode in ("full", "incremental"):
            return mode
        with self.database.read_session() as session:
            last_full = DiscogsSyncRepository(session).last_sync("full")
        interval = dt.timedelta(hours=self.channel.config.full_sync_interval_hours)
        if last_full is None or now - last_full >= interval:
            return "full"
        return "incremental"

    async def run(self, mode: str = "auto") -> SyncStats:
        started = time.perf_counter()
        pacer = self.channel.pacer
        before = (pacer.requests, pacer.rate_limited, pacer.waited_seconds)
        now = utcnow()
        stats = SyncStats(mode=mode, performed=self.choose_mode(mode, now))
        with self.database.read_session() as session:
            self.known = DiscogsSyncRepository(session).known_listings()
        live_before = sum(1 for k in self.known.values() if k.state == ListingState.LIVE)

        initial = {remote_id: known.state for remote_id, known in self.known.items()}
        queue: asyncio.Queue[list[dict[str, Any]] | None] = asyncio.Queue(maxsize=PAGES_AHEAD)
        full = stats.performed == "full"

        async def fetch() -> None:
            """Read pages (paced) while earlier ones are written; decide when an incremental run stops."""
            nonlocal full
            fetched: set[str] = set()
            new = relisted = 0
            try:
                async for page in self.channel.inventory_pages(status=consts.FOR_SALE):
                    stats.pages += 1
                    items = [i for i in page.get("listings") or [] if isinstance(i, dict) and "id" in i]
                    if stats.remote_total is None:
                        stats.remote_total = int((page.get("pagination") or {}).get("items") or 0)
                    fresh = [i for i in items if str(i["id"]) not in fetched]
                    fetched.update(str(i["id"]) for i in fresh)
                    await queue.put(fresh)
                    if full:
                        continue
                    known_here = [initial[str(i["id"])] for i in fresh if str(i["id"]) in initial]
                    new += len(fresh) - len(known_here)
                    relisted += sum(1 for state in known_here if state != ListingState.LIVE)
                    if known_here or not items:
                        expected = live_before + new + relisted
                        if stats.remote_total == expected:
                            return
                        log.info(
                            "discogs.sync.escalate",
                            remote_total=stats.remote_total,
                            expected=expected,
                            pages_read=stats.pages,
                        )
                        stats.escalated, full = True, True
            finally:
                await queue.put(None)

        fetcher = asyncio.create_task(fetch())
        try:
            while (items := await queue.get()) is not None:
                await asyncio.to_thread(self._apply_page, items, stats)
                self.heartbeat()
        except BaseException:
            fetcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetcher
            raise
        await fetcher  # a request that failed for good raises here, after the pages before it were written
        if full:
            stats.performed = "full"
            await self._remove_vanished(stats)

        stats.rate_limited = pacer.rate_limited - before[1]
        stats.requests = pacer.requests - before[0] - stats.rate_limited
        stats.waited_seconds = round(pacer.waited_seconds - before[2], 3)
        stats.duration_seconds = round(time.perf_counter() - started, 3)
        self._record_run(stats)
        log.info("discogs.sync.ok", **stats.as_dict())
        return stats

    # --- writing a page -------------------------------------------------------------------------------------

    def _apply_page(self, items: list[dict[str, Any]], stats: SyncStats) -> None:
        if not items:
            return
        now = utcnow()
        with self.database.session() as session:
            added = self._add(session, [i for i in items if str(i["id"]) not in self.known], stats)
            for item in items:
                remote_id = str(item["id"])
                self.seen.add(remote_id)
                stats.seen += 1
                known = self.known.get(remote_id)
                if remote_id in added or known is None:
                    continue
                digest = mapping.fingerprint(item)
                if digest == known.fingerprint:
                    stats.unchanged += 1
                    continue
                self._update(session, known, item, digest)
                stats.updated += 1
            DiscogsSyncRepository(session).stamp_pulled((str(i["id"]) for i in items), now)

    def _add(self, session: Session, items: list[dict[str, Any]], stats: SyncStats) -> set[str]:
        """New listings: link each to the product its SKU names, else create product + record + listing.
        Returns the remote ids handled."""
        handled: set[str] = set()
        if not items:
            return handled
        candidates = {i["id"]: list(dict.fromkeys([mapping.sku_for(i), f"DISCOGS-{i['id']}"])) for i in items}
        products = ProductRepository(session).get_by_skus(sku for skus in candidates.values() for sku in skus)
        listings = ListingRepository(session)
        creates: list[tuple[RecordCreate, dict[str, Any]]] = []
        used_skus: set[str] = set()
        for item in items:
            remote_id = str(item["id"])
            for sku in candidates[item["id"]]:
                product = products.get(sku)
                if product is None:
                    if sku in used_skus:
                        continue  # two new listings share an external id: the second gets DISCOGS-<id>
                    used_skus.add(sku)
                    try:
                        creates.append((record_create(item, sku), item))
                    except ValidationError as exc:
                        stats.skipped += 1
                        log.warning("discogs.sync.listing.skipped", remote_id=remote_id, error=str(exc)[:300])
                    break
                existing = listings.for_product_channel(product.id, consts.SLUG)
                if existing is not None and existing.remote_id not in (None, remote_id):
                    if existing.state == ListingState.LIVE:
                        continue  # the product is already on sale as another listing
                self._link(session, product, existing, item)
                handled.add(remote_id)
                stats.linked += 1
                break
            else:
                stats.skipped += 1
                log.warning("discogs.sync.listing.skipped", remote_id=remote_id, error="no free SKU")
        if not creates:
            return handled
        created = records.create_records(
            session,
            [(data, f"discogs listing {item['id']}") for data, item in creates],
            actor=ACTOR,
            reason=MovementReason.IMPORT,
        )
        now = utcnow()
        rows = [
            {
                "product_id": product.id,
                "channel": consts.SLUG,
                "account_id": self.account_id,
                "remote_id": str(item["id"]),
                "last_pulled_at": now,
                "extras": {
                    "origin": ORIGIN,
                    "fingerprint": mapping.fingerprint(item),
                    "posted": item.get("posted"),
                },
                **_listing_values(item),
            }
            for product, (_, item) in zip(created, creates, strict=True)
        ]
        ids = DiscogsSyncRepository(session).insert_listings(rows)
        for row in rows:
            remote_id = row["remote_id"]
            handled.add(remote_id)
            self.known[remote_id] = KnownListing(
                ids[remote_id],
                row["product_id"],
                remote_id,
                row["state"],
                row["extras"]["fingerprint"],
                ORIGIN,
            )
        stats.added += len(rows)
        return handled

    def _link(
        self, session: Session, product: Product, existing: Listing | None, item: dict[str, Any]
    ) -> None:
        """A listing whose SKU names a RIFF product (imported, or published by RIFF and then lost)."""
        digest = mapping.fingerprint(item)
        remote_id = str(item["id"])
        origin = (existing.extras or {}).get("origin") if existing is not None else ORIGIN
        if existing is None:
            existing = Listing(
                product_id=product.id, channel=consts.SLUG, account_id=self.account_id, extras={}
            )
            session.add(existing)
        existing.remote_id = remote_id
        existing.account_id = existing.account_id or self.account_id
        for name, value in _listing_values(item).items():
            setattr(existing, name, value)
        existing.last_pulled_at = utcnow()
        existing.extras = {**(existing.extras or {}), "origin": origin or "riff", "fingerprint": digest}
        session.flush()
        if origin == ORIGIN:
            records.set_record(
                session,
                product,
                record_fields_present(item),
                actor=ACTOR,
                product_changes=product_changes(item),
                reason=MovementReason.IMPORT,
                reference=f"discogs listing {remote_id}",
                came_from_listing=existing.id,
            )
        self.known[remote_id] = KnownListing(
            existing.id, product.id, remote_id, existing.state, digest, origin
        )

    def _update(self, session: Session, known: KnownListing, item: dict[str, Any], digest: str) -> None:
        listing = session.get(Listing, known.listing_id)
        if listing is None:
            return
        for name, value in _listing_values(item).items():
            setattr(listing, name, value)
        listing.extras = {**(listing.extras or {}), "fingerprint": digest}
        listing.last_error = None
        if known.origin == ORIGIN:
            records.set_record(
                session,
                listing.product,
                record_fields_present(item),
                actor=ACTOR,
                product_changes=product_changes(item),
                reason=MovementReason.ADJUSTMENT,
                reference=f"discogs listing {known.remote_id}",
                came_from_listing=listing.id,
            )
        session.flush()
        self.known[known.remote_id] = dataclasses.replace(known, state=listing.state, fingerprint=digest)

    # --- removals -------------------------------------------------------------------------------------------

    async def _remove_vanished(self, stats: SyncStats) -> None:
        vanished = [
            k for k in self.known.values() if k.state == ListingState.LIVE and k.remote_id not in self.seen
        ]
        for position, known in enumerate(vanished):
            item: dict[str, Any] | None = None
            if position < self.max_removal_lookups:
                try:
                    item = await self.channel.get_listing(known.remote_id)
                except NotFound:
                    item = None
                self.heartbeat()
            status = str(item.get("status") or "") if item else "Deleted"
            if status == consts.FOR_SALE and item is not None:
                # Still for sale: it moved between pages while we read them.
                with self.database.session() as session:
                    self._update(session, known, item, mapping.fingerprint(item))
                continue
            self._take_off(known, status, item)
            stats.removed += 1

    def _take_off(self, known: KnownListing, status: str, item: dict[str, Any] | None) -> None:
        """A live listing left the For Sale pages. Sold: a sale seen before its order, so the sale path takes
        the stock and ends the product's other listings (the order, when polled, adopts it). Otherwise the
        listing ended; a product whose master is Discogs follows it (draft, or archived when deleted)."""
        state, product_status = GONE_STATES.get(status, MISSING)
        with self.database.session() as session:
            listing = session.get(Listing, known.listing_id)
            if listing is None:
                return
            if status == "Sold":
                remote = mapping.remote_listing(item) if item is not None else None
                sales.listing_sold_remotely(session, listing, remote, actor=ACTOR)
                listing.state = ListingState.SOLD
            else:
                listing.state = state
                session.flush()
                if known.origin == ORIGIN:
                    product = listing.product
                    prepared = catalog_service.prepare_changes(session, product, {"status": product_status})
                    records.write_pulled_changes(
                        session,
                        product,
                        prepared,
                        actor=ACTOR,
                        reason=MovementReason.ADJUSTMENT,
                        reference=f"discogs listing {known.remote_id} {status.lower()}",
                        listing_id=listing.id,
                    )
            listing.last_pulled_at = utcnow()
            if item is not None:
                listing.extras = {**(listing.extras or {}), "fingerprint": mapping.fingerprint(item)}
        self.known[known.remote_id] = dataclasses.replace(known, state=state)
        log.info("discogs.sync.listing.removed", remote_id=known.remote_id, status=status)

    def _record_run(self, stats: SyncStats) -> None:
        with self.database.session() as session:
            DiscogsSyncRepository(session).add_run(
                SyncEvent(
                    channel=consts.SLUG,
                    kind=SYNC_KIND_PREFIX + stats.performed,
                    after=stats.as_dict(),
                    outcome="ok",
                    message=(
                        f"discogs {stats.performed} sync: {stats.added} added, {stats.updated} updated, "
                        f"{stats.removed} removed, {stats.requests} requests"
                    ),
                    actor=ACTOR,
                )
            )


def record_fields_present(item: dict[str, Any]) -> dict[str, Any]:
    """The listing's record fields without empty ones (an update never clears enriched data)."""
    return {k: v for k, v in record_fields(item).items() if v is not None}


async def sync_inventory(
    database: Database,
    channel: DiscogsChannel,
    *,
    account_id: int | None,
    mode: str = "auto",
    heartbeat: Callable[[], None] = lambda: None,
) -> SyncStats:
    return await InventorySync(database, channel, account_id=account_id, heartbeat=heartbeat).run(mode)


async def enrich_releases(
    database: Database, channel: DiscogsChannel, *, limit: int, heartbeat: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """Read ``GET /releases/{id}`` for records whose genres, styles and labels RIFF has not seen yet, up to
    ``limit`` releases (one request each), and store them on every record of that release."""
    with database.read_session() as session:
        release_ids = RecordRepository(session).releases_missing_data(limit)
    done = records_updated = missing = 0
    for release_id in release_ids:
        try:
            release: dict[str, Any] | None = await channel.get_release(release_id)
        except NotFound:
            release, missing = None, missing + 1
        with database.session() as session:
            records_updated += records.apply_release(session, release_id, release, actor=ACTOR, now=utcnow())
        done += 1
        heartbeat()
    return {"releases": done, "records": records_updated, "not_found": missing}
