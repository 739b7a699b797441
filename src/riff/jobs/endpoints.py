"""JSON API of the job queue (``/api/jobs``) and the Prometheus endpoint (``/metrics``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from riff.auth.deps import CurrentUser, Writer
from riff.core.deps import DbSession, ReadSession, get_database
from riff.jobs import metrics, service
from riff.jobs.config import JobsSettings, get_jobs_settings
from riff.jobs.consts import JobStatus
from riff.jobs.models import Job
from riff.jobs.scheduler import Scheduler
from riff.jobs.schemas import JobPage, JobRead, QueueStatsRead, ScheduleRead

router = APIRouter(tags=["jobs"])
metrics_router = APIRouter(tags=["system"])

_ERRORS: dict[int | str, dict[str, Any]] = {401: {"description": "Not logged in, or a bad API token"}}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    403: {"description": "Read-only role"},
    404: {"description": "No such job"},
    409: {"description": "The job's status does not allow this (e.g. it is running)"},
}


def _jobs_settings(request: Request) -> JobsSettings:
    return getattr(request.app.state, "jobs_settings", None) or get_jobs_settings()


@router.get("/api/jobs", response_model=JobPage, responses=_ERRORS)
def list_jobs(
    _user: CurrentUser,
    session: ReadSession,
    status: Annotated[list[JobStatus] | None, Query(description="Repeat to match several")] = None,
    channel: str | None = None,
    kind: str | None = None,
    product_id: int | None = None,
    listing_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Jobs, newest first, filtered by status, channel, kind, product or listing."""
    items, total = service.list_jobs(
        session,
        statuses=[s.value for s in status] if status else None,
        channel=channel,
        kind=kind,
        product_id=product_id,
        listing_id=listing_id,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/api/jobs/stats", response_model=QueueStatsRead, responses=_ERRORS)
def job_stats(_user: CurrentUser, session: ReadSession) -> dict[str, Any]:
    """Counts by status and channel, the longest wait of a runnable job, failures in the last hour."""
    return service.queue_stats(session).as_dict()


@router.get("/api/jobs/schedules", response_model=list[ScheduleRead], responses=_ERRORS)
def list_schedules(_user: CurrentUser, request: Request) -> Sequence[Any]:
    """Periodic schedules with their last and next fire times (UTC). ``handler_registered`` is as seen by
    this process."""
    return Scheduler(get_database(request), _jobs_settings(request)).describe()


@router.get(
    "/api/jobs/{job_id}", response_model=JobRead, responses={**_ERRORS, 404: {"description": "No such job"}}
)
def get_job(job_id: int, _user: CurrentUser, session: ReadSession) -> Job:
    return service.get_job(session, job_id)


@router.post("/api/jobs/{job_id}/retry", response_model=JobRead, responses=_WRITE_ERRORS)
def retry_job(job_id: int, _user: Writer, session: DbSession) -> Job:
    """Run a failed or cancelled job again (attempts start over), or a queued one right away."""
    return service.retry_job(session, job_id)


@router.post("/api/jobs/{job_id}/cancel", response_model=JobRead, responses=_WRITE_ERRORS)
def cancel_job(job_id: int, _user: Writer, session: DbSession) -> Job:
    """Cancel a queued job, or acknowledge a failed one. Running jobs cannot be cancelled."""
    return service.cancel_job(session, job_id)


@metrics_router.get("/metrics", include_in_schema=False, responses=_ERRORS)
def prometheus_metrics(_user: CurrentUser, request: Request) -> Response:
    """Prometheus text format. Authenticated like the API: give Prometheus the API token of a read-only
    user (``authorization: {type: Bearer, credentials: riff_...}`` in its scrape config)."""
    body = metrics.render(get_database(request))
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
