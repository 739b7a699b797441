"""RIFF's job engine: every marketplace call runs as a job kept in RIFF's own database.

Public API (everything else in this package is internal):

    from riff.jobs import enqueue, job_handler, JobContext, Priority, RetryableJobError, PermanentJobError

    with database.session() as session:                      # the caller's unit of work
        product.price = new_price
        enqueue(session, "reverb.update_price", channel="reverb", product_id=product.id,
                priority=Priority.HIGH, coalesce_key=f"reverb.update_price:{product.id}")

    @job_handler("reverb.update_price")
    async def update_price(ctx: JobContext) -> dict | None:
        await ctx.rate_limiter.acquire("reverb")
        ...

See docs/jobs.md for states, idempotency, priorities, rate limits, the scheduler and scaling out.
"""

from riff.jobs.config import JobsSettings, get_jobs_settings
from riff.jobs.consts import BULK, HIGH, LOW, NORMAL, URGENT, JobStatus, Priority
from riff.jobs.errors import (
    JobError,
    JobNotFound,
    JobStateConflict,
    PermanentJobError,
    RateLimitWaitTooLong,
    RetryableJobError,
    classify,
)
from riff.jobs.models import Job
from riff.jobs.ratelimit import GcraBucket, RateLimiter, get_rate_limiter
from riff.jobs.registry import (
    Backoff,
    HookContext,
    JobContext,
    PendingIdResult,
    import_handler_modules,
    job_handler,
    on_worker_shutdown,
)
from riff.jobs.scheduler import Scheduler, add_default_schedule
from riff.jobs.service import (
    cancel_job,
    enqueue,
    fail_pending_id,
    resolve_pending_id,
    retry_job,
    update_job_payload,
)
from riff.jobs.worker import JobLeaseLost, Worker

__all__ = [
    "BULK",
    "HIGH",
    "LOW",
    "NORMAL",
    "URGENT",
    "Backoff",
    "GcraBucket",
    "HookContext",
    "Job",
    "JobContext",
    "JobError",
    "JobLeaseLost",
    "JobNotFound",
    "JobStateConflict",
    "JobStatus",
    "JobsSettings",
    "PendingIdResult",
    "PermanentJobError",
    "Priority",
    "RateLimitWaitTooLong",
    "RateLimiter",
    "RetryableJobError",
    "Scheduler",
    "Worker",
    "add_default_schedule",
    "cancel_job",
    "classify",
    "enqueue",
    "fail_pending_id",
    "get_jobs_settings",
    "get_rate_limiter",
    "import_handler_modules",
    "job_handler",
    "on_worker_shutdown",
    "resolve_pending_id",
    "retry_job",
    "update_job_payload",
]
