"""JSON API of the sync engine: /api/sync/... and /api/reconciliation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from riff.auth.deps import CurrentUser, Writer
from riff.core.deps import DbSession, ReadSession, get_database
from riff.core.errors import ValidationFailed
from riff.sync import reconcile, service, status
from riff.sync.models import UnmatchedStatus
from riff.sync.repository import SyncRepository
from riff.sync.schemas import (
    ChannelsIn,
    FixIn,
    JobAccepted,
    OversellOut,
    OversellPage,
    PullRequest,
    ResolveIn,
    SyncEventOut,
    SyncEventPage,
    UnmatchedOut,
    UnmatchedPage,
)

router = APIRouter(tags=["sync"])

_ERROR = {"description": 'Error body: {"error": {"code", "message", "field"}}'}
READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 404: _ERROR, 422: _ERROR}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 403: _ERROR, 409: _ERROR}
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/api/sync/status", responses=READ_ERRORS)
def sync_status(request: Request, session: ReadSession, _user: CurrentUser) -> dict[str, Any]:
    """Per channel: last and next pull, last error, events and failures in the last 24 h, and the
    sale -> delist latency (p50/p95 over the last 100 sales that ended listings elsewhere)."""
    return status.status(session, get_database(request))


@router.post("/api/sync/{channel}", status_code=202, responses=WRITE_ERRORS)
def pull_now(
    channel: str, session: DbSession, user: Writer, data: Annotated[PullRequest | None, Body()] = None
) -> JobAccepted:
    """Pull the channel's listings now (a job at HIGH priority; a pull already queued absorbs this)."""
    job_id = service.request_pull(session, channel, full=bool(data and data.full), actor=user.username)
    return JobAccepted(channel=channel, job_id=job_id)


@router.get("/api/sync/events", response_model=SyncEventPage, responses=READ_ERRORS)
def list_events(
    session: ReadSession,
    _user: CurrentUser,
    channel: str | None = None,
    product_id: int | None = None,
    kind: Annotated[list[str] | None, Query(description="Repeat to match several")] = None,
    outcome: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Every decision and change the sync engine made, newest first, with before/after."""
    items, total = SyncRepository(session).events(
        channel=channel, product_id=product_id, kinds=kind, outcome=outcome, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/api/sync/events/{event_id}/revert", responses=WRITE_ERRORS)
def revert_event(event_id: int, session: DbSession, user: Writer) -> SyncEventOut:
    """Undo a conflict decision (a price, quantity or title taken from or pushed over a channel, a listing
    marked ended). 409 when the event is not a revertible decision or was reverted already."""
    return SyncEventOut.model_validate(service.revert_event(session, event_id, actor=user.username))


@router.get("/api/sync/unmatched", response_model=UnmatchedPage, responses=READ_ERRORS)
def list_unmatched(
    session: ReadSession,
    _user: CurrentUser,
    channel: str | None = None,
    status: str | None = Query("open", description="open (default), matched, created, ignored, or all"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Remote listings RIFF does not manage, with the best product candidates and why."""
    wanted: UnmatchedStatus | None = None
    if status and status != "all":
        try:
            wanted = UnmatchedStatus(status)
        except ValueError:
            raise ValidationFailed(
                "status must be open, matched, created, ignored or all", field="status"
            ) from None
    items, total = SyncRepository(session).unmatched_page(
        channel=channel, status=wanted, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/api/sync/unmatched/{unmatched_id}/resolve", responses=WRITE_ERRORS)
def resolve_unmatched(unmatched_id: int, data: ResolveIn, session: DbSession, user: Writer) -> UnmatchedOut:
    """``match`` (link to ``product_id``, default the best candidate), ``create`` (a new product from the
    listing) or ``ignore``. Remembered: the listing is never offered as new again."""
    row = service.resolve_unmatched(
        session, unmatched_id, data.action, product_id=data.product_id, actor=user.username
    )
    return UnmatchedOut.model_validate(row)


@router.get("/api/sync/oversells", response_model=OversellPage, responses=READ_ERRORS)
def list_oversells(
    session: ReadSession,
    _user: CurrentUser,
    open_only: bool = Query(True, description="Only those whose follow-up is not done"),
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Orders for items that had already sold elsewhere, with what to do on the channel (cancel, refund)."""
    items, total = service.oversells(session, open_only=open_only, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/api/sync/oversells/{order_id}/done", responses=WRITE_ERRORS)
def oversell_done(order_id: int, session: DbSession, user: Writer) -> OversellOut:
    """The order was cancelled and refunded on the channel: the follow-up is done."""
    return OversellOut.model_validate(service.oversell_done(session, order_id, actor=user.username))


@router.post("/api/sync/products/{product_id}/publish", status_code=202, responses=WRITE_ERRORS)
def publish_product(
    product_id: int, session: DbSession, _user: Writer, data: Annotated[ChannelsIn | None, Body()] = None
) -> dict[str, Any]:
    """Publish the product to several channels at once (each through its own job)."""
    return {"channels": service.publish_product(session, product_id, data.channels if data else None)}


@router.post("/api/sync/products/{product_id}/relist", status_code=202, responses=WRITE_ERRORS)
def relist_product(
    product_id: int, session: DbSession, user: Writer, data: Annotated[ChannelsIn | None, Body()] = None
) -> dict[str, Any]:
    """List a product that is back in stock again where its listings were ended or sold."""
    return {
        "channels": service.relist_product(
            session, product_id, actor=user.username, channels=data.channels if data else None
        )
    }


@router.get("/api/reconciliation", responses=READ_ERRORS)
def reconciliation(
    session: ReadSession,
    _user: CurrentUser,
    channel: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="Mismatches listed per channel")] = 200,
) -> dict[str, Any]:
    """Per channel: RIFF's price, quantity and state against the channel's (as last pulled), mismatch
    counts, and each mismatch with its likely cause and the fixes ``POST /api/reconciliation/fix`` takes."""
    reports = reconcile.report(session, channel, limit=limit)
    return {"channels": [r.as_json() for r in reports], "total_mismatches": sum(r.total for r in reports)}


@router.post("/api/reconciliation/fix", responses=WRITE_ERRORS)
def reconciliation_fix(data: FixIn, session: DbSession, user: Writer) -> dict[str, Any]:
    """``push_local``: send RIFF's values (or end / relist); ``accept_remote``: take the channel's."""
    return reconcile.fix(session, data.listing_id, data.action, actor=user.username)
