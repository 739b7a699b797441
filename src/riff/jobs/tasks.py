"""The job engine's own periodic work."""

from __future__ import annotations

from typing import Any

from riff.jobs import service
from riff.jobs.registry import JobContext, job_handler

PRUNE_BATCH = 1000


@job_handler("jobs.prune", max_attempts=3)
def prune_finished_jobs(ctx: JobContext) -> dict[str, Any]:
    """Delete completed and cancelled jobs older than ``job_retention_days``, a batch per transaction so
    workers claiming jobs meanwhile never wait long. Failed jobs are kept until retried or cancelled."""
    deleted = 0
    while True:
        with ctx.database.session() as session:
            batch = service.prune_finished(
                session, retention_days=ctx.settings.job_retention_days, batch=PRUNE_BATCH
            )
        deleted += batch
        if batch < PRUNE_BATCH or ctx.stop_requested:
            break
        ctx.heartbeat()
    ctx.logger.info("jobs.prune.done", deleted=deleted)
    return {"deleted": deleted}
