"""Orders JSON API: the unified order list (filters, search, CSV export), one order with its shipments,
and what a person does with an order: packing slip, rates, label, mark shipped, cancel, relist.

Label purchase: ``POST /api/orders/{id}/shipments`` answers 201 with the label, 422 with DHL's own message
when DHL refuses the request (``error.code = carrier_rejected``), or 202 while DHL does not answer (the
shipment stays ``label_pending`` and a job repeats the request with the same Message-Reference)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from riff.auth.deps import CurrentUser, Writer
from riff.channels.errors import ChannelError
from riff.core.deps import ReadSession, get_database
from riff.core.errors import ValidationFailed
from riff.fulfilment import flows, service, slips
from riff.fulfilment.models import ShipmentStatus
from riff.fulfilment.repository import OrderSearch, ShipmentRepository
from riff.fulfilment.schemas import (
    CancelIn,
    MarkShippedIn,
    OrderDetailOut,
    OrderListQuery,
    OrderOut,
    OrderPage,
    OrderQuery,
    RateOut,
    RatesOut,
    RelistIn,
    ShipmentDraft,
    ShipmentOut,
)
from riff.fulfilment.settings import get_fulfilment_settings
from riff.orders import export
from riff.orders.models import Order, OrderStatus

router = APIRouter(tags=["orders"])

_ERROR = {"description": 'Error body: {"error": {"code", "message", "field", "details"?}}'}
READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 404: _ERROR, 422: _ERROR}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 403: _ERROR, 409: _ERROR, 502: _ERROR}
MAX_PICK_LIST_ORDERS = 200

ListParams = Annotated[OrderListQuery, Query()]
FilterParams = Annotated[OrderQuery, Query()]


def _json(model: Any, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def order_out(order: Order, shipments: ShipmentRepository | None = None, shipment: Any = None) -> OrderOut:
    out = OrderOut.model_validate(order)
    if shipment is not None:
        out.shipment_status = shipment.status
        out.tracking_number = shipment.tracking_number
    return out


def order_detail(session: Session, order: Order) -> OrderDetailOut:
    settings = get_fulfilment_settings()
    shipments = list(ShipmentRepository(session).for_order(order.id))
    live = next((s for s in shipments if s.status != ShipmentStatus.CANCELLED), None)
    out = OrderDetailOut.model_validate(order)
    out.shipments = [ShipmentOut.of(s) for s in shipments]
    out.shipment_status = live.status if live else None
    out.tracking_number = live.tracking_number if live else None
    out.customs_required = service.customs_required(settings, service.receiver_of(order))
    out.relist_offer = service.relist_offer(session, order)
    return out


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


# -- the list ---------------------------------------------------------------------------------------------


@router.get("/api/orders", response_model=OrderPage, responses=READ_ERRORS)
def list_orders(session: ReadSession, _user: CurrentUser, params: ListParams) -> Response:
    """Newest first. ``q`` matches the channel's order id, the buyer's name or e-mail, a SKU or a title;
    ``date_from``/``date_to`` are UTC dates of when RIFF received the order (both inclusive)."""
    items, total = OrderSearch(session).page(limit=params.limit, offset=params.offset, **params.filters())
    live = ShipmentRepository(session).for_orders([o.id for o in items])
    page = OrderPage(
        items=[order_out(o, shipment=live.get(o.id)) for o in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )
    return _json(page)


@router.get("/api/orders/export.csv", responses=READ_ERRORS, response_class=StreamingResponse)
def export_orders(request: Request, _user: CurrentUser, params: FilterParams) -> StreamingResponse:
    """The orders matching the list filters, oldest first, for accounting (amounts, fees, net, shipping)."""
    database = get_database(request)
    filters = params.filters()

    def chunks() -> Iterator[str]:
        with database.read_session() as session:
            search = OrderSearch(session)

            def rows() -> Iterator[list[str]]:
                batch: list[Order] = []
                for order in search.iterate(**filters):
                    batch.append(order)
                    if len(batch) >= 200:
                        yield from _rows(session, batch)
                        batch = []
                yield from _rows(session, batch)

            yield from export.csv_chunks(rows())

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="riff-orders.csv"'},
    )


def _rows(session: Session, orders: list[Order]) -> Iterator[list[str]]:
    shipments = ShipmentRepository(session).for_orders([o.id for o in orders])
    skus = OrderSearch(session).product_skus(orders)
    for order in orders:
        yield export.order_row(order, shipments.get(order.id), skus)


@router.get("/api/orders/pick-list.pdf", responses=READ_ERRORS)
def pick_list(
    session: ReadSession,
    _user: CurrentUser,
    ids: str | None = Query(
        None, description="Order ids, comma-separated; default: every paid order not shipped"
    ),
) -> Response:
    if ids:
        try:
            wanted = [int(part) for part in ids.split(",") if part.strip()]
        except ValueError:
            raise ValidationFailed("ids must be order ids separated by commas", field="ids") from None
        orders = [service.get_order(session, order_id) for order_id in wanted[:MAX_PICK_LIST_ORDERS]]
    else:
        orders = []
        for status in (OrderStatus.PAID, OrderStatus.AWAITING_SHIPMENT):
            found, _ = OrderSearch(session).page(
                limit=MAX_PICK_LIST_ORDERS, offset=0, channel=None, status=status, q=None,
                date_from=None, date_to=None, oversold=False,
            )  # fmt: skip
            orders.extend(found)
    return _pdf(slips.pick_list(orders, OrderSearch(session).product_skus(orders)), "pick-list.pdf")


# -- one order --------------------------------------------------------------------------------------------


@router.get("/api/orders/{order_id}", response_model=OrderDetailOut, responses=READ_ERRORS)
def get_order(session: ReadSession, _user: CurrentUser, order_id: int) -> Response:
    return _json(order_detail(session, service.get_order(session, order_id)))


@router.get("/api/orders/{order_id}/packing-slip.pdf", responses=READ_ERRORS)
def packing_slip(session: ReadSession, _user: CurrentUser, order_id: int) -> Response:
    order = service.get_order(session, order_id)
    skus = OrderSearch(session).product_skus([order])
    content = slips.packing_slips([order], get_fulfilment_settings().shipper(), skus)
    return _pdf(content, f"packing-slip-{order.channel}-{order.id}.pdf")


@router.post("/api/orders/{order_id}/rates", response_model=RatesOut, responses=WRITE_ERRORS)
async def rates(
    request: Request, _user: Writer, order_id: int, draft: ShipmentDraft | None = None
) -> Response:
    """DHL's products and prices for this order's parcels (the draft's, or the default parcel)."""
    database = get_database(request)
    settings = get_fulfilment_settings()
    draft = draft or ShipmentDraft()

    def prepare() -> tuple[bool, dict[str, Any]]:
        with database.read_session() as session:
            prepared = service.prepare(service.get_order(session, order_id), draft, settings)
            return prepared.customs_required, service.rates_request(prepared, settings)

    customs, body = await flows.in_thread(prepare)
    try:
        quotes = await flows.quote(settings, body)
    except ChannelError as exc:
        raise flows.carrier_error(exc) from None
    return _json(RatesOut(customs_required=customs, rates=[RateOut.of(q) for q in quotes]))


@router.post(
    "/api/orders/{order_id}/shipments", status_code=201, response_model=ShipmentOut, responses=WRITE_ERRORS
)
async def create_shipment(
    request: Request, user: Writer, order_id: int, draft: ShipmentDraft | None = None
) -> Response:
    """Buy the DHL label. 201: bought (PDF at ``label_url``, tracking upload queued); 202: DHL did not
    answer, RIFF keeps trying with the same Message-Reference; 422 ``carrier_rejected``: DHL's words."""
    database = get_database(request)
    settings = get_fulfilment_settings()
    draft = draft or ShipmentDraft()

    def begin() -> int:
        with database.session() as session:
            return service.begin_label(session, order_id, draft, settings, actor=user.username).id

    shipment_id = await flows.in_thread(begin)
    outcome = await flows.purchase_label(
        database, settings, request.app.state.settings.data_dir, shipment_id, actor=user.username
    )
    if outcome.status == ShipmentStatus.LABEL_FAILED and outcome.error is not None:
        raise flows.carrier_error(outcome.error)
    shown = await flows.in_thread(lambda: _shipment_out(database, shipment_id))
    return _json(shown, 202 if outcome.status == ShipmentStatus.LABEL_PENDING else 201)


def _shipment_out(database: Any, shipment_id: int) -> ShipmentOut:
    with database.read_session() as session:
        return ShipmentOut.of(service.get_shipment(session, shipment_id))


@router.post(
    "/api/orders/{order_id}/mark-shipped", status_code=202, response_model=ShipmentOut, responses=WRITE_ERRORS
)
def mark_shipped(
    request: Request, user: Writer, order_id: int, data: MarkShippedIn | None = None
) -> Response:
    """Tell the channel the parcel is on its way. Without a body: the tracking of the order's DHL label
    (queued again if its upload failed). With ``{carrier, tracking_number}``: shipped without a RIFF label."""
    database = get_database(request)
    with database.session() as session:
        if data is None:
            shipment = ShipmentRepository(session).live_for_order(order_id)
            if shipment is None or not shipment.tracking_number:
                service.get_order(session, order_id)
                raise ValidationFailed(
                    "this order has no label: create one, or give carrier and tracking_number",
                    field="tracking_number",
                )
            service.request_tracking_upload(session, shipment, actor=user.username)
        else:
            shipment = service.mark_shipped_manually(
                session, order_id, data.carrier, data.tracking_number, actor=user.username
            )
        shown = ShipmentOut.of(shipment)
    return _json(shown, 202)


@router.post("/api/orders/{order_id}/cancel", response_model=OrderDetailOut, responses=WRITE_ERRORS)
def cancel(request: Request, user: Writer, order_id: int, data: CancelIn | None = None) -> Response:
    """Cancel in RIFF (a channel without an order API, or the buyer backed out): the stock comes back
    once (a stock movement) and ``relist_offer`` names the channels the item was ended on."""
    database = get_database(request)
    with database.session() as session:
        order = service.cancel_order(
            session, order_id, actor=user.username, reason=(data or CancelIn()).reason
        )
        shown = order_detail(session, order)
    return _json(shown)


@router.post("/api/orders/{order_id}/relist", status_code=202, responses=WRITE_ERRORS)
def relist(request: Request, user: Writer, order_id: int, data: RelistIn | None = None) -> JSONResponse:
    """Publish a cancelled/refunded order's items again on ``channels`` (default: where they were ended)."""
    database = get_database(request)
    with database.session() as session:
        result = service.relist_order(session, order_id, (data or RelistIn()).channels, actor=user.username)
    return JSONResponse(result, status_code=202)
