"""Dashboard (``/``): stock, listings, sales, queue and alerts; the figures refresh every few seconds."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from riff.auth.deps import CurrentUser
from riff.channels.models import AccountStatus
from riff.core.clock import utcnow
from riff.core.deps import ReadSession
from riff.jobs import service as jobs
from riff.sync import service as sync
from riff.sync import status as sync_status
from riff.web.common import REFRESH_DASHBOARD_SECONDS, enabled_accounts
from riff.web.repository import UiRepository
from riff.web.templating import render

router = APIRouter(include_in_schema=False)

OVERSELLS_SHOWN = 5


def dashboard_data(session: Session) -> dict[str, Any]:
    now = utcnow()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - dt.timedelta(days=today.weekday())
    hour_ago = now - dt.timedelta(hours=1)
    repository = UiRepository(session)
    accounts = enabled_accounts(session)
    listing_counts = repository.listing_counts()
    failed_jobs = repository.failed_jobs_by_channel(hour_ago)
    stats = jobs.queue_stats(session)
    channels = sorted({a.channel for a in accounts} | set(listing_counts))
    oversells, open_oversells = sync.oversells(session, open_only=True, limit=OVERSELLS_SHOWN)
    attention = [a for a in accounts if a.status == AccountStatus.NEEDS_ATTENTION]
    failing = sorted({a.channel for a in attention} | {c for c, n in failed_jobs.items() if n and c != "-"})
    return {
        "now": now,
        "stock": repository.stock_summary(),
        "channels": channels,
        "listing_counts": listing_counts,
        "sales_today": repository.sales_since(today),
        "sales_week": repository.sales_since(week),
        "queue": stats,
        "queue_depth": stats.by_status.get("queued", 0),
        "running": stats.by_status.get("in_progress", 0),
        "attention_accounts": attention,
        "failed_jobs": failed_jobs,
        "failing_channels": failing,
        "oversells": oversells,
        "open_oversells": open_oversells,
        "latency": {channel: sync_status.latency(session, channel) for channel in channels},
        "refresh_seconds": REFRESH_DASHBOARD_SECONDS,
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    return render(request, "dashboard/index.html", {"title": "Dashboard", **dashboard_data(session)})


@router.get("/dashboard/stats", response_class=HTMLResponse)
def dashboard_stats(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    return render(request, "dashboard/partials/stats.html", dashboard_data(session))
