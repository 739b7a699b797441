"""Platforms, job kinds, schedules and rate limits of the research collectors."""

from __future__ import annotations

import enum

from riff.jobs.consts import Priority


class Platform(enum.StrEnum):
    EBAY = "ebay"
    ETSY = "etsy"
    REDDIT = "reddit"


PLATFORMS: tuple[str, ...] = tuple(p.value for p in Platform)


class SyncStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class Category(enum.StrEnum):
    GUITAR = "guitar"
    BASS = "bass"
    AMP = "amp"
    RECORD = "record"
    DENIM = "denim"
    OTHER = "other"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)

# Job kinds (handlers in riff.research.tasks).
KIND_SYNC = "research.sync"
KIND_TRENDS = "research.daily_trends"
KIND_CLEANUP = "research.cleanup_sync_jobs"
KIND_ANALYZE = "research.analyze_listing"
KIND_CHECK_SAVED = "research.check_saved_searches"
KIND_NOTIFY = "research.notify_saved_search"

# Every platform every 6 hours, 2 hours apart; trends daily at 01:00; cleanup daily at 03:00 (UTC).
SYNC_CRONS: dict[str, str] = {
    Platform.EBAY: "0 0,6,12,18 * * *",
    Platform.ETSY: "0 2,8,14,20 * * *",
    Platform.REDDIT: "0 4,10,16,22 * * *",
}
TRENDS_CRON = "0 1 * * *"
CLEANUP_CRON = "0 3 * * *"
SYNC_PRIORITY = int(Priority.LOW)
MANUAL_SYNC_PRIORITY = int(Priority.NORMAL)
SYNC_JOB_RETENTION_DAYS = 30

# Rate-limit buckets (riff.jobs.ratelimit GCRA buckets shared by every process). A platform may need more
# than one: Etsy limits both per second and per rolling day.
#   eBay Browse: 5,000 calls a day per application (default quota).
#   Etsy Open API v3: 10 requests a second and 10,000 a day per application (new apps).
#   Reddit Data API: 1,000 requests per 600 s window per OAuth client (x-ratelimit-* headers); the burst
#   of 60 keeps any 600 s window at 60 + 1.5 * 600 = 960.
RATE_LIMIT_BUCKETS: dict[str, tuple[str, ...]] = {
    Platform.EBAY: ("research.ebay.day",),
    Platform.ETSY: ("research.etsy.second", "research.etsy.day"),
    Platform.REDDIT: ("research.reddit",),
}
DEFAULT_RATE_LIMITS: dict[str, dict[str, float]] = {
    "research.ebay.day": {"rate": 5000 / 86400, "burst": 200.0},
    "research.etsy.second": {"rate": 10.0, "burst": 10.0},
    "research.etsy.day": {"rate": 10000 / 86400, "burst": 500.0},
    "research.reddit": {"rate": 1.5, "burst": 60.0},
}

EBAY_MAX_PAGE = 200
EBAY_MAX_OFFSET = 9999  # Browse returns at most 10,000 items for a query
ETSY_MAX_PAGE = 100
ETSY_BATCH_MAX = 100
REDDIT_MAX_PAGE = 100

LISTING_SORTS = ("created_at", "price", "trend_score", "last_seen_at", "engagement_score")
MAX_LISTING_PAGE = 200
MAX_TREND_DAYS = 90
