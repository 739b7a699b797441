"""Inventory (``/inventory``): search, filter, sort and page the catalog; bulk edits and bulk listings.

The filter form and the sort/page links are htmx requests that swap only ``#inventory-results`` and push
the URL, so a reload or a shared link shows the same list. Without JavaScript they are plain GETs.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from riff.auth.deps import CurrentUser, Writer
from riff.catalog import queries as catalog_queries
from riff.catalog import service as catalog
from riff.catalog.consts import DEFAULT_PAGE_LIMIT
from riff.catalog.models import Product, ProductStatus
from riff.channels import service as channels
from riff.channels.models import ListingState
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError, ValidationFailed
from riff.core.logging import get_logger
from riff.web.common import Page, enabled_accounts, page_number, query_url
from riff.web.repository import UiRepository
from riff.web.templating import flash, redirect, render, safe_next_url

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

RESULTS_TARGET = "inventory-results"
FILTER_KEYS = ("q", "status", "brand", "category", "channel", "listing_state", "sort")
SORT_COLUMNS = {
    "sku": "SKU",
    "title": "Title",
    "brand": "Brand",
    "price": "Price",
    "quantity": "Qty",
    "status": "Status",
    "updated_at": "Updated",
}
BULK_FIELD_ACTIONS = ("price", "quantity", "status")
BULK_LISTING_ACTIONS = ("publish", "end")
MAX_BULK_PRODUCTS = 200
MAX_REPORTED_PROBLEMS = 3


def _params(request: Request) -> dict[str, str]:
    query = request.query_params
    return {key: query.get(key, "").strip() for key in FILTER_KEYS if query.get(key, "").strip()}


def _sort_link(params: dict[str, str], column: str) -> tuple[str, str | None]:
    """(URL, aria-sort) for a column header: first click ascending, then descending."""
    current = params.get("sort", "-updated_at")
    if current == column:
        return query_url("/inventory", params, sort=f"-{column}", page=None), "ascending"
    if current == f"-{column}":
        return query_url("/inventory", params, sort=column, page=None), "descending"
    return query_url("/inventory", params, sort=column, page=None), None


def inventory_context(session: Session, request: Request) -> dict[str, Any]:
    params = _params(request)
    number = page_number(request.query_params.get("page"))
    error: str | None = None
    try:
        filters = catalog_queries.parse_filters(
            session,
            q=params.get("q"),
            status=params.get("status"),
            brand=params.get("brand"),
            category=params.get("category"),
            channel=params.get("channel"),
            listing_state=params.get("listing_state"),
            sort=params.get("sort"),
            limit=DEFAULT_PAGE_LIMIT,
            offset=(number - 1) * DEFAULT_PAGE_LIMIT,
        )
        result = catalog_queries.list_products(session, filters)
        items, total = result.items, result.total
    except ValidationFailed as exc:
        error, items, total = exc.message, [], 0
    page = Page(number=number, size=DEFAULT_PAGE_LIMIT, total=total)
    sorts = {column: _sort_link(params, column) for column in SORT_COLUMNS}
    return {
        "params": params,
        "items": items,
        "page": page,
        "error": error,
        "sorts": sorts,
        "sort_labels": SORT_COLUMNS,
        "page_url": lambda n: query_url("/inventory", params, page=n if n > 1 else None),
        "return_to": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    }


@router.get("/inventory", response_class=HTMLResponse)
def inventory(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    context = inventory_context(session, request)
    if request.headers.get("hx-target") == RESULTS_TARGET:
        return render(request, "inventory/partials/results.html", context)
    repository = UiRepository(session)
    context.update(
        title="Inventory",
        statuses=[s.value for s in ProductStatus],
        listing_states=[s.value for s in ListingState],
        brands=repository.brands(),
        categories=repository.categories(),
        accounts=enabled_accounts(session),
    )
    return render(request, "inventory/list.html", context)


def _selected_ids(form: Any) -> list[int]:
    ids: list[int] = []
    for raw in form.getlist("ids"):
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            continue
    return list(dict.fromkeys(ids))[:MAX_BULK_PRODUCTS]


def _bulk_value(action: str, raw: str) -> Any:
    raw = raw.strip()
    if action == "price":
        try:
            value = Decimal(raw.replace(",", "").lstrip("£$€"))
        except InvalidOperation:
            raise ValidationFailed(f"{raw!r} is not a price", field="value") from None
        return str(value)
    if action == "quantity":
        try:
            return int(raw)
        except ValueError:
            raise ValidationFailed(f"{raw!r} is not a whole number", field="value") from None
    return raw.lower()


def _problems(exc: RiffError) -> str:
    details = exc.details if isinstance(exc.details, list) else []
    if not details:
        return exc.message
    shown = "; ".join(f"{d.get('sku')}: {d.get('message')}" for d in details[:MAX_REPORTED_PROBLEMS])
    more = len(details) - MAX_REPORTED_PROBLEMS
    return f"{exc.message} ({shown}{f'; and {more} more' if more > 0 else ''})"


def _bulk_fields(request: Request, user: Any, ids: list[int], action: str, raw_value: str) -> None:
    with get_database(request).session() as session:
        products = {p.id: p for p in session.query(Product).filter(Product.id.in_(ids))}
        value = _bulk_value(action, raw_value)
        items = [{"sku": products[i].sku, action: value} for i in ids if i in products]
        result = catalog.bulk_update(session, items, actor=user.username)
    flash(
        request,
        f"Updated {result.updated} product(s); {result.unchanged} already had that {action}.",
        "success",
    )


def _bulk_listings(request: Request, ids: list[int], action: str, chosen: list[str]) -> None:
    if not chosen:
        raise ValidationFailed("choose at least one channel", field="channels")
    done = 0
    problems: list[str] = []
    with get_database(request).session() as session:
        products = list(session.query(Product).filter(Product.id.in_(ids)).order_by(Product.id))
        for product in products:
            for channel in chosen:
                try:
                    with session.begin_nested():  # one refused listing must not undo the others
                        if action == "publish":
                            channels.publish_product(session, product, channel)
                        else:
                            channels.end_product_listing(session, product, channel)
                    done += 1
                except RiffError as exc:
                    problems.append(f"{product.sku} on {channel}: {exc.message}")
    verb = "Publishing" if action == "publish" else "Ending"
    if done:
        flash(request, f"{verb} {done} listing(s); progress shows on each product and under Jobs.", "success")
    if problems:
        more = len(problems) - MAX_REPORTED_PROBLEMS
        detail = "; ".join(problems[:MAX_REPORTED_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        flash(request, f"{len(problems)} not sent: {detail}", "error")


@router.post("/inventory/bulk")
async def bulk_action(request: Request, user: Writer) -> Response:
    form = await request.form()
    return_to = safe_next_url(str(form.get("return_to") or ""), "/inventory")
    ids = _selected_ids(form)
    action = str(form.get("action") or "")
    if not ids:
        flash(request, "Select at least one product first.", "warning")
        return redirect(request, return_to)
    try:
        if action in BULK_FIELD_ACTIONS:
            _bulk_fields(request, user, ids, action, str(form.get("value") or ""))
        elif action in BULK_LISTING_ACTIONS:
            _bulk_listings(request, ids, action, [str(c) for c in form.getlist("channels")])
        else:
            raise ValidationFailed("choose what to do with the selected products", field="action")
    except RiffError as exc:
        flash(request, f"Nothing changed: {_problems(exc)}", "error")
    log.info("web.inventory.bulk.done", action=action, count=len(ids), actor=user.username)
    return redirect(request, return_to)
