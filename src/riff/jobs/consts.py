"""Job states, priorities and the platform defaults (rate limits, concurrency caps, schedules)."""

from __future__ import annotations

import enum
from typing import Any


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    # Reserved for Vintage & Rare: the listing was created but V&R returns no id; a later batch resolves it.
    COMPLETED_PENDING_ID = "completed_pending_id"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
# What the pruner deletes after the retention period; failed jobs stay until someone retries or cancels them.
PRUNABLE_STATUSES = (JobStatus.COMPLETED, JobStatus.CANCELLED)


class Priority(enum.IntEnum):
    """Lower runs first (claims order by priority, then run_after, then id)."""

    URGENT = 0  # end listings after a sale: every minute live is a chance to sell the item twice
    HIGH = 10  # price changes and single-item edits a person is waiting for
    NORMAL = 50
    LOW = 100  # periodic pulls, stats, housekeeping
    BULK = 200  # mass re-publish / backfills: never in the way of anything else


URGENT = Priority.URGENT
HIGH = Priority.HIGH
NORMAL = Priority.NORMAL
LOW = Priority.LOW
BULK = Priority.BULK

# PostgreSQL LISTEN/NOTIFY channel that enqueue notifies (on commit) and workers listen on.
NOTIFY_CHANNEL = "riff_jobs"

MAX_ERROR_MESSAGE_CHARS = 2000
MAX_KIND_CHARS = 100
MAX_COALESCE_KEY_CHARS = 200

DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_TIMEOUT_SECONDS = 1800.0
DEFAULT_LEASE_SECONDS = 60.0

# Per-bucket limits: ``rate`` units per second refilled, ``burst`` units available at once. A unit is one
# request unless the caller passes ``cost`` (Shopify GraphQL: the query's cost points).
DEFAULT_RATE_LIMITS: dict[str, dict[str, float]] = {
    # Reverb: "600 writes a minute" (EDOS README, not in the official docs); stay under it.
    "reverb": {"rate": 10.0, "burst": 20.0},
    # eBay Trading: ~5,000 calls a day per app; spread over the day with a modest burst.
    "ebay": {"rate": 5000 / 86400, "burst": 250.0},
    # Shopify REST Admin: leaky bucket of 40 requests, 2/s restore.
    "shopify": {"rate": 2.0, "burst": 40.0},
    # Shopify GraphQL Admin: cost points; 1000-point bucket, 50 points/s (the documented floor).
    "shopify_graphql": {"rate": 50.0, "burst": 1000.0},
    # Discogs: 60 requests in a moving 60 s window; a burst of 1 keeps any 60 s window at <= 60.
    "discogs": {"rate": 1.0, "burst": 1.0},
    # Vintage & Rare: a scraped website, not an API; be gentle (concurrency is capped to 1 as well).
    "vintage_and_rare": {"rate": 0.5, "burst": 2.0},
    "dhl": {"rate": 1.0, "burst": 1.0},
}

# Max jobs of a channel in progress at once across every worker process on every host.
DEFAULT_CONCURRENCY_LIMITS: dict[str, int] = {
    "vintage_and_rare": 1,
}

PULL_CHANNELS = ("reverb", "ebay", "shopify", "discogs")
ORDER_CHANNELS = ("reverb", "ebay", "shopify", "discogs")

# name -> schedule. Cron expressions are UTC. A schedule fires only from a scheduler whose process has a
# handler registered for its kind, so channels that are not built (or not installed) simply never fire.
# Kinds follow the channel packages' handlers (``riff.channels.<slug>.tasks``).
DEFAULT_SCHEDULES: dict[str, dict[str, Any]] = {
    # Hourly pull sync: listings (sold/ended elsewhere, remote edits) and orders, per channel.
    **{
        f"{channel}.pull_listings": {
            "cron": "0 * * * *",
            "kind": f"{channel}.pull_listings",
            "channel": channel,
            "priority": int(Priority.LOW),
        }
        for channel in PULL_CHANNELS
    },
    **{
        f"{channel}.fetch_orders": {
            "cron": "5 * * * *",
            "kind": f"{channel}.fetch_orders",
            "channel": channel,
            "priority": int(Priority.HIGH),  # a sale found here ends the item everywhere else
        }
        for channel in ORDER_CHANNELS
    },
    # V&R: the CSV export is heavy (30-60 s, ~3 MB) and the site is down around 03:00-05:00 UTC, so every
    # three hours, skipping 03:00.
    "vintage_and_rare.pull_listings": {
        "cron": "0 0,6,9,12,15,18,21 * * *",
        "kind": "vintage_and_rare.pull_listings",
        "channel": "vintage_and_rare",
        "priority": int(Priority.LOW),
    },
    "reverb.collect_stats": {"cron": "0 2 * * *", "kind": "reverb.collect_stats", "channel": "reverb"},
    "ebay.collect_stats": {"cron": "0 2 * * *", "kind": "ebay.collect_stats", "channel": "ebay"},
    "shopify.archive_sold": {"cron": "0 3 * * 0", "kind": "shopify.archive_sold", "channel": "shopify"},
    "catalog.check_images": {"cron": "0 2 * * *", "kind": "catalog.check_images"},
    "jobs.prune": {"cron": "0 * * * *", "kind": "jobs.prune"},
}
