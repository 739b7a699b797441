"""Orders (``/orders``): the orders the channels reported (``riff.orders``), newest first, with the
oversells that need a follow-up on the channel (cancel and refund) flagged and a "done" button."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import selectinload

from riff.auth.deps import CurrentUser, Writer
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError
from riff.core.logging import get_logger
from riff.orders.models import Order, OrderStatus
from riff.orders.repository import OrderRepository
from riff.orders.service import get_order
from riff.sync import service as sync
from riff.web.common import Page, error_page, page_number, query_url
from riff.web.templating import flash, redirect, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

ORDERS_PAGE_SIZE = 50
FILTER_KEYS = ("channel", "status", "oversold")


@router.get("/orders", response_class=HTMLResponse)
def orders(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    query = request.query_params
    params = {key: query.get(key, "").strip() for key in FILTER_KEYS if query.get(key, "").strip()}
    status = OrderStatus(params["status"]) if params.get("status") in {s.value for s in OrderStatus} else None
    number = page_number(query.get("page"))
    items, total = OrderRepository(session).page(
        channel=params.get("channel") or None,
        status=status,
        oversold=True if params.get("oversold") == "1" else None,
        limit=ORDERS_PAGE_SIZE,
        offset=(number - 1) * ORDERS_PAGE_SIZE,
    )
    if items:  # the lines of the whole page in one query, not one per order
        session.execute(
            sa.select(Order).where(Order.id.in_([o.id for o in items])).options(selectinload(Order.lines))
        ).scalars().all()
    context: dict[str, Any] = {
        "title": "Orders",
        "orders": items,
        "params": params,
        "statuses": [s.value for s in OrderStatus],
        "open_oversells": OrderRepository(session).count_open_oversells(),
        "page": Page(number=number, size=ORDERS_PAGE_SIZE, total=total),
        "page_url": lambda n: query_url("/orders", params, page=n if n > 1 else None),
    }
    return render(request, "orders/list.html", context)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_detail(request: Request, order_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    try:
        order = get_order(session, order_id)
    except RiffError as exc:
        return error_page(request, exc)
    return render(request, "orders/detail.html", {"title": f"Order {order.remote_order_id}", "order": order})


@router.post("/orders/{order_id}/followup-done")
def followup_done(request: Request, order_id: int, user: Writer) -> Response:
    try:
        with get_database(request).session() as session:
            sync.oversell_done(session, order_id, actor=user.username)
        flash(request, "Marked as dealt with.", "success")
        log.info("web.orders.followup.done", order_id=order_id, actor=user.username)
    except RiffError as exc:
        flash(request, exc.message, "error")
    return redirect(request, f"/orders/{order_id}")
