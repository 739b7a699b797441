"""Research tables: market listings seen on other platforms, sync runs, daily trends, saved searches."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, Money, UTCDateTime


class MarketListing(Base):
    """One listing (or Reddit post/comment offering an item) seen on a platform; upserted by
    (platform, external_id) so a listing seen again only moves ``last_seen_at``."""

    __tablename__ = "market_listings"
    __table_args__ = (
        sa.UniqueConstraint("platform", "external_id", name="uq_market_listings_platform_external_id"),
        sa.Index("ix_market_listings_first_seen_at", "first_seen_at"),
        sa.Index("ix_market_listings_platform_last_seen", "platform", "last_seen_at"),
        sa.Index("ix_market_listings_brand_price", "brand", "price_base"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    external_id: Mapped[str] = mapped_column(sa.String(120))
    url: Mapped[str | None] = mapped_column(sa.String(1000))
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    # ``price`` in the research base currency (static configurable rates): what trends compare.
    price_base: Mapped[Decimal | None] = mapped_column(Money)
    condition: Mapped[str | None] = mapped_column(sa.String(60))
    brand: Mapped[str | None] = mapped_column(sa.String(120))
    size: Mapped[str | None] = mapped_column(sa.String(40))
    era: Mapped[str | None] = mapped_column(sa.String(10))
    category: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    image_urls: Mapped[list[str]] = mapped_column(JSONType, default=list)
    seller: Mapped[str | None] = mapped_column(sa.String(120))
    engagement_score: Mapped[float | None] = mapped_column(sa.Float)
    trend_score: Mapped[float | None] = mapped_column(sa.Float)
    ai_tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    ai_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    ai_method: Mapped[str | None] = mapped_column(sa.String(80))
    analyzed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sold: Mapped[bool | None] = mapped_column(sa.Boolean)
    listed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class MarketSyncJob(Base):
    """One collector run (one attempt of a ``research.sync`` job)."""

    __tablename__ = "market_sync_jobs"
    __table_args__ = (sa.Index("ix_market_sync_jobs_platform_started", "platform", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    trigger: Mapped[str] = mapped_column(sa.String(20), default="schedule")
    job_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    queries: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[float | None] = mapped_column(sa.Float)
    requests: Mapped[int] = mapped_column(sa.Integer, default=0)
    fetched: Mapped[int] = mapped_column(sa.Integer, default=0)
    added: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated: Mapped[int] = mapped_column(sa.Integer, default=0)
    unchanged: Mapped[int] = mapped_column(sa.Integer, default=0)
    errors: Mapped[int] = mapped_column(sa.Integer, default=0)
    error_detail: Mapped[str | None] = mapped_column(sa.Text)


class MarketTrend(Base):
    """Aggregates of the listings first seen in one period, per platform / category / brand. ``all`` and
    the empty string stand for "every platform" and "every category/brand". Prices in the base currency."""

    __tablename__ = "market_trends"
    __table_args__ = (
        sa.UniqueConstraint(
            "period", "period_start", "platform", "category", "brand", name="uq_market_trends_period_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(sa.String(10), default="day")
    period_start: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    platform: Mapped[str] = mapped_column(sa.String(20))
    category: Mapped[str] = mapped_column(sa.String(20), default="")
    brand: Mapped[str] = mapped_column(sa.String(120), default="")
    listing_count: Mapped[int] = mapped_column(sa.Integer)
    sold_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    avg_price: Mapped[Decimal | None] = mapped_column(Money)
    median_price: Mapped[Decimal | None] = mapped_column(Money)
    min_price: Mapped[Decimal | None] = mapped_column(Money)
    max_price: Mapped[Decimal | None] = mapped_column(Money)
    p25_price: Mapped[Decimal | None] = mapped_column(Money)
    p75_price: Mapped[Decimal | None] = mapped_column(Money)
    iqr_price: Mapped[Decimal | None] = mapped_column(Money)
    avg_engagement: Mapped[float | None] = mapped_column(sa.Float)
    currency: Mapped[str] = mapped_column(sa.String(3))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SavedSearch(Base):
    """A multi-platform search watched after every sync; new matches are POSTed to ``notify_url``."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    query: Mapped[str] = mapped_column(sa.String(200), default="")
    platforms: Mapped[list[str]] = mapped_column(JSONType, default=list)
    min_price: Mapped[Decimal | None] = mapped_column(Money)
    max_price: Mapped[Decimal | None] = mapped_column(Money)
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    notify_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    notify_url: Mapped[str | None] = mapped_column(sa.String(1000))
    # High-water mark: listings with a larger id have not been checked against this search yet.
    last_listing_id: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    match_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
