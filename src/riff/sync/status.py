"""The sync status page: per channel, last and next pull, last error, events and failures in the last
24 hours, and the measured sale -> delist latency (p50/p95 over the last 100 sales that had to end
listings elsewhere: from the order's arrival, webhook or poll, to the last of those listings confirmed
ended)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from riff.channels.registry import CHANNEL_SLUGS
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.orders.repository import OrderRepository
from riff.sync.consts import LATENCY_SAMPLE
from riff.sync.repository import SyncRepository


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def latency(session: Session, channel: str | None = None, sample: int = LATENCY_SAMPLE) -> dict[str, Any]:
    done = SyncRepository(session).recent_propagations(channel, sample)
    seconds = [
        (p.completed_at - p.received_at).total_seconds() * 1000 for p in done if p.completed_at and p.targets
    ]
    return {
        "sales": len(seconds),
        "p50_ms": _round(percentile(seconds, 0.50)),
        "p95_ms": _round(percentile(seconds, 0.95)),
        "max_ms": _round(max(seconds) if seconds else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _next_pulls(database: Database | None, now: dt.datetime) -> dict[str, dt.datetime]:
    if database is None:
        return {}
    from riff.jobs.scheduler import Scheduler

    found: dict[str, dt.datetime] = {}
    for info in Scheduler(database).describe(now):
        if info.kind.endswith(".pull_listings") and info.channel:
            found[info.channel] = min(info.next_fire_at, found.get(info.channel, info.next_fire_at))
    return found


def status(session: Session, database: Database | None = None) -> dict[str, Any]:
    repository = SyncRepository(session)
    now = utcnow()
    since = now - dt.timedelta(hours=24)
    states = repository.channel_states()
    accounts = repository.accounts()
    channels = [c for c in CHANNEL_SLUGS if c in states or any(a.channel == c for a in accounts)]
    events = repository.event_counts_since(since)
    failed_jobs = repository.failed_jobs_since(since)
    next_pulls = _next_pulls(database, now)
    oversells = OrderRepository(session).count_open_oversells()
    items = []
    for channel in channels:
        state = states.get(channel)
        count, failures = events.get(channel, (0, 0))
        items.append(
            {
                "channel": channel,
                "enabled": any(a.enabled for a in accounts if a.channel == channel),
                "last_pull_at": state.last_pull_finished_at if state else None,
                "last_full_pull_at": state.last_full_pull_at if state else None,
                "next_pull_at": next_pulls.get(channel),
                "last_pull": state.last_pull_stats if state else None,
                "last_error": state.last_error if state else None,
                "last_error_at": state.last_error_at if state else None,
                "events_24h": count,
                "failures_24h": failures + failed_jobs.get(channel, 0),
                "failed_jobs_24h": failed_jobs.get(channel, 0),
                "last_reconciliation": state.last_reconciliation if state else None,
                "sale_to_delist": latency(session, channel),
            }
        )
    return {"at": now, "channels": items, "sale_to_delist": latency(session), "open_oversells": oversells}
