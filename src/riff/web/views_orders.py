"""Orders (``/orders``): the unified order list (channel, status, search, dates, CSV export, pick list) and
one order with its fulfilment: packing slip, parcel and customs, DHL rates, "Create label", the label PDF
(downloaded through the authenticated ``/api/shipments/{id}/label.pdf``), "Mark shipped" (the tracking
upload to the channel, retried until it confirms), tracking, cancel and relist. Oversells that need a
follow-up on the channel (cancel and refund) are flagged, with a "done" button."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from riff.auth.deps import CurrentUser, Writer
from riff.carriers.contract import Customs, CustomsItem, Parcel, Party
from riff.channels.errors import ChannelError
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError
from riff.core.logging import get_logger
from riff.fulfilment import flows, service
from riff.fulfilment.models import ShipmentStatus, UploadStatus
from riff.fulfilment.repository import OrderSearch, ShipmentRepository
from riff.fulfilment.schemas import OrderQuery, RateOut, ShipmentDraft
from riff.fulfilment.settings import get_fulfilment_settings
from riff.orders.models import OrderStatus
from riff.orders.repository import OrderRepository
from riff.sync import service as sync
from riff.web.common import Page, error_page, page_number, query_url
from riff.web.templating import flash, redirect, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

ORDERS_PAGE_SIZE = 50
FILTER_KEYS = ("channel", "status", "oversold", "q", "date_from", "date_to")
CARRIERS = (
    ("dhl_express", "DHL Express"),
    ("royal_mail", "Royal Mail"),
    ("parcelforce", "Parcelforce"),
    ("ups", "UPS"),
    ("fedex", "FedEx"),
    ("dpd", "DPD"),
    ("other", "Other"),
)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/orders", response_class=HTMLResponse)
def orders(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    query = request.query_params
    params = {key: query.get(key, "").strip() for key in FILTER_KEYS if query.get(key, "").strip()}
    status = params.get("status") if params.get("status") in {s.value for s in OrderStatus} else None
    filters = OrderQuery(
        channel=params.get("channel") or None,
        status=OrderStatus(status) if status else None,
        q=params.get("q", "")[:200] or None,
        date_from=_date(params.get("date_from")),
        date_to=_date(params.get("date_to")),
        oversold=True if params.get("oversold") == "1" else None,
    ).filters()
    number = page_number(query.get("page"))
    items, total = OrderSearch(session).page(
        limit=ORDERS_PAGE_SIZE, offset=(number - 1) * ORDERS_PAGE_SIZE, **filters
    )
    export_params = {k: v for k, v in params.items() if k != "oversold"}
    context: dict[str, Any] = {
        "title": "Orders",
        "orders": items,
        "shipments": ShipmentRepository(session).for_orders([o.id for o in items]),
        "params": params,
        "statuses": [s.value for s in OrderStatus],
        "open_oversells": OrderRepository(session).count_open_oversells(),
        "page": Page(number=number, size=ORDERS_PAGE_SIZE, total=total),
        "page_url": lambda n: query_url("/orders", params, page=n if n > 1 else None),
        "export_url": query_url("/api/orders/export.csv", export_params),
    }
    return render(request, "orders/list.html", context)


def _detail_context(session: Any, order_id: int, **extra: Any) -> dict[str, Any]:
    settings = get_fulfilment_settings()
    order = service.get_order(session, order_id)
    shipments = list(ShipmentRepository(session).for_order(order.id))
    live = next((s for s in shipments if s.status != ShipmentStatus.CANCELLED), None)
    receiver = service.receiver_of(order)
    customs_required = service.customs_required(settings, receiver)
    return {
        "title": f"Order {order.remote_order_id}",
        "order": order,
        "shipment": live,
        "old_shipments": [s for s in shipments if s is not live],
        "receiver": receiver,
        "parcel": settings.default_parcel(),
        "customs_required": customs_required,
        "customs": service.default_customs(order, settings, [settings.default_parcel()])
        if customs_required
        else None,
        "can_label": order.status in service.SHIPPABLE
        and (live is None or live.status == ShipmentStatus.LABEL_FAILED),
        "can_cancel": order.status
        in (OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.AWAITING_SHIPMENT)
        and (live is None or live.status in (ShipmentStatus.LABEL_FAILED,)),
        "relist_offer": service.relist_offer(session, order),
        "dhl_configured": settings.dhl_configured,
        "carriers": CARRIERS,
        "carrier_names": dict(CARRIERS),
        "statuses": ShipmentStatus,
        "upload_statuses": UploadStatus,
        **extra,
    }


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_detail(request: Request, order_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    try:
        context = _detail_context(session, order_id)
    except RiffError as exc:
        return error_page(request, exc)
    return render(request, "orders/detail.html", context)


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


# -- fulfilment ------------------------------------------------------------------------------------------


def _decimal(form: FormData, key: str) -> Decimal | None:
    raw = str(form.get(key) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{key.replace('_', ' ')} must be a number") from None


def draft_from_form(form: FormData) -> ShipmentDraft:
    """The shipment form as a draft: one parcel, the (corrected) address, customs lines when shown."""
    parcel = Parcel(
        weight_kg=_decimal(form, "weight_kg") or Decimal("0"),
        length_cm=_decimal(form, "length_cm") or Decimal("0"),
        width_cm=_decimal(form, "width_cm") or Decimal("0"),
        height_cm=_decimal(form, "height_cm") or Decimal("0"),
    )
    text = {key: str(form.get(f"ship_to_{key}") or "").strip() or None for key in
            ("name", "company", "line1", "line2", "city", "region", "postal_code", "country_code", "phone", "email")}  # fmt: skip
    customs = None
    count = int(str(form.get("customs_count") or "0") or 0)
    if count:
        items = [
            CustomsItem(
                description=str(form.get(f"customs_description_{i}") or "").strip(),
                hs_code=str(form.get(f"customs_hs_code_{i}") or "").strip() or None,
                quantity=int(str(form.get(f"customs_quantity_{i}") or "1") or 1),
                unit_value=_decimal(form, f"customs_value_{i}") or Decimal("0"),
                weight_kg=_decimal(form, f"customs_weight_{i}") or parcel.weight_kg,
                origin_country=str(form.get(f"customs_origin_{i}") or "GB").strip().upper() or "GB",
            )
            for i in range(min(count, 50))
        ]
        customs = Customs(currency=str(form.get("customs_currency") or "GBP").upper(), items=items,
                          invoice_number=str(form.get("customs_invoice") or "").strip() or None)  # fmt: skip
    return ShipmentDraft(
        parcels=[parcel],
        ship_to=Party(**text) if any(text.values()) else None,
        customs=customs,
        product_code=str(form.get("product_code") or "").strip() or None,
    )


def _problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}"
    return str(getattr(exc, "message", exc))


@router.post("/orders/{order_id}/rates", response_class=HTMLResponse)
async def rates(request: Request, order_id: int, _user: Writer) -> HTMLResponse:
    """htmx: the DHL rates for the form's parcel, as choices for the label's product."""
    database = get_database(request)
    settings = get_fulfilment_settings()
    error: str | None = None
    quotes: list[RateOut] = []
    try:
        draft = draft_from_form(await request.form())

        def prepare() -> dict[str, Any]:
            with database.read_session() as session:
                prepared = service.prepare(service.get_order(session, order_id), draft, settings)
                return service.rates_request(prepared, settings)

        body = await flows.in_thread(prepare)
        quotes = [RateOut.of(q) for q in await flows.quote(settings, body)]
    except ChannelError as exc:
        error = flows.carrier_error(exc).message
    except (RiffError, ValidationError, ValueError) as exc:
        error = _problem(exc)
    return render(request, "orders/partials/rates.html", {"rates": quotes, "error": error})


@router.post("/orders/{order_id}/label")
async def create_label(request: Request, order_id: int, user: Writer) -> Response:
    database = get_database(request)
    settings = get_fulfilment_settings()
    try:
        draft = draft_from_form(await request.form())

        def begin() -> int:
            with database.session() as session:
                return service.begin_label(session, order_id, draft, settings, actor=user.username).id

        shipment_id = await flows.in_thread(begin)
        outcome = await flows.purchase_label(
            database, settings, request.app.state.settings.data_dir, shipment_id, actor=user.username
        )
    except (RiffError, ValidationError, ValueError) as exc:
        flash(request, _problem(exc), "error")
        return redirect(request, f"/orders/{order_id}")
    if outcome.status == ShipmentStatus.LABEL_FAILED and outcome.error is not None:
        flash(request, f"DHL refused the label: {outcome.error.message}", "error")
    elif outcome.status == ShipmentStatus.LABEL_PENDING:
        flash(
            request,
            "DHL did not answer. RIFF keeps trying with the same request: no second label.",
            "warning",
        )
    else:
        flash(request, "Label created. The tracking number goes to the channel now.", "success")
    return redirect(request, f"/orders/{order_id}")


@router.post("/orders/{order_id}/mark-shipped")
async def mark_shipped(request: Request, order_id: int, user: Writer) -> Response:
    form = await request.form()
    carrier = str(form.get("carrier") or "").strip()
    tracking = str(form.get("tracking_number") or "").strip()
    database = get_database(request)

    def work() -> str:
        with database.session() as session:
            shipment = ShipmentRepository(session).live_for_order(order_id)
            if carrier and tracking:
                service.mark_shipped_manually(session, order_id, carrier, tracking, actor=user.username)
                return f"Shipped with {carrier} {tracking}: telling the channel now."
            if shipment is None or not shipment.tracking_number:
                raise RiffError("Give a carrier and a tracking number, or create a label first.")
            service.request_tracking_upload(session, shipment, actor=user.username)
            return "Sending the tracking number to the channel (retried until it confirms)."

    try:
        flash(request, await flows.in_thread(work), "success")
    except RiffError as exc:
        flash(request, exc.message, "error")
    return redirect(request, f"/orders/{order_id}")


def _simple_post(action: str) -> Any:
    async def handler(request: Request, order_id: int, user: Writer) -> Response:
        database = get_database(request)
        form = await request.form()

        def work() -> str:
            with database.session() as session:
                if action == "cancel":
                    service.cancel_order(session, order_id, actor=user.username, reason="cancelled in RIFF")
                    return "Order cancelled: the stock is back. Relist it below."
                if action == "relist":
                    channels = [str(c) for c in form.getlist("channels")] or None
                    result = service.relist_order(session, order_id, channels, actor=user.username)
                    if result["refused"]:
                        raise RiffError("; ".join(f"{c}: {m}" for c, m in result["refused"].items()))
                    return f"Relisting {len(result['relisted'])} item(s)."
                shipment_id = int(str(form.get("shipment_id") or 0))
                if action == "cancel-shipment":
                    service.cancel_shipment(session, shipment_id, actor=user.username)
                    return "Shipment cancelled."
                service.retry_label(session, shipment_id, actor=user.username)
                return "Asking DHL again (same request)."

        try:
            flash(request, await flows.in_thread(work), "success")
        except (RiffError, ValueError) as exc:
            flash(request, _problem(exc), "error")
        return redirect(request, f"/orders/{order_id}")

    return handler


for _action in ("cancel", "relist", "cancel-shipment", "retry-label"):
    router.add_api_route(f"/orders/{{order_id}}/{_action}", _simple_post(_action), methods=["POST"])


@router.post("/orders/{order_id}/tracking")
async def refresh_tracking(request: Request, order_id: int, _user: Writer) -> Response:
    database = get_database(request)
    form = await request.form()
    try:
        status = await flows.refresh_tracking(
            database, get_fulfilment_settings(), int(str(form.get("shipment_id") or 0))
        )
        flash(request, f"Tracking updated: {status.value.replace('_', ' ')}.", "success")
    except ChannelError as exc:
        flash(request, flows.carrier_error(exc).message, "error")
    except (RiffError, ValueError) as exc:
        flash(request, _problem(exc), "error")
    return redirect(request, f"/orders/{order_id}")
