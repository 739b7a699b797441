"""Pull: read a channel's listings and bring RIFF in line, set-based, in chunks.

``run_pull`` (the ``<channel>.pull_listings`` job, ``riff sync CHANNEL``, ``POST /api/sync/{channel}``)
streams the channel's listings (since the last pull minus a lookback window where the platform filters by
update time, all of them otherwise) into a ``Differ``:

1. per chunk of ``RIFF_SYNC_PULL_CHUNK`` remote listings, one query loads the local listings (and their
   products) with those remote ids; the comparison runs in Python on plain rows, without a lock;
2. rows that only refresh what RIFF knows of the remote side (last seen price, quantity, title, state) are
   written with one executemany; rows that need a decision (changed on the channel, sold, ended,
   relisted) are decided in a short write transaction that locks their products first and re-reads them,
   so a sale running at the same moment is never overwritten;
3. remote listings RIFF does not know go to ``sync_unmatched`` with their best product candidates (once:
   the user's answer is remembered);
4. after a full pull, live listings the channel no longer has are marked ended (unless the pull saw so few
   that it is more likely the channel's answer was incomplete).

Memory stays bounded by the chunk (plus the set of remote ids seen, on a full pull).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog import service as catalog
from riff.catalog.models import MovementReason, Product
from riff.catalog.pricing import effective_price
from riff.channels.contract import RemoteListing, RemoteState
from riff.channels.errors import ChannelError
from riff.channels.models import Listing, ListingState
from riff.channels.registry import CHANNELS
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.jobs.errors import RetryableJobError
from riff.sync import matching, push, sales
from riff.sync.config import SyncSettings, get_sync_settings
from riff.sync.conflicts import Winner, changed_remotely, remote_time, same, winner
from riff.sync.consts import MISSING_SAFETY_MIN, MISSING_SAFETY_RATIO, REMOTE_TITLE_KEY, EventKind, Outcome
from riff.sync.locks import lock_products
from riff.sync.models import UnmatchedStatus
from riff.sync.repository import StagedRow, SyncRepository

log = get_logger(__name__)

STATE_FROM_REMOTE = {
    RemoteState.LIVE: ListingState.LIVE,
    RemoteState.DRAFT: ListingState.PENDING,
    RemoteState.PENDING: ListingState.PENDING,
    RemoteState.SOLD: ListingState.SOLD,
    RemoteState.ENDED: ListingState.ENDED,
    RemoteState.SUSPENDED: ListingState.ERROR,
}
DONE = (ListingState.ENDED, ListingState.SOLD)
ACTIVE = (ListingState.LIVE, ListingState.PENDING)


def _s(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@dataclasses.dataclass
class Change:
    remote: RemoteListing
    local: StagedRow
    decisions: list[str]


@dataclasses.dataclass
class PullStats:
    channel: str
    full: bool
    since: str | None = None
    seen: int = 0
    known: int = 0
    refreshed: int = 0
    decided: int = 0
    unknown: int = 0
    unknown_new: int = 0
    missing: int = 0
    decisions: Counter[str] = dataclasses.field(default_factory=Counter)
    fetch_seconds: float = 0.0
    diff_seconds: float = 0.0
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["decisions"] = dict(self.decisions)
        data["fetch_seconds"] = round(self.fetch_seconds, 3)
        data["diff_seconds"] = round(self.diff_seconds, 3)
        return data


@dataclasses.dataclass
class Classified:
    decisions: list[str]  # need a decision under lock: price, quantity, title, sold, ended, relisted, state
    values: dict[str, Any]  # remote-observed columns to refresh (never RIFF's own data)
    title: str | None  # the remote title to remember (merged into extras atomically)


def classify(
    remote: RemoteListing, local: StagedRow, *, holds_quantity: bool, now: dt.datetime
) -> Classified:
    """Compare one remote listing with what RIFF knows of it (no database access)."""
    decisions: list[str] = []
    values: dict[str, Any] = {}
    title: str | None = None
    if remote.price is not None and not same(remote.price, local.remote_price):
        if changed_remotely(remote.price, local.remote_price):
            decisions.append("price")
        else:
            values["remote_price"] = remote.price
            values["remote_currency"] = remote.currency
    if remote.quantity is not None and not same(remote.quantity, local.remote_quantity):
        stocked = local.is_stocked_item and holds_quantity
        if stocked and changed_remotely(remote.quantity, local.remote_quantity):
            decisions.append("quantity")
        else:
            values["remote_quantity"] = remote.quantity
    last_title = local.remote_title
    if remote.title and remote.title != last_title:
        if changed_remotely(remote.title, last_title):
            decisions.append("title")
        else:
            title = remote.title
    mapped = STATE_FROM_REMOTE.get(remote.state)
    if remote.state == RemoteState.SOLD and local.state in ACTIVE:
        decisions.append("sold")
    elif remote.state == RemoteState.ENDED and local.state == ListingState.LIVE:
        decisions.append("ended")
    elif remote.state == RemoteState.LIVE and local.state in DONE:
        decisions.append("relisted")
    elif mapped is not None and mapped != local.state and not (local.state in DONE and mapped in DONE):
        decisions.append("state")
    if values or decisions or title:
        if remote.updated_at is not None:
            values["remote_updated_at"] = remote.updated_at
        if remote.url:
            values["remote_url"] = remote.url
        values["last_pulled_at"] = now
    return Classified(decisions, values, title)


class Differ:
    """Diffs remote listings against local ones chunk by chunk and applies the outcome (see module doc)."""

    def __init__(
        self,
        database: Database,
        channel: str,
        *,
        full: bool,
        actor: str | None = None,
        settings: SyncSettings | None = None,
        received_at: dt.datetime | None = None,
    ) -> None:
        self.database = database
        self.channel = channel
        self.full = full
        self.actor = actor or f"sync:{channel}"
        self.settings = settings or get_sync_settings()
        self.received_at = received_at
        self.stats = PullStats(channel=channel, full=full)
        self.seen_ids: set[str] = set()
        self.holds_quantity = push.holds_quantity(channel)
        self._matcher: matching.Matcher | None = None
        self._events: list[dict[str, Any]] = []
        self._updates: dict[int, tuple[Listing, set[str]]] = {}
        self._queued: dict[str, Any] = {}
        self._last: dict[tuple[int, str], Any] = {}

    # -- per chunk ------------------------------------------------------------------------------------

    def feed(self, remotes: Iterable[RemoteListing]) -> None:
        started = time.perf_counter()
        by_id = {remote.remote_id: remote for remote in remotes}
        if not by_id:
            return
        self.stats.seen += len(by_id)
        if self.full:
            self.seen_ids.update(by_id)
        ids = list(by_id)
        with self.database.read_session() as session:
            local = SyncRepository(session).staged_rows(self.channel, ids)
        now = utcnow()
        changes: list[Change] = []
        refresh: list[dict[str, Any]] = []
        titles: list[tuple[int, str]] = []
        unknown: list[RemoteListing] = []
        for remote_id, remote in by_id.items():
            row = local.get(remote_id)
            if row is None:
                unknown.append(remote)
                continue
            found = classify(remote, row, holds_quantity=self.holds_quantity, now=now)
            if found.decisions:
                changes.append(Change(remote, row, found.decisions))
                continue
            if found.values:
                refresh.append({"id": row.listing_id, **found.values})
            if found.title is not None:
                titles.append((row.listing_id, found.title))
        self.stats.known += len(local)
        if refresh or changes or unknown or titles:
            with self.database.session() as session:
                self.apply(session, changes, refresh, unknown, titles)
        self.stats.diff_seconds += time.perf_counter() - started

    def apply(
        self,
        session: Session,
        changes: Sequence[Change],
        refresh: list[dict[str, Any]],
        unknown: Sequence[RemoteListing],
        titles: Sequence[tuple[int, str]] = (),
    ) -> None:
        repository = SyncRepository(session)
        if changes:
            # Lock discipline: products first (id order), then their listings, re-read under the lock.
            products = lock_products(session, (c.local.product_id for c in changes))
            listings = _reload_listings(session, [c.local.listing_id for c in changes])
            times = repository.field_changes(products, ["price", "quantity", "title"])
            rule = repository.price_rule(self.channel)
            # What the decisions look up, fetched once for the chunk: the queued update job of each listing
            # (to merge fields into) and each listing's last decision (not to push the same value twice).
            self._queued = repository.queued_jobs(
                [f"{self.channel}.update:{listing_id}" for listing_id in listings]
            )
            self._last = repository.last_events(
                list(listings), [EventKind.REMOTE_PRICE, EventKind.REMOTE_QUANTITY, EventKind.REMOTE_TITLE]
            )
            with session.no_autoflush:  # one flush at the end, not one per statement
                for change in changes:
                    listing = listings.get(change.local.listing_id)
                    product = products.get(change.local.product_id)
                    if listing is None or product is None:
                        continue
                    self._decide(session, change, product, listing, times, rule)
                    self.stats.decided += 1
                for listing, fields in self._updates.values():
                    push.enqueue_update(session, listing, fields, queued=self._queued)
            repository.add_events(self._events)
            self._events, self._updates = [], {}
            session.flush()
        if refresh:
            _bulk_update(repository, refresh)
            self.stats.refreshed += len(refresh)
        if titles:
            repository.remember_remote_titles(REMOTE_TITLE_KEY, titles)
        if unknown:
            self._unknown(session, unknown)

    # -- decisions ------------------------------------------------------------------------------------

    def _event(
        self,
        session: Session,
        listing: Listing,
        kind: EventKind,
        outcome: Outcome,
        before: Any,
        after: Any,
        message: str,
    ) -> None:
        """A decision, written with the chunk's others in one executemany (``apply``)."""
        self._events.append(
            {
                "channel": self.channel,
                "product_id": listing.product_id,
                "listing_id": listing.id,
                "kind": str(kind),
                "outcome": str(outcome),
                "before": before,
                "after": after,
                "message": message,
                "actor": self.actor,
                "at": utcnow(),
            }
        )
        self.stats.decisions[f"{kind}:{outcome}"] += 1

    def _update(self, session: Session, listing: Listing, field: str) -> None:
        """Queue RIFF's value for the channel; one update job per listing, after the chunk's decisions."""
        self._updates.setdefault(listing.id, (listing, set()))[1].add(field)

    def _decide(
        self,
        session: Session,
        change: Change,
        product: Product,
        listing: Listing,
        times: dict[tuple[int, str], dt.datetime],
        rule: Any,
    ) -> None:
        remote = change.remote
        for decision in change.decisions:
            if decision == "price":
                self._price(session, remote, product, listing, times, rule)
            elif decision == "quantity":
                self._quantity(session, remote, product, listing, times)
            elif decision == "title":
                self._title(session, remote, product, listing, times)
            elif decision == "sold":
                self._sold(session, remote, listing)
            elif decision == "ended":
                self._ended(session, remote, product, listing)
            elif decision == "relisted":
                self._relisted(session, remote, product, listing)
            elif decision == "state":
                self._state(remote, listing)
        if remote.updated_at is not None:
            listing.remote_updated_at = remote.updated_at
        if remote.url:
            listing.remote_url = remote.url
        listing.last_pulled_at = utcnow()

    def _winner(
        self,
        field: str,
        product: Product,
        listing: Listing,
        remote: RemoteListing,
        times: dict[tuple[int, str], dt.datetime],
    ) -> Winner:
        local_changed = times.get((product.id, field)) or product.created_at
        return winner(
            self.settings.owner(self.channel, field),
            local_changed_at=local_changed,
            remote_updated_at=remote_time(remote.updated_at, listing.last_pushed_at),
        )

    def _pushed_back_already(self, listing: Listing, kind: EventKind, key: str, value: Any) -> bool:
        """RIFF pushed its value over this very remote value before and the channel shows it again: the
        channel transforms what it gets (rounding, a length limit); pushing again would never end."""
        last = self._last.get((listing.id, str(kind)))
        return bool(
            last is not None
            and last.outcome == Outcome.PUSHED_LOCAL
            and (last.after or {}).get(key) == _s(value)
        )

    def _price(
        self,
        session: Session,
        remote: RemoteListing,
        product: Product,
        listing: Listing,
        times: dict[tuple[int, str], dt.datetime],
        rule: Any,
    ) -> None:
        if remote.price is None or same(remote.price, listing.remote_price):
            return
        expected = effective_price(product.base_price, rule, listing.price_override)
        seen = listing.remote_price
        listing.remote_price = remote.price
        listing.remote_currency = remote.currency or listing.remote_currency
        if same(remote.price, expected):
            return  # the channel now shows what RIFF wants anyway
        before = {
            "price_override": _s(listing.price_override),
            "remote_price": _s(seen),
            "price": _s(expected),
        }
        if self._winner("price", product, listing, remote, times) == Winner.REMOTE:
            listing.price_override = remote.price
            self._event(session, listing, EventKind.REMOTE_PRICE, Outcome.ACCEPTED_REMOTE, before,
                        {"price_override": _s(remote.price), "remote_price": _s(remote.price)},
                        f"{product.sku}: price {remote.price} set on {self.channel} kept (override)")  # fmt: skip
        elif not self._pushed_back_already(listing, EventKind.REMOTE_PRICE, "remote_price", remote.price):
            self._update(session, listing, "price")
            self._event(session, listing, EventKind.REMOTE_PRICE, Outcome.PUSHED_LOCAL, before,
                        {"price": _s(expected), "remote_price": _s(remote.price)},
                        f"{product.sku}: price {remote.price} set on {self.channel} replaced by RIFF's {expected}")  # fmt: skip

    def _quantity(
        self,
        session: Session,
        remote: RemoteListing,
        product: Product,
        listing: Listing,
        times: dict[tuple[int, str], dt.datetime],
    ) -> None:
        if remote.quantity is None or same(remote.quantity, listing.remote_quantity):
            return
        seen = listing.remote_quantity
        listing.remote_quantity = remote.quantity
        if remote.quantity == product.quantity:
            return
        before = {"quantity": product.quantity, "remote_quantity": seen}
        if self._winner("quantity", product, listing, remote, times) == Winner.REMOTE:
            catalog.set_quantity(
                session, product, remote.quantity, MovementReason.ADJUSTMENT, self.actor,
                f"changed on {self.channel}", sync=False,
            )  # fmt: skip
            push.product_changed(
                session, product, ["quantity"], actor=self.actor, exclude_listing_ids={listing.id}
            )
            self._event(session, listing, EventKind.REMOTE_QUANTITY, Outcome.ACCEPTED_REMOTE, before,
                        {"quantity": product.quantity, "remote_quantity": remote.quantity},
                        f"{product.sku}: quantity {remote.quantity} set on {self.channel} taken into RIFF")  # fmt: skip
        elif not self._pushed_back_already(
            listing, EventKind.REMOTE_QUANTITY, "remote_quantity", remote.quantity
        ):
            self._update(session, listing, "quantity")
            self._event(session, listing, EventKind.REMOTE_QUANTITY, Outcome.PUSHED_LOCAL, before,
                        {"quantity": product.quantity, "remote_quantity": remote.quantity},
                        f"{product.sku}: quantity {remote.quantity} on {self.channel} replaced by RIFF's {product.quantity}")  # fmt: skip

    def _title(
        self,
        session: Session,
        remote: RemoteListing,
        product: Product,
        listing: Listing,
        times: dict[tuple[int, str], dt.datetime],
    ) -> None:
        seen = (listing.extras or {}).get(REMOTE_TITLE_KEY)
        SyncRepository(session).remember_remote_titles(REMOTE_TITLE_KEY, [(listing.id, remote.title)])
        if remote.title == product.title:
            return
        before = {"title": product.title, "remote_title": seen}
        if self._winner("title", product, listing, remote, times) == Winner.REMOTE:
            product.title = remote.title[:300]
            session.flush()
            push.product_changed(
                session, product, ["title"], actor=self.actor, exclude_listing_ids={listing.id}
            )
            self._event(session, listing, EventKind.REMOTE_TITLE, Outcome.ACCEPTED_REMOTE, before,
                        {"title": product.title, "remote_title": remote.title},
                        f"{product.sku}: title edited on {self.channel} taken into RIFF")  # fmt: skip
        elif not self._pushed_back_already(listing, EventKind.REMOTE_TITLE, "remote_title", remote.title):
            self._update(session, listing, "title")
            self._event(session, listing, EventKind.REMOTE_TITLE, Outcome.PUSHED_LOCAL, before,
                        {"title": product.title, "remote_title": remote.title},
                        f"{product.sku}: title edited on {self.channel} replaced by RIFF's")  # fmt: skip

    def _sold(self, session: Session, remote: RemoteListing, listing: Listing) -> None:
        if listing.state not in ACTIVE:
            return
        before = {"state": str(listing.state)}
        if self.settings.owner(self.channel, "sold") == "riff":
            self._event(session, listing, EventKind.REMOTE_SOLD, Outcome.NEEDS_ACTION, before, {"state": "sold"},
                        f"listing {listing.remote_id} is sold on {self.channel}; RIFF owns 'sold', check it")  # fmt: skip
            return
        result = sales.listing_sold_remotely(
            session, listing, remote, actor=self.actor, received_at=self.received_at
        )
        self._event(session, listing, EventKind.REMOTE_SOLD, Outcome.ACCEPTED_REMOTE, before,
                    {"state": "sold", "inferred_order_id": result.order_id if result else None,
                     "ending": result.ending if result else []},
                    f"listing {listing.remote_id} sold on {self.channel}"
                    + (f"; ending {len(result.ending)} other listing(s)" if result and result.ending else ""))  # fmt: skip

    def _ended(self, session: Session, remote: RemoteListing, product: Product, listing: Listing) -> None:
        if listing.state != ListingState.LIVE:
            return
        before = {"state": str(listing.state)}
        if self.settings.owner(self.channel, "ended") == "riff" and push.is_available(product):
            if push.republish(session, product, listing, actor=self.actor):
                self._event(session, listing, EventKind.REMOTE_ENDED, Outcome.PUSHED_LOCAL, before, {"state": "pending"},
                            f"{product.sku}: ended on {self.channel}; RIFF owns it and lists it again")  # fmt: skip
                return
        listing.state = ListingState.ENDED
        self._event(session, listing, EventKind.REMOTE_ENDED, Outcome.ACCEPTED_REMOTE, before, {"state": "ended"},
                    f"{product.sku}: ended on {self.channel}"
                    + (" (still in stock: relist from the reconciliation page)" if push.is_available(product) else ""))  # fmt: skip

    def _relisted(self, session: Session, remote: RemoteListing, product: Product, listing: Listing) -> None:
        if listing.state not in DONE:
            return
        before = {"state": str(listing.state)}
        if not push.is_available(product):
            # Live on the channel while RIFF has nothing to sell: a second buyer could pay. End it now.
            push.enqueue_end(session, listing, _end_reason(product))
            self._event(session, listing, EventKind.REMOTE_RELISTED, Outcome.PUSHED_LOCAL, before, {"state": "ending"},
                        f"{product.sku}: live again on {self.channel} but not in stock: ending it")  # fmt: skip
            return
        listing.state = ListingState.LIVE
        self._event(session, listing, EventKind.REMOTE_RELISTED, Outcome.ACCEPTED_REMOTE, before, {"state": "live"},
                    f"{product.sku}: relisted on {self.channel}")  # fmt: skip

    def _state(self, remote: RemoteListing, listing: Listing) -> None:
        """A state change that needs no decision (a publish went live, a pending one ended): take it,
        unless a sale or an end got there first."""
        mapped = STATE_FROM_REMOTE.get(remote.state)
        if mapped is not None and mapped != listing.state and not (listing.state in DONE and mapped in DONE):
            if not (listing.state in DONE and mapped in ACTIVE):
                listing.state = mapped

    # -- unknown listings -----------------------------------------------------------------------------

    def _unknown(self, session: Session, remotes: Sequence[RemoteListing]) -> None:
        repository = SyncRepository(session)
        live = [r for r in remotes if r.state in (RemoteState.LIVE, RemoteState.PENDING, RemoteState.DRAFT)]
        self.stats.unknown += len(live)
        if not live:
            return
        known = repository.unmatched_statuses(self.channel, [r.remote_id for r in live])
        now = utcnow()
        repository.touch_unmatched(
            self.channel, [rid for rid, status in known.items() if status == UnmatchedStatus.OPEN], now
        )
        new = [r for r in live if r.remote_id not in known]
        if not new:
            return
        matcher = self._matcher_for(session, new)
        rows = []
        for remote in new:
            item = matching.details(remote)
            candidates = matcher.candidates(item)
            best = candidates[0] if candidates else None
            rows.append(
                {
                    "channel": self.channel,
                    "remote_id": remote.remote_id[:120],
                    "sku": (remote.sku or None) and remote.sku[:120],
                    "title": (remote.title or "")[:500],
                    "price": remote.price,
                    "currency": remote.currency,
                    "quantity": remote.quantity,
                    "state": str(remote.state),
                    "url": remote.url,
                    "details": item.as_json(),
                    "candidates": [c.as_json() for c in candidates],
                    "best_product_id": best.product_id if best else None,
                    "best_score": best.score if best else None,
                    "status": UnmatchedStatus.OPEN,
                    "first_seen_at": now,
                    "last_seen_at": now,
                }
            )
        self.stats.unknown_new += repository.insert_unmatched(rows)

    def _matcher_for(self, session: Session, remotes: Sequence[RemoteListing]) -> matching.Matcher:
        repository = SyncRepository(session)
        by_sku = repository.products_by_skus_ci(r.sku for r in remotes if r.sku)
        brands = {b for b in (matching.details(r).brand for r in remotes) if b}
        products = repository.match_candidates(brands=brands) if brands else []
        if self._matcher is None:
            titles = repository.product_titles()
            self._matcher = matching.build_matcher(
                products, by_sku=by_sku, titles=titles, load=lambda ids: _products_by_id(session, ids)
            )
        else:
            self._matcher.by_sku = by_sku
            for product in products:
                self._matcher.products.setdefault(product.id, product)
                if product.brand:
                    group = self._matcher.by_brand.setdefault(product.brand.strip().lower(), [])  # type: ignore[attr-defined]
                    if product not in group:
                        group.append(product)
            self._matcher.load = lambda ids: _products_by_id(session, ids)
        return self._matcher

    # -- after the last chunk -------------------------------------------------------------------------

    def finish(self) -> None:
        """After a full pull: live listings the channel no longer has are marked ended."""
        if not self.full:
            return
        with self.database.read_session() as session:
            live = SyncRepository(session).live_remote_ids(self.channel)
        missing = {
            remote_id: listing_id for remote_id, listing_id in live.items() if remote_id not in self.seen_ids
        }
        if not missing:
            return
        if len(missing) > MISSING_SAFETY_MIN and len(missing) > MISSING_SAFETY_RATIO * len(live):
            self.stats.note = (
                f"{len(missing)} of {len(live)} live listings were not in the channel's answer; "
                "not marking them ended (an incomplete answer is more likely)"
            )
            with self.database.session() as session:
                SyncRepository(session).add_event(
                    channel=self.channel, kind=EventKind.MISSING_REMOTELY, outcome=Outcome.ERROR,
                    after={"missing": len(missing), "live": len(live)}, message=self.stats.note, actor=self.actor,
                )  # fmt: skip
            return
        with self.database.session() as session:
            listings = _reload_listings(session, list(missing.values()))
            for listing in listings.values():
                if listing.state != ListingState.LIVE:
                    continue
                listing.state = ListingState.ENDED
                listing.last_error = f"not found on {self.channel} during a full pull"
                self._event(session, listing, EventKind.MISSING_REMOTELY, Outcome.ACCEPTED_REMOTE,
                            {"state": "live"}, {"state": "ended"},
                            f"listing {listing.remote_id} is gone from {self.channel}")  # fmt: skip
                self.stats.missing += 1


