"""Jobs (``/jobs``): the queue by status and channel, with retry and cancel; the list refreshes itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from riff.auth.deps import CurrentUser, Writer
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError
from riff.core.logging import get_logger
from riff.jobs import service as jobs
from riff.jobs.consts import JobStatus
from riff.web.common import REFRESH_LIST_SECONDS, Page, page_number, query_url
from riff.web.templating import flash, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

RESULTS_TARGET = "jobs-results"
JOBS_PAGE_SIZE = 50
FILTER_KEYS = ("status", "channel", "kind", "product_id")


def jobs_context(request: Request, session: Session) -> dict[str, Any]:
    query = request.query_params
    params = {key: query.get(key, "").strip() for key in FILTER_KEYS if query.get(key, "").strip()}
    status = params.get("status")
    statuses = [status] if status in {s.value for s in JobStatus} else None
    product_id = int(params["product_id"]) if params.get("product_id", "").isdigit() else None
    number = page_number(query.get("page"))
    items, total = jobs.list_jobs(
        session,
        statuses=statuses,
        channel=params.get("channel") or None,
        kind=params.get("kind") or None,
        product_id=product_id,
        limit=JOBS_PAGE_SIZE,
        offset=(number - 1) * JOBS_PAGE_SIZE,
    )
    stats = jobs.queue_stats(session)
    return {
        "params": params,
        "items": items,
        "page": Page(number=number, size=JOBS_PAGE_SIZE, total=total),
        "page_url": lambda n: query_url("/jobs", params, page=n if n > 1 else None),
        "status_url": lambda s: query_url("/jobs", params, status=s, page=None),
        "stats": stats,
        "statuses": [s.value for s in JobStatus],
        "channels": sorted(c for c in stats.by_channel if c != jobs.NO_CHANNEL),
        "refresh_seconds": REFRESH_LIST_SECONDS,
        "self_url": query_url("/jobs", params, page=number if number > 1 else None),
    }


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    context = jobs_context(request, session)
    if request.headers.get("hx-target") == RESULTS_TARGET:
        return render(request, "jobs/partials/results.html", context)
    return render(request, "jobs/index.html", {"title": "Jobs", **context})


def _job_action(request: Request, job_id: int, action: str, view: str) -> Response:
    database = get_database(request)
    try:
        with database.session() as session:
            if action == "retry":
                jobs.retry_job(session, job_id)
            else:
                jobs.cancel_job(session, job_id)
        flash(request, f"Job {job_id} {'queued again' if action == 'retry' else 'cancelled'}.", "success")
    except RiffError as exc:
        flash(request, exc.message, "error")
    with database.read_session() as session:
        job = jobs.get_job(session, job_id)
        template = "jobs/partials/sync_row.html" if view == "sync" else "jobs/partials/row.html"
        return render(request, template, {"job": job})


@router.post("/jobs/{job_id}/retry", response_class=HTMLResponse)
def retry(request: Request, job_id: int, user: Writer, view: str = Form("")) -> Response:
    log.info("web.jobs.retry.requested", job_id=job_id, actor=user.username)
    return _job_action(request, job_id, "retry", view)


@router.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, job_id: int, user: Writer, view: str = Form("")) -> Response:
    log.info("web.jobs.cancel.requested", job_id=job_id, actor=user.username)
    return _job_action(request, job_id, "cancel", view)
