"""The UI's read-side SQL: dashboard figures, event lists, per-channel sync facts.

Every query here is shaped for one page and stays cheap on a 10,000-product shop (see bench/ui_pages.py):
aggregates run over indexed columns, lists are limited. Writes belong to the domain services; the one
exception is ``upsert_category_mapping`` (no channels service writes mappings yet).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.catalog.models import Category, MovementReason, Product, ProductStatus, StockMovement
from riff.channels.models import ChannelAccount, ChannelCategoryMapping, Listing
from riff.channels.service import ORDER_EVENT_KIND
from riff.core.db import Database
from riff.jobs.consts import JobStatus
from riff.jobs.models import Job
from riff.sync.models import SyncEvent


def enabled_account_sandbox_flags(database: Database) -> list[bool]:
    with database.read_session() as session:
        rows = session.execute(
            sa.select(ChannelAccount.is_sandbox).where(ChannelAccount.enabled.is_(True))
        ).scalars()
        return [bool(flag) for flag in rows]


def _as_utc(value: Any) -> dt.datetime | None:
    # Aggregates (max/min) bypass the column type on SQLite and come back as strings.
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
    return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


class UiRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- dashboard ------------------------------------------------------------------------------

    def stock_summary(self) -> list[dict[str, Any]]:
        """Active products with stock, per currency: items, units and value at base price."""
        rows = self.session.execute(
            sa.select(
                Product.currency,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(Product.quantity), 0),
                sa.func.coalesce(sa.func.sum(Product.base_price * Product.quantity), 0),
            )
            .where(Product.status == ProductStatus.ACTIVE, Product.quantity > 0)
            .group_by(Product.currency)
            .order_by(sa.func.count().desc())
        )
        return [
            {"currency": currency, "items": int(items), "units": int(units), "value": Decimal(str(value))}
            for currency, items, units, value in rows
        ]

    def listing_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        rows = self.session.execute(
            sa.select(Listing.channel, Listing.state, sa.func.count()).group_by(
                Listing.channel, Listing.state
            )
        )
        for channel, state, count in rows:
            counts.setdefault(channel, {})[str(getattr(state, "value", state))] = int(count)
        return counts

    def sales_since(self, since: dt.datetime) -> list[dict[str, Any]]:
        """Units sold (stock movements with reason sale) and their value at base price, per currency."""
        units = -StockMovement.delta
        rows = self.session.execute(
            sa.select(
                Product.currency,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(units), 0),
                sa.func.coalesce(sa.func.sum(units * Product.base_price), 0),
            )
            .join(Product, Product.id == StockMovement.product_id)
            .where(StockMovement.reason == MovementReason.SALE, StockMovement.at >= since)
            .group_by(Product.currency)
        )
        return [
            {"currency": currency, "sales": int(count), "units": int(sold), "value": Decimal(str(value))}
            for currency, count, sold, value in rows
        ]

    def failed_jobs_by_channel(self, since: dt.datetime) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(Job.channel, sa.func.count())
            .where(Job.status == JobStatus.FAILED.value, Job.finished_at >= since)
            .group_by(Job.channel)
        )
        return {channel or "-": int(count) for channel, count in rows}

    # ---- events ---------------------------------------------------------------------------------

    def events(
        self,
        *,
        kinds: Sequence[str] | None = None,
        exclude_kinds: Sequence[str] | None = None,
        product_id: int | None = None,
        channel: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[SyncEvent]:
        statement = sa.select(SyncEvent).order_by(SyncEvent.id.desc()).limit(limit).offset(offset)
        if kinds:
            statement = statement.where(SyncEvent.kind.in_(list(kinds)))
        if exclude_kinds:
            statement = statement.where(SyncEvent.kind.not_in(list(exclude_kinds)))
        if product_id is not None:
            statement = statement.where(SyncEvent.product_id == product_id)
        if channel:
            statement = statement.where(SyncEvent.channel == channel)
        return self.session.execute(statement).scalars().all()

    def count_events(self, *, kinds: Sequence[str]) -> int:
        return int(
            self.session.execute(
                sa.select(sa.func.count()).select_from(SyncEvent).where(SyncEvent.kind.in_(list(kinds)))
            ).scalar_one()
        )

    def order_events(self, limit: int, offset: int) -> Sequence[SyncEvent]:
        return self.events(kinds=[ORDER_EVENT_KIND], limit=limit, offset=offset)

    def event(self, event_id: int) -> SyncEvent | None:
        return self.session.get(SyncEvent, event_id)

    def product_titles(self, product_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        ids = sorted({pid for pid in product_ids if pid is not None})
        if not ids:
            return {}
        rows = self.session.execute(
            sa.select(Product.id, Product.sku, Product.title).where(Product.id.in_(ids))
        )
        return {pid: (sku, title) for pid, sku, title in rows}

    # ---- sync centre ----------------------------------------------------------------------------

    def last_pulled_by_channel(self) -> dict[str, dt.datetime | None]:
        rows = self.session.execute(
            sa.select(Listing.channel, sa.func.max(Listing.last_pulled_at)).group_by(Listing.channel)
        )
        return {channel: _as_utc(value) for channel, value in rows}

    def last_finished_jobs(self, kinds: Sequence[str]) -> dict[str, Job]:
        """The most recent finished job of each kind (pull jobs for the sync centre)."""
        found: dict[str, Job] = {}
        for kind in kinds:
            job = self.session.execute(
                sa.select(Job)
                .where(
                    Job.kind == kind,
                    Job.status.in_([JobStatus.COMPLETED.value, JobStatus.FAILED.value]),
                )
                .order_by(Job.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if job is not None:
                found[kind] = job
        return found

    def active_jobs(self, kinds: Sequence[str]) -> dict[str, Job]:
        """The oldest queued or running job of each kind, if any."""
        rows = self.session.execute(
            sa.select(Job)
            .where(
                Job.kind.in_(list(kinds)),
                Job.status.in_([JobStatus.QUEUED.value, JobStatus.IN_PROGRESS.value]),
            )
            .order_by(Job.id)
        ).scalars()
        found: dict[str, Job] = {}
        for job in rows:
            found.setdefault(job.kind, job)
        return found

    def active_job_count_for_product(self, product_id: int) -> int:
        return int(
            self.session.execute(
                sa.select(sa.func.count())
                .select_from(Job)
                .where(
                    Job.product_id == product_id,
                    Job.status.in_([JobStatus.QUEUED.value, JobStatus.IN_PROGRESS.value]),
                )
            ).scalar_one()
        )

    # ---- catalog lookups ------------------------------------------------------------------------

    def brands(self, limit: int = 500) -> list[str]:
        rows = self.session.execute(
            sa.select(Product.brand)
            .where(Product.brand.is_not(None))
            .group_by(Product.brand)
            .order_by(Product.brand)
            .limit(limit)
        ).scalars()
        return [brand for brand in rows if brand]

    def categories(self) -> Sequence[Category]:
        return self.session.execute(sa.select(Category).order_by(Category.name)).scalars().all()

    # ---- category mappings ----------------------------------------------------------------------

    def category_mappings(self) -> dict[tuple[int, str], ChannelCategoryMapping]:
        rows = self.session.execute(sa.select(ChannelCategoryMapping)).scalars()
        return {(m.category_id, m.channel): m for m in rows}

    def upsert_category_mapping(
        self, category_id: int, channel: str, remote_ids: list[str], remote_names: list[str]
    ) -> None:
        mapping = self.session.execute(
            sa.select(ChannelCategoryMapping).where(
                ChannelCategoryMapping.category_id == category_id, ChannelCategoryMapping.channel == channel
            )
        ).scalar_one_or_none()
        if not remote_ids:
            if mapping is not None:
                self.session.delete(mapping)
            return
        if mapping is None:
            self.session.add(
                ChannelCategoryMapping(
                    category_id=category_id, channel=channel, remote_ids=remote_ids, remote_names=remote_names
                )
            )
        else:
            mapping.remote_ids = remote_ids
            mapping.remote_names = remote_names
        self.session.flush()
