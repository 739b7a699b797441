"""All SQL of the sync engine: events, field clocks, channel state, pull staging, unmatched listings,
sale propagations, and the read-only look at queued jobs that coalescing and the status page need."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from riff.catalog.models import Product, ProductStatus
from riff.channels.models import ChannelAccount, ChannelPriceRule, Listing, ListingState
from riff.core.clock import utcnow
from riff.core.db import is_postgres
from riff.jobs.consts import JobStatus
from riff.jobs.models import Job
from riff.sync.consts import REMOTE_TITLE_KEY
from riff.sync.models import (
    FieldChange,
    SalePropagation,
    SyncChannelState,
    SyncEvent,
    UnmatchedListing,
    UnmatchedStatus,
)

ACTIVE_LISTING_STATES = (ListingState.LIVE, ListingState.PENDING)


def _insert(session: Session) -> Any:
    return postgresql.insert if is_postgres(session) else sqlite.insert


@dataclasses.dataclass(frozen=True, slots=True)
class LocalRow:
    """What the diff needs of one local listing and its product (a plain row, no ORM object)."""

    listing_id: int
    remote_id: str
    state: ListingState
    remote_price: Decimal | None
    remote_quantity: int | None
    remote_updated_at: dt.datetime | None
    last_pushed_at: dt.datetime | None
    remote_title: str | None  # extras[REMOTE_TITLE_KEY]: the title last seen on the channel
    extras: dict[str, Any] | None  # the whole extras only where asked for (reconciliation)
    last_error: str | None
    price_override: Decimal | None
    product_id: int
    base_price: Decimal
    title: str
    quantity: int
    is_stocked_item: bool
    status: ProductStatus


@dataclasses.dataclass(frozen=True, slots=True)
class StagedRow:
    """The little a pull compares per listing: what RIFF last saw on the channel, and the listing's state."""

    listing_id: int
    remote_id: str
    state: ListingState
    remote_price: Decimal | None
    remote_quantity: int | None
    remote_title: str | None
    product_id: int
    is_stocked_item: bool


class SyncRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- events -------------------------------------------------------------------------------------

    def add_event(self, **values: Any) -> SyncEvent:
        values.setdefault("at", utcnow())
        event = SyncEvent(**values)
        self.session.add(event)
        return event

    def get_event(self, event_id: int, *, for_update: bool = False) -> SyncEvent | None:
        statement = sa.select(SyncEvent).where(SyncEvent.id == event_id)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return self.session.execute(statement).scalars().one_or_none()

    def last_event(self, listing_id: int, kind: str) -> SyncEvent | None:
        return self.session.execute(
            sa.select(SyncEvent)
            .where(SyncEvent.listing_id == listing_id, SyncEvent.kind == kind)
            .order_by(SyncEvent.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def last_events(
        self, listing_ids: Sequence[int], kinds: Sequence[str]
    ) -> dict[tuple[int, str], SyncEvent]:
        """The latest event of each (listing, kind), for many listings in one query."""
        found: dict[tuple[int, str], SyncEvent] = {}
        ids = sorted(set(listing_ids))
        if not ids:
            return found
        latest = (
            sa.select(sa.func.max(SyncEvent.id))
            .where(SyncEvent.listing_id.in_(ids), SyncEvent.kind.in_(list(kinds)))
            .group_by(SyncEvent.listing_id, SyncEvent.kind)
        )
        for event in self.session.execute(sa.select(SyncEvent).where(SyncEvent.id.in_(latest))).scalars():
            if event.listing_id is not None:
                found[(event.listing_id, event.kind)] = event
        return found

    def add_events(self, rows: list[dict[str, Any]]) -> None:
        """Many events in one executemany (the pull's decisions)."""
        if rows:
            self.session.execute(sa.insert(SyncEvent), rows)

    def events(
        self,
        *,
        channel: str | None = None,
        product_id: int | None = None,
        kinds: Sequence[str] | None = None,
        outcome: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[Sequence[SyncEvent], int]:
        statement = sa.select(SyncEvent)
        if channel is not None:
            statement = statement.where(SyncEvent.channel == channel)
        if product_id is not None:
            statement = statement.where(SyncEvent.product_id == product_id)
        if kinds:
            statement = statement.where(SyncEvent.kind.in_(list(kinds)))
        if outcome is not None:
            statement = statement.where(SyncEvent.outcome == outcome)
        total = int(
            self.session.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar_one()
        )
        items = (
            self.session.execute(statement.order_by(SyncEvent.id.desc()).limit(limit).offset(offset))
            .scalars()
            .all()
        )
        return items, total

    def event_counts_since(self, since: dt.datetime) -> dict[str | None, tuple[int, int]]:
        """channel -> (events, failures) since ``since``; a failure is an error or an action needed."""
        failed = sa.case((SyncEvent.outcome.in_(["error", "needs_action"]), 1), else_=0)
        rows = self.session.execute(
            sa.select(SyncEvent.channel, sa.func.count(), sa.func.sum(failed))
            .where(SyncEvent.at >= since)
            .group_by(SyncEvent.channel)
        )
        return {channel: (int(count), int(failures or 0)) for channel, count, failures in rows}

    # -- local field clocks -------------------------------------------------------------------------

    def touch_fields(self, product_id: int, fields: Iterable[str], at: dt.datetime) -> None:
        rows = [{"product_id": product_id, "field": f[:40], "changed_at": at} for f in sorted(set(fields))]
        if not rows:
            return
        statement = _insert(self.session)(FieldChange).values(rows)
        statement = statement.on_conflict_do_update(
            index_elements=["product_id", "field"], set_={"changed_at": statement.excluded.changed_at}
        )
        self.session.execute(statement)

    def field_changes(
        self, product_ids: Iterable[int], fields: Iterable[str]
    ) -> dict[tuple[int, str], dt.datetime]:
        ids = sorted(set(product_ids))
        found: dict[tuple[int, str], dt.datetime] = {}
        for start in range(0, len(ids), 1000):
            rows = self.session.execute(
                sa.select(FieldChange.product_id, FieldChange.field, FieldChange.changed_at).where(
                    FieldChange.product_id.in_(ids[start : start + 1000]), FieldChange.field.in_(list(fields))
                )
            )
            for product_id, field, changed_at in rows:
                found[(product_id, field)] = changed_at
        return found

    # -- listings -----------------------------------------------------------------------------------

    def listings_for_product(self, product_id: int) -> Sequence[Listing]:
        return (
            self.session.execute(
                sa.select(Listing).where(Listing.product_id == product_id).order_by(Listing.id)
            )
            .scalars()
            .all()
        )

    def live_listings_for_channel(self, channel: str) -> Sequence[Listing]:
        return (
            self.session.execute(
                sa.select(Listing)
                .where(
                    Listing.channel == channel,
                    Listing.state == ListingState.LIVE,
                    Listing.remote_id.is_not(None),
                )
                .order_by(Listing.id)
            )
            .scalars()
            .all()
        )

    def listing(self, listing_id: int) -> Listing | None:
        return self.session.get(Listing, listing_id)

    def listings_by_ids(self, ids: Iterable[int]) -> dict[int, Listing]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.session.execute(sa.select(Listing).where(Listing.id.in_(wanted))).scalars()
        return {listing.id: listing for listing in rows}

    def price_rule(self, channel: str) -> ChannelPriceRule | None:
        return self.session.execute(
            sa.select(ChannelPriceRule).where(ChannelPriceRule.channel == channel)
        ).scalar_one_or_none()

    def accounts(self, channel: str | None = None) -> Sequence[ChannelAccount]:
        statement = sa.select(ChannelAccount).order_by(ChannelAccount.channel, ChannelAccount.id)
        if channel is not None:
            statement = statement.where(ChannelAccount.channel == channel)
        return self.session.execute(statement).scalars().all()

    # -- pull staging (set-based) -------------------------------------------------------------------

    def _local_select(self, *, extras: bool = False) -> sa.Select[Any]:
        return sa.select(
            Listing.id,
            Listing.remote_id,
            Listing.state,
            Listing.remote_price,
            Listing.remote_quantity,
            Listing.remote_updated_at,
            Listing.last_pushed_at,
            Listing.extras[REMOTE_TITLE_KEY].as_string(),
            Listing.extras if extras else sa.null(),
            Listing.last_error,
            Listing.price_override,
            Product.id,
            Product.base_price,
            Product.title,
            Product.quantity,
            Product.is_stocked_item,
            Product.status,
        ).join(Product, Product.id == Listing.product_id)

    def staged_rows(self, channel: str, remote_ids: Sequence[str]) -> dict[str, StagedRow]:
        """The local listings among ``remote_ids``, as plain tuples: one Core query per chunk of a pull."""
        if not remote_ids:
            return {}
        statement = (
            sa.select(
                Listing.id,
                Listing.remote_id,
                Listing.state,
                Listing.remote_price,
                Listing.remote_quantity,
                Listing.extras[REMOTE_TITLE_KEY].as_string(),
                Listing.product_id,
                Product.is_stocked_item,
            )
            .join(Product, Product.id == Listing.product_id)
            .where(Listing.channel == channel, self._remote_id_in(remote_ids))
        )
        return {row[1]: StagedRow(*row) for row in self.session.connection().execute(statement)}

    def _remote_id_in(self, remote_ids: Sequence[str]) -> sa.ColumnElement[bool]:
        """``remote_id IN (...)``; on PostgreSQL ``= ANY(:array)``: one parameter, not a thousand."""
        if is_postgres(self.session):
            ids = sa.bindparam("remote_ids", list(remote_ids), type_=postgresql.ARRAY(sa.String))
            return Listing.remote_id == sa.any_(ids)
        return Listing.remote_id.in_(list(remote_ids))

    def local_rows(self, channel: str, remote_ids: Sequence[str]) -> dict[str, LocalRow]:
        """The local listings (with their products) among ``remote_ids``, as plain rows."""
        if not remote_ids:
            return {}
        rows = self.session.connection().execute(
            self._local_select(extras=True).where(
                Listing.channel == channel, Listing.remote_id.in_(list(remote_ids))
            )
        )
        return {row[1]: LocalRow(*row) for row in rows}

    def iter_local_rows(self, channel: str, *, batch: int = 2000) -> Iterator[list[LocalRow]]:
        """Every local listing of ``channel`` with a remote id, in id order, a batch at a time."""
        last_id = 0
        while True:
            rows = (
                self.session.connection()
                .execute(
                    self._local_select(extras=True)
                    .where(Listing.channel == channel, Listing.remote_id.is_not(None), Listing.id > last_id)
                    .order_by(Listing.id)
                    .limit(batch)
                )
                .all()
            )
            if not rows:
                return
            yield [LocalRow(*row) for row in rows]
            last_id = rows[-1][0]

    def live_remote_ids(self, channel: str) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(Listing.remote_id, Listing.id).where(
                Listing.channel == channel, Listing.state == ListingState.LIVE, Listing.remote_id.is_not(None)
            )
        )
        return {str(remote_id): int(listing_id) for remote_id, listing_id in rows}

    def bulk_update_listings(self, rows: list[dict[str, Any]]) -> None:
        """UPDATE listings by primary key, one executemany (``rows`` carry ``id`` plus the columns)."""
        if rows:
            self.session.execute(sa.update(Listing), rows)

    def remember_remote_titles(self, key: str, rows: Sequence[tuple[int, str]]) -> None:
        """Merge ``{key: title}`` into each listing's ``extras`` in SQL (jsonb ``||`` / ``json_set``), so a
        concurrent writer of other extras keys is never overwritten by a stale copy."""
        if not rows:
            return
        if is_postgres(self.session):
            statement = sa.text(
                "UPDATE listings SET extras = coalesce(extras, '{}'::jsonb) || jsonb_build_object("
                f"'{key}', CAST(:title AS text)) WHERE id = :id"
            )
        else:
            statement = sa.text(
                f"UPDATE listings SET extras = json_set(coalesce(extras, '{{}}'), '$.{key}', :title) WHERE id = :id"
            )
        self.session.execute(statement, [{"id": listing_id, "title": title} for listing_id, title in rows])

    # -- unmatched remote listings ------------------------------------------------------------------

    def unmatched_statuses(self, channel: str, remote_ids: Sequence[str]) -> dict[str, UnmatchedStatus]:
        if not remote_ids:
            return {}
        rows = self.session.execute(
            sa.select(UnmatchedListing.remote_id, UnmatchedListing.status).where(
                UnmatchedListing.channel == channel, UnmatchedListing.remote_id.in_(list(remote_ids))
            )
        )
        return {str(remote_id): UnmatchedStatus(status) for remote_id, status in rows}

    def insert_unmatched(self, rows: list[dict[str, Any]]) -> int:
        """INSERT ... ON CONFLICT (channel, remote_id) DO NOTHING: a decision once made is kept."""
        if not rows:
            return 0
        inserted = 0
        for start in range(0, len(rows), 500):  # keeps the bound parameters under SQLite's limit
            statement = (
                _insert(self.session)(UnmatchedListing)
                .values(rows[start : start + 500])
                .on_conflict_do_nothing(index_elements=["channel", "remote_id"])
                .returning(UnmatchedListing.id)
            )
            inserted += len(self.session.execute(statement).all())
        return inserted

    def touch_unmatched(self, channel: str, remote_ids: Sequence[str], at: dt.datetime) -> None:
        if remote_ids:
            self.session.execute(
                sa.update(UnmatchedListing)
                .where(UnmatchedListing.channel == channel, UnmatchedListing.remote_id.in_(list(remote_ids)))
                .values(last_seen_at=at)
                .execution_options(synchronize_session=False)
            )

    def unmatched_page(
        self, *, channel: str | None, status: UnmatchedStatus | None, limit: int, offset: int
    ) -> tuple[Sequence[UnmatchedListing], int]:
        statement = sa.select(UnmatchedListing)
        if channel is not None:
            statement = statement.where(UnmatchedListing.channel == channel)
        if status is not None:
            statement = statement.where(UnmatchedListing.status == status)
        total = int(
            self.session.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar_one()
        )
        items = (
            self.session.execute(statement.order_by(UnmatchedListing.id).limit(limit).offset(offset))
            .scalars()
            .all()
        )
        return items, total

    def get_unmatched(self, unmatched_id: int, *, for_update: bool = False) -> UnmatchedListing | None:
        statement = sa.select(UnmatchedListing).where(UnmatchedListing.id == unmatched_id)
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return self.session.execute(statement).scalars().one_or_none()

    def match_candidates(self, *, brands: Iterable[str], limit: int = 20_000) -> Sequence[Product]:
        """Products a remote listing could be: not archived; with one of ``brands`` when given."""
        statement = sa.select(Product).where(Product.status != ProductStatus.ARCHIVED)
        wanted = sorted({b.strip().lower() for b in brands if b and b.strip()})
        if wanted:
            statement = statement.where(sa.func.lower(Product.brand).in_(wanted))
        return self.session.execute(statement.order_by(Product.id).limit(limit)).scalars().all()

    def product_titles(self, *, limit: int = 100_000) -> list[tuple[int, str]]:
        rows = self.session.execute(
            sa.select(Product.id, Product.title)
            .where(Product.status != ProductStatus.ARCHIVED)
            .order_by(Product.id)
            .limit(limit)
        )
        return [(int(pid), str(title)) for pid, title in rows]

    def products_by_skus_ci(self, skus: Iterable[str]) -> dict[str, Product]:
        wanted = sorted({s.strip().lower() for s in skus if s and s.strip()})
        found: dict[str, Product] = {}
        for start in range(0, len(wanted), 500):
            rows = self.session.execute(
                sa.select(Product).where(sa.func.lower(Product.sku).in_(wanted[start : start + 500]))
            ).scalars()
            for product in rows:
                found[product.sku.lower()] = product
        return found

    # -- channel state ------------------------------------------------------------------------------

    def channel_state(self, channel: str) -> SyncChannelState:
        """The channel's row, created on first use (insert-or-ignore, then read)."""
        self.session.execute(
            _insert(self.session)(SyncChannelState)
            .values(channel=channel, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["channel"])
        )
        state = self.session.get(SyncChannelState, channel, populate_existing=True)
        assert state is not None
        return state

    def channel_states(self) -> dict[str, SyncChannelState]:
        return {s.channel: s for s in self.session.execute(sa.select(SyncChannelState)).scalars()}

    # -- sale propagations --------------------------------------------------------------------------

    def add_propagation(self, **values: Any) -> SalePropagation:
        propagation = SalePropagation(**values)
        self.session.add(propagation)
        return propagation

    def early_propagation(
        self, product_id: int, channel: str, *, since: dt.datetime
    ) -> SalePropagation | None:
        """The delist a sale webhook started before its order was confirmed (no order yet), if recent."""
        return self.session.execute(
            sa.select(SalePropagation)
            .where(
                SalePropagation.product_id == product_id,
                SalePropagation.channel == channel,
                SalePropagation.order_id.is_(None),
                SalePropagation.created_at >= since,
            )
            .order_by(SalePropagation.id.desc())
            .limit(1)
        ).scalar_one_or_none()

    def products_named(self, channel: str, remote_ids: Iterable[str], skus: Iterable[str]) -> list[int]:
        """Products whose listing on ``channel`` has one of ``remote_ids``, or whose SKU is in ``skus``."""
        found: set[int] = set()
        ids = sorted(set(remote_ids))[:200]
        if ids:
            found.update(
                self.session.execute(
                    sa.select(Listing.product_id).where(
                        Listing.channel == channel, Listing.remote_id.in_(ids)
                    )
                ).scalars()
            )
        wanted = sorted(set(skus))[:200]
        if wanted:
            found.update(self.session.execute(sa.select(Product.id).where(Product.sku.in_(wanted))).scalars())
        return sorted(found)

    def open_propagations(self, product_id: int) -> Sequence[SalePropagation]:
        return (
            self.session.execute(
                sa.select(SalePropagation)
                .where(SalePropagation.product_id == product_id, SalePropagation.completed_at.is_(None))
                .order_by(SalePropagation.id)
            )
            .scalars()
            .all()
        )

    def recent_propagations(self, channel: str | None, limit: int) -> Sequence[SalePropagation]:
        statement = sa.select(SalePropagation).where(SalePropagation.completed_at.is_not(None))
        if channel is not None:
            statement = statement.where(SalePropagation.channel == channel)
        return (
            self.session.execute(statement.order_by(SalePropagation.id.desc()).limit(limit)).scalars().all()
        )

    # -- jobs (read-only: coalescing and status) ------------------------------------------------------

    def queued_jobs(self, coalesce_keys: Sequence[str]) -> dict[str, Job]:
        keys = sorted(set(coalesce_keys))
        found: dict[str, Job] = {}
        for start in range(0, len(keys), 1000):
            rows = self.session.execute(
                sa.select(Job).where(
                    Job.coalesce_key.in_(keys[start : start + 1000]), Job.status == JobStatus.QUEUED.value
                )
            ).scalars()
            for job in rows:
                if job.coalesce_key is not None:
                    found[job.coalesce_key] = job
        return found

    def queued_job(self, coalesce_key: str) -> Job | None:
        return self.session.execute(
            sa.select(Job).where(Job.coalesce_key == coalesce_key, Job.status == JobStatus.QUEUED.value)
        ).scalar_one_or_none()

    def running_job_exists(self, coalesce_key: str) -> bool:
        statement = sa.select(Job.id).where(
            Job.coalesce_key == coalesce_key, Job.status == JobStatus.IN_PROGRESS.value
        )
        return self.session.execute(statement.limit(1)).first() is not None

    def queued_listing_jobs(self, listing_ids: Sequence[int]) -> dict[int, list[str]]:
        """listing id -> kinds of its queued or running jobs."""
        found: dict[int, list[str]] = {}
        ids = sorted(set(listing_ids))
        for start in range(0, len(ids), 1000):
            rows = self.session.execute(
                sa.select(Job.listing_id, Job.kind).where(
                    Job.listing_id.in_(ids[start : start + 1000]),
                    Job.status.in_([JobStatus.QUEUED.value, JobStatus.IN_PROGRESS.value]),
                )
            )
            for listing_id, kind in rows:
                if listing_id is not None:
                    found.setdefault(int(listing_id), []).append(str(kind))
        return found

    def failed_jobs_since(self, since: dt.datetime) -> dict[str | None, int]:
        rows = self.session.execute(
            sa.select(Job.channel, sa.func.count())
            .where(Job.status == JobStatus.FAILED.value, Job.finished_at >= since)
            .group_by(Job.channel)
        )
        return {channel: int(count) for channel, count in rows}
