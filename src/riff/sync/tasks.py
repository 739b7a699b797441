"""The sync engine's jobs and schedules.

Schedules are the job engine's (``riff.jobs.consts.DEFAULT_SCHEDULES``, overridable per schedule with
``RIFF_JOBS_SCHEDULES``); importing this module (every worker does) registers the sync engine's:

- ``<channel>.pull_listings``: hourly (the job engine's default, kept);
- ``<channel>.fetch_orders``: every 5 minutes instead of hourly, for the channels that poll orders; a poll
  reads orders updated since the last one, a request or two: well inside every platform's budget
  (eBay's 5,000 calls a day is the tightest: 288 polls);
- ``sync.reconcile``: nightly at 05:30 UTC (after the V&R window), a full pull of every channel whose result
  also writes the reconciliation summary.
"""

from __future__ import annotations

from typing import Any

from riff.core.logging import get_logger
from riff.jobs import JobContext, add_default_schedule, enqueue, job_handler
from riff.jobs import consts as jobs_consts
from riff.jobs.consts import Priority
from riff.jobs.registry import registered_kinds
from riff.sync.repository import SyncRepository

log = get_logger(__name__)

ORDER_POLL_CRON = "*/5 * * * *"
RECONCILE_CRON = "30 5 * * *"
JOB_ENGINE_ORDER_CRON = "5 * * * *"  # the job engine's own default, replaced by ORDER_POLL_CRON


def register_schedules() -> None:
    """Contribute the sync engine's schedules (``RIFF_JOBS_SCHEDULES`` still overrides them by name)."""
    for channel in jobs_consts.ORDER_CHANNELS:
        name = f"{channel}.fetch_orders"
        current = jobs_consts.DEFAULT_SCHEDULES.get(name)
        if current is not None and current.get("cron") == JOB_ENGINE_ORDER_CRON:
            add_default_schedule(
                name,
                cron=ORDER_POLL_CRON,
                kind=current.get("kind", name),
                channel=current.get("channel", channel),
                priority=int(current.get("priority", Priority.HIGH)),
                payload=current.get("payload"),
                replace=True,
            )
    add_default_schedule(
        "sync.reconcile", cron=RECONCILE_CRON, kind="sync.reconcile", priority=int(Priority.LOW)
    )


register_schedules()


@job_handler("sync.reconcile", max_attempts=3)
def reconcile_all(ctx: JobContext) -> dict[str, Any]:
    """Nightly: a full pull of every channel with an enabled account; each pull then writes its
    reconciliation summary (``payload.reconcile``)."""
    kinds = registered_kinds()
    queued: dict[str, int | None] = {}
    with ctx.database.session() as session:
        channels = sorted({a.channel for a in SyncRepository(session).accounts() if a.enabled})
        for channel in channels:
            kind = f"{channel}.pull_listings"
            if kind not in kinds:
                continue
            job = enqueue(
                session,
                kind,
                channel=channel,
                payload={"full": True, "reconcile": True, "requested_by": "sync.reconcile"},
                priority=Priority.LOW,
                coalesce_key=kind,
            )
            queued[channel] = int(job.id) if job is not None else None
    log.info("sync.reconcile.queued", channels=sorted(queued))
    return {"pulls": queued}
