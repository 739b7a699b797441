"""Sync centre (``/sync``): per channel the last and next pull, "sync now" with live progress, recent
sync events and failed jobs with retry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from riff.auth.deps import CurrentUser, Writer
from riff.channels import service as channels
from riff.channels.registry import CHANNELS
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError
from riff.core.logging import get_logger
from riff.jobs import service as jobs
from riff.jobs.config import get_jobs_settings
from riff.jobs.consts import JobStatus
from riff.jobs.errors import JobNotFound
from riff.jobs.scheduler import Scheduler
from riff.web.common import REFRESH_PROGRESS_SECONDS, enabled_accounts, error_page
from riff.web.repository import UiRepository
from riff.web.templating import flash, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

PULL_KINDS = ("pull_listings", "pull_sync")
REFRESH_SYNC_STATUS_SECONDS = 15
RECENT_EVENTS = 30
RECENT_FAILURES = 20


def _schedules(request: Request) -> dict[str, Any]:
    settings = getattr(request.app.state, "jobs_settings", None) or get_jobs_settings()
    try:
        infos = Scheduler(get_database(request), settings).describe()
    except Exception:  # the page must render even when a schedule is misconfigured
        log.warning("web.sync.schedules.unavailable", exc_info=True)
        return {}
    return {info.channel: info for info in infos if info.channel and info.kind.endswith(".pull_sync")}


def status_context(request: Request, session: Session) -> dict[str, Any]:
    repository = UiRepository(session)
    accounts = enabled_accounts(session)
    all_accounts = channels.list_accounts(session)
    slugs = list(dict.fromkeys([*(a.channel for a in accounts), *(a.channel for a in all_accounts)]))
    kinds = [f"{slug}.{kind}" for slug in slugs for kind in PULL_KINDS]
    active = repository.active_jobs(kinds)
    finished = repository.last_finished_jobs(kinds)
    last_pulled = repository.last_pulled_by_channel()
    counts = repository.listing_counts()
    schedules = _schedules(request)
    rows = []
    for slug in slugs:
        account = next((a for a in accounts if a.channel == slug), None) or next(
            a for a in all_accounts if a.channel == slug
        )
        running = [active[k] for k in (f"{slug}.{kind}" for kind in PULL_KINDS) if k in active]
        done = [finished[k] for k in (f"{slug}.{kind}" for kind in PULL_KINDS) if k in finished]
        last_job = max(done, key=lambda j: j.id) if done else None
        rows.append(
            {
                "channel": slug,
                "account": account,
                "has_adapter": slug in CHANNELS,
                "live": counts.get(slug, {}).get("live", 0),
                "last_pulled_at": last_pulled.get(slug),
                "last_job": last_job,
                "active_job": running[0] if running else None,
                "schedule": schedules.get(slug),
            }
        )
    return {
        "rows": rows,
        "refresh_seconds": REFRESH_SYNC_STATUS_SECONDS,
        "progress_seconds": REFRESH_PROGRESS_SECONDS,
    }


@router.get("/sync", response_class=HTMLResponse)
def sync_centre(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    failed, failed_total = jobs.list_jobs(session, statuses=[JobStatus.FAILED.value], limit=RECENT_FAILURES)
    repository = UiRepository(session)
    events = repository.events(limit=RECENT_EVENTS)
    context = {
        "title": "Sync",
        **status_context(request, session),
        "events": events,
        "products": repository.product_titles([e.product_id for e in events if e.product_id]),
        "failed_jobs": failed,
        "failed_total": failed_total,
    }
    return render(request, "sync/index.html", context)


@router.get("/sync/status", response_class=HTMLResponse)
def sync_status(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    return render(request, "sync/partials/status.html", status_context(request, session))


@router.post("/sync/{channel}/pull", response_class=HTMLResponse)
def sync_now(request: Request, channel: str, user: Writer) -> Response:
    database = get_database(request)
    try:
        with database.session() as session:
            channels.request_pull_listings(session, channel)
        flash(request, f"Pull from {channel} requested.", "info")
        log.info("web.sync.pull.requested", channel=channel, actor=user.username)
    except RiffError as exc:
        flash(request, f"{channel}: {exc.message}", "error")
    with database.read_session() as session:
        return render(request, "sync/partials/status.html", status_context(request, session))


@router.get("/sync/jobs/{job_id}", response_class=HTMLResponse)
def job_progress(request: Request, job_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    try:
        job = jobs.get_job(session, job_id)
    except JobNotFound as exc:
        return error_page(request, exc)
    return render(
        request, "sync/partials/job_progress.html", {"job": job, "progress_seconds": REFRESH_PROGRESS_SECONDS}
    )
