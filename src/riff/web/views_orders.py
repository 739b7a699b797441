"""Orders (``/orders``): until the ``riff.orders`` package has an orders table, the order events the
channels record in ``sync_events`` (kind ``order_event``, the order as the channel reported it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from riff.auth.deps import CurrentUser
from riff.channels.service import ORDER_EVENT_KIND
from riff.core.deps import ReadSession
from riff.core.errors import NotFound
from riff.web.common import Page, error_page, page_number, query_url
from riff.web.repository import UiRepository
from riff.web.templating import render

router = APIRouter(include_in_schema=False)

ORDERS_PAGE_SIZE = 50


@router.get("/orders", response_class=HTMLResponse)
def orders(
    request: Request, session: ReadSession, _user: CurrentUser, page: str | None = None
) -> HTMLResponse:
    repository = UiRepository(session)
    current = Page(
        number=page_number(page),
        size=ORDERS_PAGE_SIZE,
        total=repository.count_events(kinds=[ORDER_EVENT_KIND]),
    )
    events = repository.order_events(current.size, current.offset)
    return render(
        request,
        "orders/list.html",
        {
            "title": "Orders",
            "events": events,
            "page": current,
            "page_url": lambda n: query_url("/orders", {}, page=n if n > 1 else None),
            "products": repository.product_titles([e.product_id for e in events if e.product_id]),
        },
    )


@router.get("/orders/{event_id}", response_class=HTMLResponse)
def order_detail(request: Request, event_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    repository = UiRepository(session)
    event = repository.event(event_id)
    if event is None or event.kind != ORDER_EVENT_KIND:
        return error_page(request, NotFound(f"no order event {event_id}"))
    order = event.after or {}
    return render(
        request,
        "orders/detail.html",
        {
            "title": f"Order {order.get('remote_id', event_id)}",
            "event": event,
            "order": order,
            "products": repository.product_titles([event.product_id] if event.product_id else []),
        },
    )
