"""Catalog JSON API: /api/products, /api/pricing/rules, /api/import/csv, /api/export/csv."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from riff.auth.deps import CurrentUser, Writer, request_generations
from riff.catalog import importer, queries, service
from riff.catalog.csv_io import MAX_IMPORT_BYTES
from riff.catalog.models import MovementReason, Product
from riff.catalog.schemas import (
    BulkResult,
    FilterQuery,
    ImportReport,
    ListQuery,
    PriceRuleIn,
    PriceRuleOut,
    ProductCreate,
    ProductOut,
    ProductPage,
    ProductUpdate,
    StockAdjustIn,
    StockMovementOut,
)
from riff.core import generations
from riff.core.db import Database
from riff.core.deps import DbSession, ReadSession, get_database, query_model, query_model_openapi
from riff.core.errors import ValidationFailed
from riff.core.generations import GenerationCache

router = APIRouter(tags=["catalog"])

_ERROR = {"description": 'Error body: {"error": {"code", "message", "field", "details"?}}'}
READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 404: _ERROR, 422: _ERROR}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 403: _ERROR, 409: _ERROR}
# Movements a person may record by hand; initial and import belong to creation and imports.
MANUAL_REASONS = (
    MovementReason.ADJUSTMENT,
    MovementReason.SALE,
    MovementReason.RETURN,
    MovementReason.CANCEL,
)


ListParams = Annotated[ListQuery, Depends(query_model(ListQuery))]
FilterParams = Annotated[FilterQuery, Depends(query_model(FilterQuery))]


def _out(session: Session, product: Product) -> ProductOut:
    return queries.products_out(session, [product])[0]


# -- products -----------------------------------------------------------------------------------------


@router.get(
    "/api/products",
    response_model=ProductPage,
    responses=READ_ERRORS,
    openapi_extra=query_model_openapi(ListQuery),
)
async def list_products(request: Request, _user: CurrentUser, params: ListParams) -> Response:
    """Pages are kept per process and served again while the catalog's change generation stands
    (``riff.core.generations``): any committed change to products, categories, listings or price
    rules, by any process, makes the next request read the database again."""
    cache: GenerationCache[tuple[Any, ...], bytes] = request.app.state.catalog_cache
    key = tuple(params.model_dump().items())
    seen = request_generations(request)
    body = cache.get(key, seen.catalog if seen else None)
    if body is None:
        body = await run_in_threadpool(_list_page, get_database(request), cache, key, params)
    return Response(body, media_type="application/json")


def _list_page(
    database: Database,
    cache: GenerationCache[tuple[Any, ...], bytes],
    key: tuple[Any, ...],
    params: ListQuery,
) -> bytes:
    with database.read_session() as session:
        generation = generations.read(session).catalog  # before the data: see riff.core.generations
        filters = queries.parse_filters(session, **params.model_dump())
        body = queries.list_products(session, filters).model_dump_json().encode()
    cache.put(key, generation, body)
    return body


@router.post("/api/products", status_code=201, responses=WRITE_ERRORS)
def create_product(session: DbSession, user: Writer, data: ProductCreate) -> ProductOut:
    product = service.create_product(session, data, actor=user.username)
    return _out(session, product)


@router.post("/api/products/bulk", responses=WRITE_ERRORS)
def bulk_update(
    session: DbSession,
    user: Writer,
    items: Any = Body(..., description="[{sku, price?, quantity?, status?}, ...] or {items: [...]}"),
) -> BulkResult:
    """All or nothing: a 422 lists every invalid item as {index, sku, field, message}."""
    return service.bulk_update(session, items, actor=user.username)


@router.get("/api/products/by-sku/{sku:path}", responses=READ_ERRORS)
def get_product_by_sku(session: ReadSession, _user: CurrentUser, sku: str) -> ProductOut:
    return _out(session, service.get_product_by_sku(session, sku))


@router.get("/api/products/{product_id}", responses=READ_ERRORS)
def get_product(session: ReadSession, _user: CurrentUser, product_id: int) -> ProductOut:
    return _out(session, service.get_product(session, product_id))


@router.patch("/api/products/{product_id}", responses=WRITE_ERRORS)
def update_product(session: DbSession, user: Writer, product_id: int, changes: ProductUpdate) -> ProductOut:
    """A stale ``version`` is a 409 ``version_conflict`` with ``details.current_version``."""
    product = service.get_product_for_update(session, product_id)
    service.update_product(session, product, changes, actor=user.username)
    return _out(session, product)


@router.delete("/api/products/{product_id}", responses=WRITE_ERRORS)
def archive_product(session: DbSession, user: Writer, product_id: int) -> ProductOut:
    """Products are never deleted: this archives (status ``archived``), which hides it from lists."""
    product = service.get_product_for_update(session, product_id)
    service.archive_product(session, product, actor=user.username)
    return _out(session, product)


@router.post("/api/products/{product_id}/stock", responses=WRITE_ERRORS)
def adjust_stock(session: DbSession, user: Writer, product_id: int, data: StockAdjustIn) -> StockMovementOut:
    if data.reason not in MANUAL_REASONS:
        allowed = ", ".join(r.value for r in MANUAL_REASONS)
        raise ValidationFailed(f"reason must be one of {allowed}", field="reason")
    product = service.get_product_for_update(session, product_id)
    movement = service.adjust_stock(session, product, data.delta, data.reason, user.username, data.reference)
    if movement is None:
        raise ValidationFailed("delta must not be zero", field="delta")
    return StockMovementOut.model_validate(movement, from_attributes=True)


@router.get("/api/products/{product_id}/stock-movements", responses=READ_ERRORS)
def stock_movements(session: ReadSession, _user: CurrentUser, product_id: int) -> list[StockMovementOut]:
    product = service.get_product(session, product_id)
    return [
        StockMovementOut.model_validate(m, from_attributes=True)
        for m in service.stock_movements(session, product)
    ]


# -- price rules --------------------------------------------------------------------------------------


@router.get("/api/pricing/rules", responses=READ_ERRORS)
def list_price_rules(session: ReadSession, _user: CurrentUser) -> list[PriceRuleOut]:
    return service.list_price_rules(session)


@router.get("/api/pricing/rules/{channel}", responses=READ_ERRORS)
def get_price_rule(session: ReadSession, _user: CurrentUser, channel: str) -> PriceRuleOut:
    return service.get_price_rule(session, channel)


@router.put("/api/pricing/rules/{channel}", responses=WRITE_ERRORS)
def put_price_rule(session: DbSession, user: Writer, channel: str, data: PriceRuleIn) -> PriceRuleOut:
    """Owner or staff; creates the rule when the channel has none."""
    return service.put_price_rule(session, channel, data, actor=user.username)


# -- CSV ------------------------------------------------------------------------------------------------


@router.post("/api/import/csv", responses=WRITE_ERRORS)
def import_csv(
    session: DbSession,
    user: Writer,
    file: UploadFile = File(..., description="RIFF product CSV (see GET /api/export/csv for the columns)"),
    dry_run: bool = Query(False, description="Validate and report what would change; write nothing"),
    skip_invalid: bool = Query(False, description="Write the good rows and list the bad ones"),
) -> ImportReport:
    """Rows are numbered as a spreadsheet shows them: header = row 1, first data row = row 2.

    Any invalid row without ``skip_invalid`` is a 422 whose ``details`` lists every bad row
    (row, column, sku, reason) and nothing is written; a dry run always answers 200 with the report.
    """
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    report = importer.import_products(
        session,
        data,
        actor=user.username,
        source=file.filename or "upload.csv",
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
            details=importer.error_rows(report.errors),
        )
    return report


@router.get(
    "/api/export/csv",
    responses=READ_ERRORS,
    response_class=StreamingResponse,
    openapi_extra=query_model_openapi(FilterQuery),
)
def export_csv(
    request: Request, session: ReadSession, _user: CurrentUser, params: FilterParams
) -> StreamingResponse:
    """Every product matching the list filters, as a RIFF CSV that imports back with zero changes."""
    filters = queries.parse_filters(
        session, **params.model_dump()
    )  # bad filters: 422 before streaming starts
    database = get_database(request)

    def chunks() -> Iterator[str]:
        # The request's session is closed once the endpoint returns; the stream reads in its own.
        with database.read_session() as export_session:
            yield from queries.export_csv(export_session, filters)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="riff-products.csv"'},
    )