def _end_reason(product: Product) -> Any:
    from riff.channels.contract import EndReason

    return EndReason.SOLD_ELSEWHERE if product.quantity == 0 else EndReason.NOT_SOLD


def _reload_listings(session: Session, ids: Sequence[int]) -> dict[int, Listing]:
    import sqlalchemy as sa

    wanted = sorted(set(ids))
    found: dict[int, Listing] = {}
    for start in range(0, len(wanted), 1000):
        rows = session.execute(
            sa.select(Listing)
            .where(Listing.id.in_(wanted[start : start + 1000]))
            .order_by(Listing.id)
            .execution_options(populate_existing=True)
        ).scalars()
        found.update((listing.id, listing) for listing in rows)
    return found


def _products_by_id(session: Session, ids: Sequence[int]) -> dict[int, Product]:
    import sqlalchemy as sa

    if not ids:
        return {}
    return {p.id: p for p in session.execute(sa.select(Product).where(Product.id.in_(list(ids)))).scalars()}


def _bulk_update(repository: SyncRepository, rows: list[dict[str, Any]]) -> None:
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    for group in groups.values():
        repository.bulk_update_listings(group)


# -- one listing from a webhook ---------------------------------------------------------------------------


def apply_remote_listing(
    session: Session,
    channel: str,
    remote: RemoteListing,
    *,
    received_at: dt.datetime | None = None,
    database: Database | None = None,
) -> bool:
    """A listing webhook (confirmed through the API): the same rules as a pull, for one listing, in the
    caller's transaction. False when RIFF does not know the listing (the next pull offers it)."""
    local = SyncRepository(session).staged_rows(channel, [remote.remote_id]).get(remote.remote_id)
    if local is None:
        return False
    differ = Differ(
        database or _NoDatabase(),  # type: ignore[arg-type]
        channel,
        full=False,
        actor=f"{channel}:webhook",
        received_at=received_at,
    )
    found = classify(remote, local, holds_quantity=differ.holds_quantity, now=utcnow())
    differ.apply(
        session,
        [Change(remote, local, found.decisions)] if found.decisions else [],
        [{"id": local.listing_id, **found.values}] if found.values and not found.decisions else [],
        [],
        [(local.listing_id, found.title)] if found.title is not None and not found.decisions else [],
    )
    return True


