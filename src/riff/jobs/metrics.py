"""Prometheus metrics of the job engine.

Two kinds:
- Process metrics (durations, outcomes, rate-limit waits) live in the default registry of the process
  that ran the job: the web process when ``riff up`` embeds a worker, else each ``riff worker``
  (served on ``--metrics-port``).
- Queue metrics (depth by status/channel, oldest queued age, failures in the last hour) are read from the
  database at scrape time, so any one scrape of ``/metrics`` sees the whole cluster's queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from riff.core.db import Database

JOB_DURATION = Histogram(
    "riff_job_duration_seconds",
    "Wall time of one job attempt",
    ["kind", "outcome"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800),
)
JOB_FAILURES = Counter("riff_job_failures_total", "Failed job attempts", ["kind", "channel", "retryable"])
JOBS_ENQUEUED = Counter("riff_jobs_enqueued_total", "Jobs enqueued (coalesced requests excluded)", ["kind"])
JOBS_CLAIMED = Counter("riff_jobs_claimed_total", "Job attempts started", ["kind"])
LEASES_RECOVERED = Counter("riff_job_leases_recovered_total", "Jobs requeued after their lease expired")
RATE_LIMIT_WAIT = Histogram(
    "riff_rate_limit_wait_seconds",
    "Time spent waiting for a channel's shared rate limit",
    ["channel"],
    buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
RATE_LIMIT_PENALTIES = Counter(
    "riff_rate_limit_penalties_total", "429 responses that slowed a channel down", ["channel"]
)


def enqueued(kind: str) -> None:
    JOBS_ENQUEUED.labels(kind=kind).inc()


def _label(value: str | None) -> str:
    return value or ""


def attempt_finished(
    kind: str, channel: str | None, outcome: str, seconds: float, retryable: bool | None
) -> None:
    JOB_DURATION.labels(kind=kind, outcome=outcome).observe(seconds)
    if outcome != "completed":
        JOB_FAILURES.labels(kind=kind, channel=_label(channel), retryable=str(bool(retryable)).lower()).inc()


class QueueCollector(Collector):
    """Reads queue depth from the database when scraped."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Any]:
        from riff.jobs import service

        with self.database.read_session() as session:
            stats = service.queue_stats(session)
        depth = GaugeMetricFamily(
            "riff_jobs_queue_depth", "Jobs by status and channel", labels=["status", "channel"]
        )
        for channel, statuses in sorted(stats.by_channel.items()):
            for status, count in sorted(statuses.items()):
                depth.add_metric([status, "" if channel == service.NO_CHANNEL else channel], count)
        yield depth
        oldest = GaugeMetricFamily(
            "riff_jobs_oldest_queued_age_seconds", "How long the longest-waiting runnable job has waited"
        )
        oldest.add_metric([], stats.oldest_queued_age_seconds or 0.0)
        yield oldest
        failed = GaugeMetricFamily("riff_jobs_failed_last_hour", "Jobs that ended failed in the last hour")
        failed.add_metric([], stats.failed_last_hour)
        yield failed
        expired = GaugeMetricFamily("riff_jobs_expired_leases", "Running jobs whose lease has expired")
        expired.add_metric([], stats.expired_leases)
        yield expired


def render(database: Database) -> bytes:
    """The process's own metrics plus the database-wide queue metrics, in the text exposition format."""
    queue_registry = CollectorRegistry(auto_describe=False)
    queue_registry.register(QueueCollector(database))
    return generate_latest(REGISTRY) + generate_latest(queue_registry)
