"""Research job handlers and their default schedules.

Schedules are contributed through the job engine's schedule config (``riff.jobs.add_default_schedule``;
every worker imports this module before its scheduler starts), so ``RIFF_JOBS_SCHEDULES`` overrides or
disables them by name:

- ``research.sync_ebay`` 00:00/06:00/12:00/18:00, ``research.sync_etsy`` +2 h, ``research.sync_reddit``
  +4 h (UTC): kind ``research.sync`` with payload ``{"platform": ...}``
- ``research.daily_trends`` daily at 01:00
- ``research.cleanup_sync_jobs`` daily at 03:00 (sync-job history older than 30 days)

Rate limits: ``riff.research.consts.DEFAULT_RATE_LIMITS`` buckets, overridable with
``RIFF_RESEARCH_RATE_LIMITS``.
"""

from __future__ import annotations

from typing import Any

from riff.jobs import PermanentJobError, RetryableJobError, add_default_schedule, job_handler
from riff.jobs.consts import Priority
from riff.jobs.registry import JobContext
from riff.research import service
from riff.research.collectors import NotConfigured, build_collector, research_rate_limiter
from riff.research.config import get_research_settings
from riff.research.consts import (
    CLEANUP_CRON,
    KIND_ANALYZE,
    KIND_CHECK_SAVED,
    KIND_CLEANUP,
    KIND_NOTIFY,
    KIND_SYNC,
    KIND_TRENDS,
    SYNC_CRONS,
    SYNC_PRIORITY,
    TRENDS_CRON,
)

for _platform, _cron in SYNC_CRONS.items():
    add_default_schedule(
        f"research.sync_{_platform}",
        cron=_cron,
        kind=KIND_SYNC,
        priority=SYNC_PRIORITY,
        payload={"platform": str(_platform), "trigger": "schedule"},
    )
add_default_schedule("research.daily_trends", cron=TRENDS_CRON, kind=KIND_TRENDS, priority=int(Priority.LOW))
add_default_schedule(
    "research.cleanup_sync_jobs", cron=CLEANUP_CRON, kind=KIND_CLEANUP, priority=int(Priority.LOW)
)


@job_handler(KIND_SYNC, max_attempts=5, timeout_seconds=3600)
async def sync(ctx: JobContext) -> dict[str, Any]:
    """Collect one platform's configured searches (or the payload's ad-hoc query) into market_listings."""
    research = get_research_settings()
    platform = service.ensure_platform(str(ctx.payload.get("platform", "")))
    trigger = str(ctx.payload.get("trigger") or ("schedule" if ctx.payload.get("schedule") else "manual"))
    specs = service.specs_for_payload(research, platform, ctx.payload)
    limiter = research_rate_limiter(ctx.database, ctx.settings, research)
    try:
        collector = build_collector(platform, research, rate_limiter=limiter)
    except NotConfigured as exc:
        service.record_not_configured(ctx.database, platform, ctx.job_id, exc.message, trigger)
        ctx.logger.info("research.sync.not_configured", platform=platform)
        return {"skipped": exc.message}
    try:
        result = await service.run_sync(
            ctx.database, collector, research, specs=specs, job_id=ctx.job_id, trigger=trigger,
            heartbeat=ctx.heartbeat,
        )  # fmt: skip
    finally:
        await collector.aclose()
    return result.as_dict()


@job_handler(KIND_TRENDS, max_attempts=3)
def daily_trends(ctx: JobContext) -> dict[str, Any]:
    days = int(ctx.payload.get("days") or 1)
    with ctx.database.session() as session:
        return service.run_daily_trends(session, get_research_settings(), days=days)


@job_handler(KIND_CLEANUP, max_attempts=3)
def cleanup_sync_jobs(ctx: JobContext) -> dict[str, Any]:
    with ctx.database.session() as session:
        deleted = service.cleanup_sync_jobs(session)
    return {"deleted": deleted}


@job_handler(KIND_CHECK_SAVED, max_attempts=5)
def check_saved_searches(ctx: JobContext) -> dict[str, Any]:
    with ctx.database.session() as session:
        return service.check_saved_searches(session)


@job_handler(KIND_NOTIFY, max_attempts=8)
async def notify_saved_search(ctx: JobContext) -> dict[str, Any]:
    try:
        return await service.send_notification(ctx.database, ctx.payload)
    except service.NotifyFailed as exc:
        if exc.retryable:
            raise RetryableJobError(str(exc)) from exc
        raise PermanentJobError(str(exc)) from exc


@job_handler(KIND_ANALYZE, max_attempts=3)
async def analyze_listing(ctx: JobContext) -> dict[str, Any]:
    return await service.analyze_listing(
        ctx.database, int(ctx.payload["listing_id"]), get_research_settings()
    )