class _NoDatabase:
    """``apply_remote_listing`` works in the caller's session and never opens its own."""

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - a programming error
        raise RuntimeError("apply_remote_listing must not open sessions")


# -- the job ------------------------------------------------------------------------------------------------


def wait_out_window(session: Session, channel: str, account_id: int | None) -> None:
    """Raise a retryable error that reschedules the job at the end of the channel's maintenance window."""
    end = push.run_after_for(session, channel, account_id)
    if end is not None:
        seconds = max(1.0, (end - utcnow()).total_seconds())
        raise RetryableJobError(
            f"{channel} is in its maintenance window until {end:%H:%M} UTC; waiting it out",
            retry_after=seconds,
        )


async def run_pull(
    ctx: Any, slug: str, *, progress: Callable[[PullStats], None] | None = None
) -> dict[str, Any]:
    """One pull of ``slug``'s listings (a job body; the CLI passes a small context of its own)."""
    from riff.channels import tasks

    settings = get_sync_settings()
    payload = dict(getattr(ctx, "payload", None) or {})
    account = tasks._load_account(ctx, slug, payload.get("account_id"))
    with ctx.database.session() as session:
        wait_out_window(session, slug, account.id)
        state = SyncRepository(session).channel_state(slug)
        started = utcnow()
        state.last_pull_started_at = started
        incremental = getattr(CHANNELS.get(slug), "capabilities", None)
        can_filter = bool(incremental and incremental.incremental_listing_fetch)
        stale_full = state.last_full_pull_at is None or started - state.last_full_pull_at > dt.timedelta(
            hours=settings.full_pull_every_hours
        )
        cursor = state.pull_cursor
        full = bool(payload.get("full")) or not can_filter or cursor is None or stale_full
        since = None if full or cursor is None else cursor - dt.timedelta(minutes=settings.lookback_minutes)
    differ = Differ(ctx.database, slug, full=full, settings=settings)
    differ.stats.since = since.isoformat() if since else None
    fetch_started = time.perf_counter()
    buffer: list[RemoteListing] = []
    try:
        async with tasks.connected(ctx, account) as channel:
            async for remote in channel.fetch_listings(since):
                buffer.append(remote)
                if len(buffer) >= settings.pull_chunk:
                    differ.feed(buffer)
                    buffer = []
                    ctx.heartbeat()
                    if progress is not None:
                        progress(differ.stats)
        differ.feed(buffer)
        differ.finish()
    except ChannelError as exc:
        _record_pull_error(ctx.database, slug, exc.message)
        tasks.record_failure(ctx.database, exc, account_id=account.id, listing_id=None)
        raise
    except Exception as exc:
        _record_pull_error(ctx.database, slug, f"{type(exc).__name__}: {exc}"[:2000])
        raise
    stats = differ.stats
    stats.fetch_seconds = max(0.0, time.perf_counter() - fetch_started - stats.diff_seconds)
    if progress is not None:
        progress(stats)
    with ctx.database.session() as session:
        repository = SyncRepository(session)
        state = repository.channel_state(slug)
        state.pull_cursor = started
        state.last_pull_finished_at = utcnow()
        if full:
            state.last_full_pull_at = started
        state.last_pull_stats = stats.as_dict()
        state.last_error = None
        repository.add_event(
            channel=slug, kind=EventKind.PULL, outcome=Outcome.OK, after=stats.as_dict(),
            message=_summary(stats), actor=differ.actor,
        )  # fmt: skip
    log.info("sync.pull.ok", channel=slug, **{k: v for k, v in stats.as_dict().items() if k != "channel"})
    result = stats.as_dict()
    if payload.get("reconcile"):
        result["reconciliation"] = record_reconciliation(ctx.database, slug)
    return result


