"""All of research's SQL: listing upserts and queries, sync-job history, trends and saved searches."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from riff.core.db import is_postgres
from riff.research.models import MarketListing, MarketSyncJob, MarketTrend, SavedSearch

# Columns a re-seen listing may change; anything else (first_seen_at, ai fields from an LLM) stays.
REFRESHED_FIELDS = (
    "url", "title", "description", "price", "currency", "price_base", "condition", "image_urls", "seller",
    "engagement_score", "trend_score", "sold", "listed_at", "raw",
)  # fmt: skip
# Compared to decide whether a re-seen listing changed (raw and scores move on every poll).
CHANGE_FIELDS = ("title", "description", "price", "currency", "condition", "image_urls", "sold")
# Derived by the rules; refreshed with the text unless an LLM analysed the listing.
RULE_FIELDS = ("brand", "size", "era", "category", "ai_tags", "ai_analysis", "ai_method", "analyzed_at")


@dataclasses.dataclass
class UpsertCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertCounts) -> UpsertCounts:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def _insert(session: Session) -> Any:
    return postgresql.insert if is_postgres(session) else sqlite.insert


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


class ListingRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # ---- writes --------------------------------------------------------------------------------------------

    def upsert(self, platform: str, rows: Sequence[dict[str, Any]], now: dt.datetime) -> UpsertCounts:
        """Insert new listings, refresh known ones (``last_seen_at`` always moves). One listing per
        (platform, external_id): the unique constraint makes a concurrent insert a no-op, never a duplicate."""
        counts = UpsertCounts()
        by_id = {row["external_id"]: row for row in rows}
        if not by_id:
            return counts
        columns = [
            MarketListing.id,
            MarketListing.external_id,
            MarketListing.ai_method,
            MarketListing.engagement_score,
        ]
        columns += [getattr(MarketListing, f) for f in CHANGE_FIELDS]
        existing = {
            row.external_id: row
            for row in self.session.execute(
                sa.select(*columns).where(
                    MarketListing.platform == platform, MarketListing.external_id.in_(list(by_id))
                )
            )
        }
        new_rows = [
            {
                **row,
                "platform": platform,
                "first_seen_at": now,
                "last_seen_at": now,
                "created_at": now,
                "updated_at": now,
            }  # fmt: skip
            for external_id, row in by_id.items()
            if external_id not in existing
        ]
        if new_rows:
            statement = _insert(self.session)(MarketListing).on_conflict_do_nothing(
                index_elements=["platform", "external_id"]
            )
            self.session.execute(statement, new_rows)
            counts.added = len(new_rows)
        touched: list[int] = []
        for external_id, current in existing.items():
            row = by_id[external_id]
            changed = any(_normalise(row.get(f)) != _normalise(getattr(current, f)) for f in CHANGE_FIELDS)
            if not changed:
                counts.unchanged += 1
                score = row.get("engagement_score")
                if score is not None and score != current.engagement_score:
                    # Votes and comments move on every poll: keep them fresh without calling it a change.
                    self.session.execute(
                        sa.update(MarketListing)
                        .where(MarketListing.id == current.id)
                        .values(last_seen_at=now, engagement_score=score, trend_score=row.get("trend_score"))
                    )
                else:
                    touched.append(current.id)
                continue
            values = {f: row[f] for f in REFRESHED_FIELDS if f in row}
            if not (current.ai_method or "").startswith("llm"):
                values.update({f: row[f] for f in RULE_FIELDS if f in row})
            values["last_seen_at"] = now
            values["updated_at"] = now
            self.session.execute(
                sa.update(MarketListing).where(MarketListing.id == current.id).values(**values)
            )
            counts.updated += 1
        if touched:
            for start in range(0, len(touched), 500):
                self.session.execute(
                    sa.update(MarketListing)
                    .where(MarketListing.id.in_(touched[start : start + 500]))
                    .values(last_seen_at=now)
                )
        return counts

    def set_analysis(self, listing: MarketListing, values: dict[str, Any]) -> None:
        for key, value in values.items():
            setattr(listing, key, value)

    # ---- reads ---------------------------------------------------------------------------------------------

    def get(self, listing_id: int) -> MarketListing | None:
        return self.session.get(MarketListing, listing_id)

    def filtered(
        self,
        *,
        platform: str | None = None,
        brand: str | None = None,
        min_price: Decimal | None = None,
        max_price: Decimal | None = None,
        size: str | None = None,
        condition: str | None = None,
        category: str | None = None,
        era: str | None = None,
        sold: bool | None = None,
    ) -> sa.Select[Any]:
        query = sa.select(MarketListing)
        if platform:
            query = query.where(MarketListing.platform == platform)
        if brand:
            query = query.where(sa.func.lower(MarketListing.brand) == brand.lower())
        if min_price is not None:
            query = query.where(MarketListing.price_base >= min_price)
        if max_price is not None:
            query = query.where(MarketListing.price_base <= max_price)
        if size:
            query = query.where(sa.func.lower(MarketListing.size) == size.lower())
        if condition:
            query = query.where(MarketListing.condition == condition)
        if category:
            query = query.where(MarketListing.category == category)
        if era:
            query = query.where(MarketListing.era == era)
        if sold is not None:
            query = query.where(MarketListing.sold.is_(sold))
        return query

    def page(
        self, query: sa.Select[Any], *, sort_by: str, descending: bool, limit: int, offset: int
    ) -> tuple[list[MarketListing], int]:
        total = (
            self.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
        )
        column = {
            "created_at": MarketListing.first_seen_at,
            "price": MarketListing.price_base,
            "trend_score": MarketListing.trend_score,
            "engagement_score": MarketListing.engagement_score,
            "last_seen_at": MarketListing.last_seen_at,
        }[sort_by]
        order = column.desc().nulls_last() if descending else column.asc().nulls_last()
        items = self.session.scalars(
            query.order_by(order, MarketListing.id.desc()).limit(limit).offset(offset)
        )
        return list(items), int(total)

    def search(
        self, terms: list[str], platform: str | None, limit: int, offset: int
    ) -> tuple[list[MarketListing], int]:
        """Listings whose title, brand or description contains every term (case-insensitive), the ones with
        more terms in the title first, then the newest."""
        query = sa.select(MarketListing)
        haystack = sa.func.lower(
            MarketListing.title
            + " "
            + sa.func.coalesce(MarketListing.brand, "")
            + " "
            + MarketListing.description
        )
        title = sa.func.lower(MarketListing.title + " " + sa.func.coalesce(MarketListing.brand, ""))
        for term in terms:
            query = query.where(haystack.contains(term.lower(), autoescape=True))
        if platform:
            query = query.where(MarketListing.platform == platform)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        relevance = sum(
            (sa.case((title.contains(t.lower(), autoescape=True), 1), else_=0) for t in terms), sa.literal(0)
        )
        items = self.session.scalars(
            query.order_by(relevance.desc(), MarketListing.first_seen_at.desc(), MarketListing.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(items), int(total)

    def comparables(
        self,
        *,
        brand: str | None,
        category: str | None,
        terms: list[str],
        limit: int,
    ) -> list[MarketListing]:
        """Priced candidates for a price suggestion: same brand (else same category and a title word)."""
        query = sa.select(MarketListing).where(MarketListing.price_base.is_not(None))
        if brand:
            query = query.where(sa.func.lower(MarketListing.brand) == brand.lower())
        elif category:
            query = query.where(MarketListing.category == category)
        if not brand and terms:
            title = sa.func.lower(MarketListing.title)
            query = query.where(sa.or_(*(title.contains(t.lower(), autoescape=True) for t in terms)))
        query = query.order_by(MarketListing.last_seen_at.desc(), MarketListing.id.desc()).limit(limit)
        return list(self.session.scalars(query))

    def max_id(self) -> int:
        return int(self.session.scalar(sa.select(sa.func.max(MarketListing.id))) or 0)

    def new_matches(
        self, search: SavedSearch, *, after_id: int, up_to_id: int, limit: int
    ) -> list[MarketListing]:
        query = sa.select(MarketListing).where(MarketListing.id > after_id, MarketListing.id <= up_to_id)
        if search.platforms:
            query = query.where(MarketListing.platform.in_(search.platforms))
        if search.min_price is not None:
            query = query.where(MarketListing.price_base >= search.min_price)
        if search.max_price is not None:
            query = query.where(MarketListing.price_base <= search.max_price)
        filters = search.filters or {}
        for key in ("brand", "size"):
            if filters.get(key):
                query = query.where(sa.func.lower(getattr(MarketListing, key)) == str(filters[key]).lower())
        for key in ("condition", "category", "era"):
            if filters.get(key):
                query = query.where(getattr(MarketListing, key) == filters[key])
        if filters.get("exclude_sold"):
            query = query.where(sa.or_(MarketListing.sold.is_(None), MarketListing.sold.is_(False)))
        haystack = sa.func.lower(
            MarketListing.title
            + " "
            + sa.func.coalesce(MarketListing.brand, "")
            + " "
            + MarketListing.description
        )
        for term in (search.query or "").split():
            query = query.where(haystack.contains(term.lower(), autoescape=True))
        return list(self.session.scalars(query.order_by(MarketListing.id).limit(limit)))

    # ---- aggregates ----------------------------------------------------------------------------------------

    def counts_by_platform(self, since: dt.datetime | None = None) -> dict[str, int]:
        query = sa.select(MarketListing.platform, sa.func.count()).group_by(MarketListing.platform)
        if since is not None:
            query = query.where(MarketListing.first_seen_at >= since)
        return {platform: int(count) for platform, count in self.session.execute(query)}

    def price_stats(self, since: dt.datetime | None = None, platform: str | None = None) -> dict[str, Any]:
        query = sa.select(
            sa.func.count(MarketListing.price_base),
            sa.func.avg(MarketListing.price_base),
            sa.func.min(MarketListing.price_base),
            sa.func.max(MarketListing.price_base),
        )
        if since is not None:
            query = query.where(MarketListing.first_seen_at >= since)
        if platform:
            query = query.where(MarketListing.platform == platform)
        count, avg, low, high = self.session.execute(query).one()
        return {
            "priced": int(count or 0),
            "avg_price": _money(avg),
            "min_price": _money(low),
            "max_price": _money(high),
        }

    def top_brands(
        self, since: dt.datetime, limit: int, platform: str | None = None, category: str | None = None
    ) -> list[dict[str, Any]]:
        query = (
            sa.select(
                MarketListing.brand,
                sa.func.count().label("listings"),
                sa.func.avg(MarketListing.price_base).label("avg_price"),
                sa.func.avg(MarketListing.engagement_score).label("avg_engagement"),
            )
            .where(MarketListing.brand.is_not(None), MarketListing.first_seen_at >= since)
            .group_by(MarketListing.brand)
            .order_by(sa.text("listings DESC"), MarketListing.brand)
            .limit(limit)
        )
        if platform:
            query = query.where(MarketListing.platform == platform)
        if category:
            query = query.where(MarketListing.category == category)
        return [
            {
                "brand": row.brand,
                "listings": int(row.listings),
                "avg_price": _money(row.avg_price),
                "avg_engagement": None if row.avg_engagement is None else round(float(row.avg_engagement), 3),
            }
            for row in self.session.execute(query)
        ]

    def brand_counts(self, brands: Iterable[str], start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        names = list(brands)
        if not names:
            return {}
        query = (
            sa.select(MarketListing.brand, sa.func.count())
            .where(
                MarketListing.brand.in_(names),
                MarketListing.first_seen_at >= start,
                MarketListing.first_seen_at < end,
            )
            .group_by(MarketListing.brand)
        )
        return {str(brand): int(count) for brand, count in self.session.execute(query)}

    def price_values(
        self, since: dt.datetime, platform: str | None = None, category: str | None = None, limit: int = 20000
    ) -> list[Decimal]:
        query = sa.select(MarketListing.price_base).where(
            MarketListing.price_base.is_not(None), MarketListing.first_seen_at >= since
        )
        if platform:
            query = query.where(MarketListing.platform == platform)
        if category:
            query = query.where(MarketListing.category == category)
        return [Decimal(v) for v in self.session.scalars(query.limit(limit)) if v is not None]


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


class SyncJobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, record: MarketSyncJob) -> MarketSyncJob:
        self.session.add(record)
        self.session.flush()
        return record

    def get(self, record_id: int) -> MarketSyncJob | None:
        return self.session.get(MarketSyncJob, record_id)

    def history(
        self, *, platform: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[MarketSyncJob], int]:
        query = sa.select(MarketSyncJob)
        if platform:
            query = query.where(MarketSyncJob.platform == platform)
        if status:
            query = query.where(MarketSyncJob.status == status)
        total = self.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        items = self.session.scalars(
            query.order_by(MarketSyncJob.started_at.desc(), MarketSyncJob.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(items), int(total)

    def for_job(self, job_id: int) -> list[MarketSyncJob]:
        return list(
            self.session.scalars(
                sa.select(MarketSyncJob).where(MarketSyncJob.job_id == job_id).order_by(MarketSyncJob.id)
            )
        )

    def last_by_platform(self) -> dict[str, MarketSyncJob]:
        latest = (
            sa.select(MarketSyncJob.platform, sa.func.max(MarketSyncJob.id).label("id"))
            .group_by(MarketSyncJob.platform)
            .subquery()
        )
        rows = self.session.scalars(sa.select(MarketSyncJob).join(latest, MarketSyncJob.id == latest.c.id))
        return {row.platform: row for row in rows}

    def last_success_by_platform(self) -> dict[str, dt.datetime]:
        query = (
            sa.select(MarketSyncJob.platform, sa.func.max(MarketSyncJob.finished_at))
            .where(MarketSyncJob.status == "completed")
            .group_by(MarketSyncJob.platform)
        )
        return {platform: at for platform, at in self.session.execute(query) if at is not None}

    def delete_older_than(self, cutoff: dt.datetime) -> int:
        result = self.session.execute(sa.delete(MarketSyncJob).where(MarketSyncJob.started_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class TrendRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def query(
        self,
        *,
        since: dt.datetime,
        platform: str | None,
        category: str | None,
        brand: str | None,
        limit: int = 2000,
    ) -> list[MarketTrend]:
        query = sa.select(MarketTrend).where(MarketTrend.period_start >= since, MarketTrend.period == "day")
        query = query.where(MarketTrend.platform == (platform or "all"))
        query = query.where(MarketTrend.category == (category or ""))
        query = query.where(MarketTrend.brand == (brand or ""))
        return list(self.session.scalars(query.order_by(MarketTrend.period_start).limit(limit)))


class SavedSearchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, search_id: int) -> SavedSearch | None:
        return self.session.get(SavedSearch, search_id)

    def all(self) -> list[SavedSearch]:
        return list(self.session.scalars(sa.select(SavedSearch).order_by(SavedSearch.id)))

    def watched(self) -> list[SavedSearch]:
        return list(
            self.session.scalars(
                sa.select(SavedSearch).where(SavedSearch.notify_enabled.is_(True)).order_by(SavedSearch.id)
            )
        )

    def add(self, search: SavedSearch) -> SavedSearch:
        self.session.add(search)
        self.session.flush()
        return search

    def delete(self, search: SavedSearch) -> None:
        self.session.delete(search)
        self.session.flush()

    def listings(self, ids: Sequence[int]) -> list[MarketListing]:
        if not ids:
            return []
        return list(
            self.session.scalars(
                sa.select(MarketListing).where(MarketListing.id.in_(list(ids))).order_by(MarketListing.id)
            )
        )
