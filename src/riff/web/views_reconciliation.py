"""Reconciliation (``/reconciliation``): the sync engine's comparison of RIFF with each channel
(``riff.sync.reconcile``), one channel at a time, with its fixes: send RIFF's value to the channel, or
take the channel's value into RIFF. The report is computed on every load (the database compares; only
the mismatches come back), ``MISMATCHES_SHOWN`` at a time from a listing id cursor (``after``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from riff.auth.deps import CurrentUser, Writer
from riff.channels import service as channels
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError, ValidationFailed
from riff.core.logging import get_logger
from riff.sync import reconcile
from riff.web.common import query_url
from riff.web.templating import flash, redirect, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

MISMATCHES_SHOWN = 100
FIX_ACTIONS = ("push_local", "accept_remote")
FIX_LABELS = {"push_local": "Send RIFF's value", "accept_remote": "Take the channel's value"}


def _channels(session: Any, channel: str | None) -> tuple[list[str], str | None]:
    slugs = sorted({a.channel for a in channels.list_accounts(session)})
    return slugs, channel if channel in slugs else (slugs[0] if slugs else None)


@router.get("/reconciliation", response_class=HTMLResponse)
def reconciliation(
    request: Request,
    session: ReadSession,
    _user: CurrentUser,
    channel: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The page shell; the report itself loads right after (it compares every listing of the channel)."""
    slugs, chosen = _channels(session, channel)
    context = {
        "title": "Reconciliation",
        "slugs": slugs,
        "chosen": chosen,
        "channel_url": lambda slug: query_url("/reconciliation", {"channel": slug}),
        "report_url": query_url("/reconciliation/report", {"channel": chosen, "after": after or None}),
    }
    return render(request, "reconciliation/index.html", context)


@router.get("/reconciliation/report", response_class=HTMLResponse)
def reconciliation_report(
    request: Request,
    session: ReadSession,
    _user: CurrentUser,
    channel: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    _, chosen = _channels(session, channel)
    report = (
        reconcile.channel_report(session, chosen, limit=MISMATCHES_SHOWN, after=after) if chosen else None
    )

    def page_urls(cursor: int | None) -> dict[str, str]:
        params = {"channel": chosen, "after": cursor or None}
        return {
            "href": query_url("/reconciliation", params),
            "hx": query_url("/reconciliation/report", params),
        }

    return render(
        request,
        "reconciliation/partials/report.html",
        {"chosen": chosen, "report": report, "fix_labels": FIX_LABELS, "page_urls": page_urls},
    )


@router.post("/reconciliation/fix")
def fix(
    request: Request,
    user: Writer,
    listing_id: int = Form(...),
    action: str = Form(...),
    channel: str = Form(""),
    after: int = Form(0),
) -> Response:
    try:
        if action not in FIX_ACTIONS:
            raise ValidationFailed(f"unknown fix {action!r}", field="action")
        with get_database(request).session() as session:
            reconcile.fix(session, listing_id, action, actor=user.username)  # type: ignore[arg-type]
        flash(request, f"Listing {listing_id}: {FIX_LABELS[action].lower()} — queued.", "success")
        log.info("web.reconciliation.fix.done", listing_id=listing_id, action=action, actor=user.username)
    except RiffError as exc:
        flash(request, exc.message, "error")
    return redirect(
        request, query_url("/reconciliation", {"channel": channel, "after": max(after, 0) or None})
    )
