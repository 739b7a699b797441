"""Shipments JSON API: one shipment, its documents (label and customs invoice PDFs, served from the data
directory to an authenticated user; never carried in a URL), retries, tracking, and the alert history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from riff.auth.deps import CurrentUser, Writer
from riff.channels.errors import ChannelError
from riff.core.deps import ReadSession, get_database
from riff.core.errors import NotFound
from riff.fulfilment import documents, flows, service
from riff.fulfilment.repository import AlertRepository
from riff.fulfilment.schemas import AlertOut, ShipmentOut
from riff.fulfilment.settings import get_fulfilment_settings

router = APIRouter(tags=["fulfilment"])

_ERROR = {"description": 'Error body: {"error": {"code", "message", "field", "details"?}}'}
READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 404: _ERROR}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    403: _ERROR,
    409: _ERROR,
    422: _ERROR,
    502: _ERROR,
}
DOCUMENT_TYPES = ("label", "invoice", "waybillDoc")


def _json(model: Any, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


@router.get("/api/shipments/{shipment_id}", response_model=ShipmentOut, responses=READ_ERRORS)
def get_shipment(session: ReadSession, _user: CurrentUser, shipment_id: int) -> Response:
    return _json(ShipmentOut.of(service.get_shipment(session, shipment_id)))


@router.get("/api/shipments/{shipment_id}/documents/{type_code}.pdf", responses=READ_ERRORS)
def document(
    request: Request, session: ReadSession, _user: CurrentUser, shipment_id: int, type_code: str
) -> FileResponse:
    """A stored PDF (``label``, ``invoice``), streamed from the data directory."""
    shipment = service.get_shipment(session, shipment_id)
    record = shipment.document(type_code) if type_code in DOCUMENT_TYPES else None
    if record is None:
        raise NotFound(f"shipment {shipment_id} has no {type_code} document")
    path = documents.path_of(request.app.state.settings.data_dir, record)
    filename = f"{shipment.carrier}-{shipment.tracking_number or shipment.id}-{type_code}.pdf"
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=filename,
        content_disposition_type="inline",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/api/shipments/{shipment_id}/label.pdf", responses=READ_ERRORS)
def label(request: Request, session: ReadSession, user: CurrentUser, shipment_id: int) -> FileResponse:
    return document(request, session, user, shipment_id, "label")


@router.post(
    "/api/shipments/{shipment_id}/retry-label",
    status_code=202,
    response_model=ShipmentOut,
    responses=WRITE_ERRORS,
)
def retry_label(request: Request, user: Writer, shipment_id: int) -> Response:
    """Repeat a pending label purchase now (same Message-Reference: never a second label)."""
    with get_database(request).session() as session:
        shown = ShipmentOut.of(service.retry_label(session, shipment_id, actor=user.username))
    return _json(shown, 202)


@router.post(
    "/api/shipments/{shipment_id}/upload-tracking",
    status_code=202,
    response_model=ShipmentOut,
    responses=WRITE_ERRORS,
)
def upload_tracking(request: Request, user: Writer, shipment_id: int) -> Response:
    """Queue the tracking upload to the channel again (after a failure a person fixed)."""
    with get_database(request).session() as session:
        shipment = service.get_shipment(session, shipment_id)
        service.request_tracking_upload(session, shipment, actor=user.username)
        shown = ShipmentOut.of(shipment)
    return _json(shown, 202)


@router.post(
    "/api/shipments/{shipment_id}/tracking/refresh", response_model=ShipmentOut, responses=WRITE_ERRORS
)
async def refresh_tracking(request: Request, _user: Writer, shipment_id: int) -> Response:
    database = get_database(request)
    try:
        await flows.refresh_tracking(database, get_fulfilment_settings(), shipment_id)
    except ChannelError as exc:
        raise flows.carrier_error(exc) from None

    def read() -> ShipmentOut:
        with database.read_session() as session:
            return ShipmentOut.of(service.get_shipment(session, shipment_id))

    return _json(await flows.in_thread(read))


@router.post("/api/shipments/{shipment_id}/cancel", response_model=ShipmentOut, responses=WRITE_ERRORS)
def cancel_shipment(request: Request, user: Writer, shipment_id: int) -> Response:
    with get_database(request).session() as session:
        shown = ShipmentOut.of(service.cancel_shipment(session, shipment_id, actor=user.username))
    return _json(shown)


@router.get("/api/alerts", response_model=list[AlertOut], responses=READ_ERRORS)
def list_alerts(
    session: ReadSession, _user: CurrentUser, limit: int = Query(50, ge=1, le=200)
) -> list[AlertOut]:
    return [AlertOut.model_validate(a) for a in AlertRepository(session).recent(limit)]
