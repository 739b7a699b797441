"""Records JSON API: /api/records (search, create, read, change) and /api/records/import (CSV)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile

from riff.auth.deps import CurrentUser, Writer
from riff.catalog import service as catalog_service
from riff.catalog.csv_io import MAX_IMPORT_BYTES
from riff.catalog.schemas import ImportReport
from riff.channels.repository import ChannelAccountRepository
from riff.core.deps import DbSession, ReadSession
from riff.core.errors import ValidationFailed
from riff.records import importer, service
from riff.records.schemas import RecordCreate, RecordOut, RecordPage, RecordQuery, RecordUpdate

router = APIRouter(tags=["records"])

_ERROR = {"description": 'Error body: {"error": {"code", "message", "field", "details"?}}'}
READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 404: _ERROR, 422: _ERROR}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 403: _ERROR, 409: _ERROR}
QueryParams = Annotated[RecordQuery, Query()]


def _out(session: Any, product_id: int) -> RecordOut:
    return service.records_out(session, [service.get_record(session, product_id)])[0]


@router.get("/api/records", response_model=RecordPage, responses=READ_ERRORS)
def list_records(session: ReadSession, _user: CurrentUser, params: QueryParams) -> RecordPage:
    """Records (newest first) filtered by artist (part of the name), genre, style, format, label
    (exact, any case), year range, grade and ``q`` (words in artist/title/label/catalog number/...)."""
    return service.search(session, params)


@router.post("/api/records", status_code=201, responses=WRITE_ERRORS)
def create_record(session: DbSession, user: Writer, data: RecordCreate) -> RecordOut:
    """A product and its record in one go; the product title, condition and category follow the record."""
    product = service.create_record(session, data, actor=user.username)
    return _out(session, product.id)


@router.get("/api/records/{product_id}", responses=READ_ERRORS)
def get_record(session: ReadSession, _user: CurrentUser, product_id: int) -> RecordOut:
    return _out(session, product_id)


@router.patch("/api/records/{product_id}", responses=WRITE_ERRORS)
def update_record(session: DbSession, user: Writer, product_id: int, changes: RecordUpdate) -> RecordOut:
    """Only the fields sent change; a stale ``version`` is a 409 ``version_conflict``."""
    product = catalog_service.get_product_for_update(session, product_id)
    service.get_record(session, product_id)
    service.update_record(session, product, changes, actor=user.username)
    return _out(session, product_id)


@router.post("/api/records/import", responses=WRITE_ERRORS)
def import_records(
    session: DbSession,
    user: Writer,
    file: UploadFile = File(..., description="A Discogs inventory export, or the storefront sync CSV"),
    layout: str | None = Query(None, pattern="^(discogs|legacy)$", description="Default: from the header"),
    currency: str | None = Query(
        None, pattern="^[A-Za-z]{3}$", description="Prices' currency (default: the Discogs account's)"
    ),
    dry_run: bool = Query(False, description="Validate and report what would change; write nothing"),
    skip_invalid: bool = Query(False, description="Write the good rows and list the bad ones"),
) -> ImportReport:
    """Rows are numbered as a spreadsheet shows them (header = row 1). Any invalid row without
    ``skip_invalid`` is a 422 whose ``details`` lists every bad row (row, column, sku, reason)."""
    account = ChannelAccountRepository(session).first_enabled("discogs")
    default_currency = str((account.config or {}).get("currency") or "USD") if account else "USD"
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    report = importer.import_records(
        session,
        data,
        actor=user.username,
        source=file.filename or "records.csv",
        layout=layout,
        currency=currency or default_currency,
        account_id=account.id if account else None,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
    )
    if report.errors and not skip_invalid and not dry_run:
        bad = len({e.row for e in report.errors})
        first = report.errors[0]
        raise ValidationFailed(
            f"{bad} row(s) are invalid; nothing was imported (first: row {first.row}, "
            f"{first.column or 'row'}: {first.reason})",
            field=first.column,
            details=[e.model_dump() for e in report.errors],
        )
    return report
