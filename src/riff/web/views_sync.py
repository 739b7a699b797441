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
from riff.jobs.consts import JobStatus
from riff.jobs.errors import JobNotFound
from riff.sync import service as sync
from riff.sync import status as sync_status
from riff.web.common import REFRESH_PROGRESS_SECONDS, enabled_accounts, error_page
from riff.web.repository import UiRepository
from riff.web.templating import flash, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

PULL_KIND = "pull_listings"
REFRESH_SYNC_STATUS_SECONDS = 15
RECENT_EVENTS = 30
RECENT_FAILURES = 20


def status_context(request: Request, session: Session) -> dict[str, Any]:
    """Per channel: the sync engine's status (last/next pull, errors, sale -> delist latency), the
    account, and the pull job queued or running now (shown with live progress)."""
    repository = UiRepository(session)
    overview = sync_status.status(session, get_database(request))
    accounts = {a.channel: a for a in reversed(channels.list_accounts(session))}
    for account in enabled_accounts(session):
        accounts[account.channel] = account  # the enabled one wins
    active = repository.active_jobs([f"{item['channel']}.{PULL_KIND}" for item in overview["channels"]])
    live = repository.listing_counts()
    rows = [
        {
            **item,
            "account": accounts.get(item["channel"]),
            "has_adapter": item["channel"] in CHANNELS,
            "live": live.get(item["channel"], {}).get("live", 0),
            "active_job": active.get(f"{item['channel']}.{PULL_KIND}"),
        }
        for item in overview["channels"]
    ]
    return {
        "rows": rows,
        "overall_latency": overview["sale_to_delist"],
        "open_oversells": overview["open_oversells"],
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
def sync_status_panel(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    return render(request, "sync/partials/status.html", status_context(request, session))


@router.post("/sync/{channel}/pull", response_class=HTMLResponse)
def sync_now(request: Request, channel: str, user: Writer) -> Response:
    database = get_database(request)
    try:
        with database.session() as session:
            sync.request_pull(session, channel, actor=user.username)
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