def record_reconciliation(database: Database, channel: str) -> dict[str, Any]:
    """Compute the channel's reconciliation (after a full pull) and keep its summary for the status page."""
    from riff.sync import reconcile

    with database.read_session() as session:
        report = reconcile.channel_report(session, channel, limit=0)
    now = utcnow()
    summary = {
        "at": now.isoformat(),
        "listings": report.listings,
        "live": report.live,
        "mismatch_counts": dict(report.counts),
    }
    with database.session() as session:
        repository = SyncRepository(session)
        state = repository.channel_state(channel)
        state.last_reconciliation = summary
        state.last_reconciled_at = now
        repository.add_event(
            channel=channel,
            kind=EventKind.RECONCILIATION,
            outcome=Outcome.NEEDS_ACTION if report.total else Outcome.OK,
            after=summary,
            message=f"reconciliation: {report.total} mismatch(es) in {report.listings} listing(s)",
            actor=f"sync:{channel}",
        )
    return summary


def _summary(stats: PullStats) -> str:
    kind = "full" if stats.full else "incremental"
    parts = [f"{kind} pull: {stats.seen} seen", f"{stats.decided} decided", f"{stats.refreshed} refreshed"]
    if stats.unknown_new:
        parts.append(f"{stats.unknown_new} new unmatched")
    if stats.missing:
        parts.append(f"{stats.missing} missing")
    return ", ".join(parts)


def _record_pull_error(database: Database, channel: str, message: str) -> None:
    try:
        with database.session() as session:
            state = SyncRepository(session).channel_state(channel)
            state.last_error = message
            state.last_error_at = utcnow()
    except Exception:  # never hide the pull's own error behind a bookkeeping failure
        log.warning("sync.pull.state_failed", channel=channel, exc_info=True)
