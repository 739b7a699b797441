"""Fulfilment domain logic. Services never commit and never make an HTTP request: the carrier calls live
in ``riff.fulfilment.flows`` (used by the endpoints and the jobs), channel calls in the
``fulfilment.upload_tracking`` job.

The label purchase is split so a paid label is never lost:

1. ``begin_label`` writes the shipment (``label_pending``, its ``message_reference`` and the exact request)
   and enqueues a watchdog ``fulfilment.create_label`` job, in the caller's transaction;
2. the carrier is asked (inline for a person waiting, else by that job), always with the same reference;
3. ``label_bought`` stores the PDFs, marks the label created and enqueues the tracking upload, in one
   transaction; ``label_refused`` keeps the carrier's words for the user; ``label_delayed`` leaves the
   row pending for the job.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from riff.carriers.contract import (
    CreatedShipment,
    Customs,
    CustomsItem,
    Parcel,
    Party,
    TrackingInfo,
    TrackingState,
    crosses_customs_border,
)
from riff.carriers.dhl import consts as dhl
from riff.carriers.dhl import mapping as dhl_mapping
from riff.catalog.models import Product
from riff.channels.contract import RemoteOrder
from riff.channels.models import Listing, ListingState
from riff.channels.repository import ListingRepository
from riff.core.clock import utcnow
from riff.core.errors import Conflict, NotFound, ValidationFailed
from riff.core.logging import get_logger
from riff.fulfilment import alerts, documents
from riff.fulfilment.models import (
    ACTIVE_STATUSES,
    AlertKind,
    Shipment,
    ShipmentStatus,
    UploadStatus,
)
from riff.fulfilment.repository import ShipmentRepository
from riff.fulfilment.schemas import RelistOffer, ShipmentDraft
from riff.fulfilment.settings import FulfilmentSettings
from riff.orders import service as orders
from riff.orders.models import RELEASED_STATUSES, Order, OrderStatus
from riff.orders.repository import OrderRepository

log = get_logger(__name__)

# A person waits for the label; the watchdog job picks up a purchase the request could not finish.
LABEL_WATCHDOG = dt.timedelta(seconds=90)
LABEL_RETRY_SOON = dt.timedelta(seconds=20)
# A pending purchase younger than this is being made right now by another request.
LABEL_IN_FLIGHT = dt.timedelta(seconds=60)
SHIPPABLE = frozenset({OrderStatus.PAID, OrderStatus.AWAITING_SHIPMENT})
CARRIER_NAMES = {dhl.CARRIER: dhl.DISPLAY_NAME}
# Cut-off after which "ship today" becomes the next working day (UTC, like everything RIFF stores).
DAILY_CUTOFF_HOUR = 16


def _enqueue(session: Session, kind: str, **kwargs: Any) -> int | None:
    from riff.jobs import enqueue

    job = enqueue(session, kind, **kwargs)
    return int(job.id) if job is not None else None


# --- orders ---------------------------------------------------------------------------------------


def get_order(session: Session, order_id: int) -> Order:
    return orders.get_order(session, order_id)


def lock_order(session: Session, order_id: int) -> Order:
    order = OrderRepository(session).get(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    locked = OrderRepository(session).get_by_remote_id(order.channel, order.remote_order_id, for_update=True)
    assert locked is not None
    return locked


def receiver_of(order: Order) -> Party:
    """The buyer's address as the channel gave it (``orders.shipping_address``)."""
    address = dict(order.shipping_address or {})
    return Party(
        name=address.get("name") or order.buyer_name,
        line1=address.get("line1"),
        line2=address.get("line2"),
        city=address.get("city"),
        region=address.get("region"),
        postal_code=address.get("postal_code"),
        country_code=(address.get("country_code") or "").upper() or None,
        email=order.buyer_email,
        phone=address.get("phone"),
    )


def customs_required(settings: FulfilmentSettings, receiver: Party) -> bool:
    return crosses_customs_border(settings.shipper_country, receiver.country_code)


def default_customs(order: Order, settings: FulfilmentSettings, parcels: Sequence[Parcel]) -> Customs:
    """Customs contents from the order's lines: value from the line prices, the parcel weight shared."""
    lines = list(order.lines) or []
    total_weight = sum((p.weight_kg for p in parcels), Decimal("0")) or settings.default_weight_kg
    share = (total_weight / max(1, sum(line.quantity for line in lines) or 1)).quantize(Decimal("0.001"))
    items = [
        CustomsItem(
            description=(line.title or line.sku or settings.default_contents)[:512],
            hs_code=settings.default_hs_code,
            quantity=line.quantity,
            unit_value=line.price if line.price is not None else Decimal("0"),
            weight_kg=max(share, Decimal("0.001")),
            origin_country=settings.shipper_country,
        )
        for line in lines
    ] or [
        CustomsItem(
            description=settings.default_contents,
            hs_code=settings.default_hs_code,
            unit_value=order.subtotal or order.total or Decimal("0"),
            weight_kg=total_weight,
            origin_country=settings.shipper_country,
        )
    ]
    return Customs(
        currency=(order.currency or "GBP").upper(), items=items, invoice_number=f"RIFF-O{order.id}"
    )


def default_ship_time(now: dt.datetime) -> dt.datetime:
    """Today in half an hour before the cut-off on a working day, else the next working day at 10:00."""
    if now.weekday() < 5 and now.hour < DAILY_CUTOFF_HOUR:
        return (now + dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    day = now.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 0), dt.UTC)


def _check_receiver(receiver: Party) -> None:
    """What DHL always refuses without (its schema requires them): said before any request is made."""
    required = (
        ("country_code", receiver.country_code),
        ("city", receiver.city),
        ("line1", receiver.line1),
        ("name", receiver.name),
        ("phone", receiver.phone),
    )
    missing = [name for name, value in required if not value]
    if missing:
        raise ValidationFailed(
            f"the shipping address has no {missing[0].replace('_', ' ')} (DHL requires it): add it in ship_to",
            field=f"ship_to.{missing[0]}",
        )


def _check_shipper(settings: FulfilmentSettings) -> None:
    if not settings.dhl_configured:
        raise Conflict(
            "DHL is not configured: set RIFF_DHL_API_KEY, RIFF_DHL_API_SECRET and RIFF_DHL_ACCOUNT_NUMBER "
            "(docs/fulfilment.md)",
            code="carrier_not_configured",
        )


class PreparedShipment:
    """A draft resolved against the order and the settings: what rates and labels are computed from."""

    def __init__(self, order: Order, draft: ShipmentDraft, settings: FulfilmentSettings) -> None:
        self.shipper = settings.shipper()
        self.receiver = draft.ship_to or receiver_of(order)
        self.parcels = list(draft.parcels or [settings.default_parcel()])
        self.customs_required = customs_required(settings, self.receiver)
        self.customs = (
            (draft.customs or default_customs(order, settings, self.parcels))
            if self.customs_required
            else None
        )
        self.description = draft.description or settings.default_contents
        self.planned = draft.planned_ship_at or default_ship_time(utcnow())
        if self.planned < utcnow() - dt.timedelta(minutes=5):
            raise ValidationFailed("planned_ship_at is in the past", field="planned_ship_at")
        self.product_code = draft.product_code or dhl_mapping.default_product(
            self.shipper.country_code or "GB", self.receiver.country_code or "GB"
        )


def prepare(order: Order, draft: ShipmentDraft, settings: FulfilmentSettings) -> PreparedShipment:
    _check_shipper(settings)
    prepared = PreparedShipment(order, draft, settings)
    _check_receiver(prepared.receiver)
    return prepared


def rates_request(prepared: PreparedShipment, settings: FulfilmentSettings) -> dict[str, Any]:
    return dhl_mapping.rate_request(
        shipper=prepared.shipper,
        receiver=prepared.receiver,
        parcels=prepared.parcels,
        account_number=settings.dhl_account_number or "",
        planned=prepared.planned,
        customs_declarable=prepared.customs_required,
        declared_value=prepared.customs.declared_value if prepared.customs else None,
        currency=prepared.customs.currency if prepared.customs else None,
    )


# --- labels ---------------------------------------------------------------------------------------


def begin_label(
    session: Session, order_id: int, draft: ShipmentDraft, settings: FulfilmentSettings, *, actor: str
) -> Shipment:
    """Write the shipment before DHL is asked (``label_pending`` + its Message-Reference + the request).

    A second request while one is in flight is a 409; a label already bought is a 409; a refused or
    abandoned purchase is taken up again (a refused one with a new reference, since its request changed)."""
    order = lock_order(session, order_id)
    if order.status not in SHIPPABLE:
        raise Conflict(
            f"order {order.id} is {order.status.value}: only paid orders get a label",
            field="status",
            code="not_shippable",
        )
    prepared = prepare(order, draft, settings)
    repository = ShipmentRepository(session)
    shipment = repository.live_for_order(order.id, for_update=True)
    now = utcnow()
    if shipment is not None and shipment.status == ShipmentStatus.LABEL_PENDING:
        if now - shipment.updated_at < LABEL_IN_FLIGHT:
            raise Conflict("a label is being bought for this order right now", code="label_in_progress")
        return shipment  # resumed with its own reference and request: never a second label
    if shipment is not None and shipment.status != ShipmentStatus.LABEL_FAILED:
        raise Conflict(
            f"order {order.id} already has a {shipment.carrier} shipment ({shipment.status.value}, "
            f"tracking {shipment.tracking_number or '-'})",
            code="already_shipped",
        )
    reference = str(uuid.uuid4())  # 36 characters: within MyDHL's Message-Reference length
    payload = dhl_mapping.shipment_request(
        shipper=prepared.shipper,
        receiver=prepared.receiver,
        parcels=prepared.parcels,
        product_code=prepared.product_code,
        account_number=settings.dhl_account_number or "",
        planned=prepared.planned,
        description=prepared.description,
        reference=f"{order.channel} {order.remote_order_id}",
        customs=prepared.customs,
    )
    values: dict[str, Any] = {
        "carrier": dhl.CARRIER,
        "status": ShipmentStatus.LABEL_PENDING,
        "product_code": prepared.product_code,
        "product_name": dhl.PRODUCT_NAMES.get(prepared.product_code, prepared.product_code),
        "message_reference": reference,
        "ship_from": prepared.shipper.model_dump(mode="json", exclude_none=True),
        "ship_to": prepared.receiver.model_dump(mode="json", exclude_none=True),
        "parcels": [p.model_dump(mode="json") for p in prepared.parcels],
        "customs": prepared.customs.model_dump(mode="json") if prepared.customs else None,
        "description": prepared.description,
        "request_payload": payload,
        "planned_ship_at": prepared.planned,
        "last_error": None,
        "last_error_at": None,
        "created_by": actor,
    }
    if shipment is None:
        shipment = Shipment(order_id=order.id, piece_numbers=[], documents=[], tracking_events=[],
                            upload_status=UploadStatus.NOT_STARTED, upload_attempts=0, **values)  # fmt: skip
        session.add(shipment)
    else:
        for key, value in values.items():
            setattr(shipment, key, value)
        shipment.updated_at = now
    session.flush()
    _enqueue(
        session,
        "fulfilment.create_label",
        payload={"shipment_id": shipment.id, "actor": actor},
        run_after=now + LABEL_WATCHDOG,
        coalesce_key=f"fulfilment.create_label:{shipment.id}",
    )
    log.info(
        "fulfilment.label.begin", order_id=order.id, shipment_id=shipment.id, product=prepared.product_code
    )
    return shipment


def label_bought(
    session: Session, shipment_id: int, created: CreatedShipment, data_dir: Path, *, actor: str
) -> Shipment:
    """Store the PDFs, then say so; enqueue the tracking upload in the same transaction."""
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    if (
        shipment.status != ShipmentStatus.LABEL_PENDING
        and shipment.tracking_number == created.tracking_number
    ):
        return shipment  # recorded already (the inline call and the watchdog job both finished)
    stored = [documents.store(data_dir, shipment.id, doc.type_code, doc.content) for doc in _unique(created)]
    shipment.status = ShipmentStatus.LABEL_CREATED
    shipment.tracking_number = created.tracking_number
    shipment.tracking_url = created.tracking_url
    shipment.piece_numbers = list(created.piece_tracking_numbers)
    shipment.documents = stored
    shipment.estimated_delivery_at = created.estimated_delivery
    shipment.label_created_at = utcnow()
    shipment.last_error = None
    shipment.last_error_at = None
    order = lock_order(session, shipment.order_id)
    orders.move_status(session, order, OrderStatus.AWAITING_SHIPMENT, actor=actor, reason="label bought")
    session.flush()
    request_tracking_upload(session, shipment, actor=actor)
    log.info("fulfilment.label.created", shipment_id=shipment.id, tracking=created.tracking_number)
    return shipment


def _unique(created: CreatedShipment) -> list[Any]:
    """One file per document type (DHL may send several label documents: they are pages of one set)."""
    seen: dict[str, Any] = {}
    for document in created.documents:
        seen.setdefault(document.type_code, document)
    return list(seen.values())


def label_refused(session: Session, shipment_id: int, message: str) -> Shipment:
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    if shipment.status != ShipmentStatus.LABEL_PENDING:
        return shipment
    shipment.status = ShipmentStatus.LABEL_FAILED
    shipment.message_reference = None  # the next try sends a corrected request: a new reference
    shipment.last_error = message
    shipment.last_error_at = utcnow()
    session.flush()
    log.warning("fulfilment.label.refused", shipment_id=shipment_id, message=message[:300])
    return shipment


def label_delayed(session: Session, shipment_id: int, message: str) -> Shipment:
    """The carrier did not answer (or answered 5xx): keep the reference, let the job try again soon."""
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    if shipment.status == ShipmentStatus.LABEL_PENDING:
        shipment.last_error = message
        shipment.last_error_at = utcnow()
        session.flush()
        _enqueue(
            session,
            "fulfilment.create_label",
            payload={"shipment_id": shipment.id, "actor": shipment.created_by or "system"},
            run_after=utcnow() + LABEL_RETRY_SOON,
            coalesce_key=f"fulfilment.create_label:{shipment.id}",
        )
    return shipment


def retry_label(session: Session, shipment_id: int, *, actor: str) -> Shipment:
    """Operator: try a pending purchase again now (same reference, so no second label)."""
    shipment = get_shipment(session, shipment_id)
    if shipment.status != ShipmentStatus.LABEL_PENDING:
        raise Conflict(f"shipment {shipment_id} is {shipment.status.value}, not waiting for a label")
    _enqueue(
        session,
        "fulfilment.create_label",
        payload={"shipment_id": shipment.id, "actor": actor},
        coalesce_key=f"fulfilment.create_label:{shipment.id}",
    )
    return shipment


def cancel_shipment(session: Session, shipment_id: int, *, actor: str) -> Shipment:
    """Void a shipment RIFF will not use (a refused request, or a label never handed to DHL)."""
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    if shipment.status not in (ShipmentStatus.LABEL_FAILED, ShipmentStatus.LABEL_CREATED):
        raise Conflict(f"a {shipment.status.value} shipment cannot be cancelled", code="not_cancellable")
    if shipment.upload_status == UploadStatus.CONFIRMED:
        raise Conflict(
            "the channel already has this tracking number: the parcel is shipped", code="not_cancellable"
        )
    shipment.status = ShipmentStatus.CANCELLED
    shipment.message_reference = None
    session.flush()
    log.info("fulfilment.shipment.cancelled", shipment_id=shipment_id, actor=actor)
    return shipment


def get_shipment(session: Session, shipment_id: int) -> Shipment:
    shipment = ShipmentRepository(session).get(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    return shipment


# --- tracking upload to the channel ----------------------------------------------------------------


def request_tracking_upload(session: Session, shipment: Shipment, *, actor: str) -> int | None:
    """Enqueue ``fulfilment.upload_tracking``: retried until the channel confirms (or a person must act)."""
    if not shipment.tracking_number:
        raise Conflict(f"shipment {shipment.id} has no tracking number yet", code="no_tracking")
    if shipment.upload_status in (UploadStatus.CONFIRMED, UploadStatus.NOT_SUPPORTED):
        return None
    from riff.fulfilment.settings import get_fulfilment_settings

    order = get_order(session, shipment.order_id)
    job_id = _enqueue(
        session,
        "fulfilment.upload_tracking",
        channel=order.channel,
        payload={"shipment_id": shipment.id, "actor": actor},
        priority=10,
        coalesce_key=f"fulfilment.upload_tracking:{shipment.id}",
        max_attempts=get_fulfilment_settings().tracking_upload_max_attempts,
    )
    shipment.upload_status = UploadStatus.PENDING
    shipment.upload_error = None
    if job_id is not None:
        shipment.upload_job_id = job_id
    session.flush()
    return job_id


def upload_confirmed(
    session: Session, shipment_id: int, remote: RemoteOrder | None, *, actor: str
) -> Shipment:
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    order = get_order(session, shipment.order_id)
    shipment.upload_attempts += 1
    shipment.upload_error = None
    shipment.upload_confirmed_at = utcnow()
    shipment.upload_status = UploadStatus.CONFIRMED if remote is not None else UploadStatus.NOT_SUPPORTED
    session.flush()
    if remote is not None:
        from riff.channels import service as channels  # the channel's answer goes through the sync engine

        channels.record_remote_order(session, order.channel, remote, source="ship")
        session.refresh(order)
    if order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED, *RELEASED_STATUSES):
        orders.move_status(session, order, OrderStatus.SHIPPED, actor=actor, reason="tracking uploaded")
    log.info(
        "fulfilment.upload.confirmed",
        shipment_id=shipment_id,
        channel=order.channel,
        status=shipment.upload_status,
    )
    return shipment


def upload_failed(session: Session, shipment_id: int, message: str, *, final: bool) -> Shipment:
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    shipment.upload_attempts += 1
    shipment.upload_error = message
    if final:
        shipment.upload_status = UploadStatus.FAILED
        order = get_order(session, shipment.order_id)
        alerts.raise_alert(
            session,
            AlertKind.TRACKING_UPLOAD_FAILED,
            f"{AlertKind.TRACKING_UPLOAD_FAILED.value}:{shipment.id}:{shipment.upload_attempts}",
            f"Tracking not uploaded: {order.channel} order {order.remote_order_id}",
            f"RIFF could not give {order.channel} the tracking number {shipment.tracking_number} for order "
            f"{order.remote_order_id}: {message}. Retry it from the order page.",
            order_id=order.id,
            shipment_id=shipment.id,
        )
    session.flush()
    log.warning("fulfilment.upload.failed", shipment_id=shipment_id, final=final, message=message[:300])
    return shipment


def mark_shipped_manually(
    session: Session, order_id: int, carrier: str, tracking: str, *, actor: str
) -> Shipment:
    """Shipped without a RIFF label: record the shipment and tell the channel the tracking number."""
    order = lock_order(session, order_id)
    if order.status not in (*SHIPPABLE, OrderStatus.SHIPPED):
        raise Conflict(f"order {order.id} is {order.status.value}: nothing to ship", code="not_shippable")
    repository = ShipmentRepository(session)
    shipment = repository.live_for_order(order.id, for_update=True)
    if shipment is not None and shipment.status in ACTIVE_STATUSES:
        raise Conflict(
            f"order {order.id} already has a shipment (tracking {shipment.tracking_number or 'pending'}): "
            "retry its upload instead",
            code="already_shipped",
        )
    if shipment is not None:  # a refused label request: this replaces it
        shipment.status = ShipmentStatus.CANCELLED
        shipment.message_reference = None
        session.flush()
    shipment = Shipment(
        order_id=order.id,
        carrier=carrier.lower().replace(" ", "_"),
        status=ShipmentStatus.IN_TRANSIT,
        tracking_number=tracking.replace(" ", ""),
        ship_to=receiver_of(order).model_dump(mode="json", exclude_none=True),
        ship_from={},
        parcels=[],
        piece_numbers=[],
        documents=[],
        tracking_events=[],
        upload_status=UploadStatus.NOT_STARTED,
        upload_attempts=0,
        label_created_at=None,
        created_by=actor,
    )
    session.add(shipment)
    session.flush()
    request_tracking_upload(session, shipment, actor=actor)
    return shipment


# --- carrier tracking -------------------------------------------------------------------------------

_STATE_TO_STATUS = {
    TrackingState.LABEL_CREATED: ShipmentStatus.LABEL_CREATED,
    TrackingState.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingState.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingState.DELIVERED: ShipmentStatus.DELIVERED,
    TrackingState.EXCEPTION: ShipmentStatus.EXCEPTION,
}


def apply_tracking(session: Session, shipment_id: int, info: TrackingInfo, *, actor: str = "dhl") -> Shipment:
    """Store the carrier's checkpoints; delivered -> the order is delivered; an exception -> an alert."""
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is None:
        raise NotFound(f"shipment {shipment_id} not found")
    shipment.tracking_checked_at = utcnow()
    shipment.tracking_events = [event.model_dump(mode="json") for event in info.events]
    if info.estimated_delivery:
        shipment.estimated_delivery_at = info.estimated_delivery
    status = _STATE_TO_STATUS[info.state]
    before = shipment.status
    if shipment.status != ShipmentStatus.CANCELLED:
        shipment.status = status
    order = get_order(session, shipment.order_id)
    if status == ShipmentStatus.DELIVERED:
        shipment.delivered_at = info.events[-1].at if info.events and info.events[-1].at else utcnow()
        orders.move_status(session, order, OrderStatus.DELIVERED, actor=actor, reason="carrier: delivered")
    for event in info.events:
        if event.exception:
            alerts.raise_alert(
                session,
                AlertKind.SHIPMENT_EXCEPTION,
                f"{AlertKind.SHIPMENT_EXCEPTION.value}:{shipment.id}:{event.code}:{event.at.isoformat() if event.at else ''}",
                f"Shipment exception: {order.channel} order {order.remote_order_id}",
                f"DHL {shipment.tracking_number}: {event.code} {event.description}"
                + (f" ({event.location})" if event.location else ""),
                order_id=order.id,
                shipment_id=shipment.id,
            )
    session.flush()
    if before != shipment.status:
        log.info("fulfilment.tracking.status", shipment_id=shipment_id, before=before, after=shipment.status)
    return shipment


def tracking_failed(session: Session, shipment_id: int, message: str) -> None:
    shipment = ShipmentRepository(session).get_for_update(shipment_id)
    if shipment is not None:
        shipment.tracking_checked_at = utcnow()
        shipment.last_error = f"tracking: {message}"
        shipment.last_error_at = utcnow()
        session.flush()


# --- cancellations, returns, relisting ---------------------------------------------------------------


def cancel_order(session: Session, order_id: int, *, actor: str, reason: str) -> Order:
    """Cancelled in RIFF (the buyer backed out, or a channel with no order API): stock goes back once
    (the sync engine's ``release_order``, a stock movement) and relisting is offered."""
    order = lock_order(session, order_id)
    shipment = ShipmentRepository(session).live_for_order(order.id)
    if shipment is not None and shipment.status in ACTIVE_STATUSES:
        raise Conflict(
            f"order {order.id} has a {shipment.status.value} shipment: cancel the shipment first",
            code="has_shipment",
        )
    orders.move_status(session, order, OrderStatus.CANCELLED, actor=actor, reason=reason)
    from riff.sync import sales

    sales.release_order(session, order, actor=actor)
    session.flush()
    return order


def relist_offer(session: Session, order: Order) -> RelistOffer | None:
    """For a cancelled/refunded order: the channels where its items were ended or sold, if in stock."""
    if order.status not in RELEASED_STATUSES:
        return None
    channels: set[str] = set()
    product_ids: list[int] = []
    listings = ListingRepository(session)
    for line in order.lines:
        if line.product_id is None:
            continue
        product = session.get(Product, line.product_id)
        if product is None or product.quantity <= 0:
            continue
        ended = [
            li
            for li in listings.for_product(product.id)
            if li.state in (ListingState.ENDED, ListingState.SOLD)
        ]
        if ended:
            product_ids.append(product.id)
            channels.update(li.channel for li in ended)
    return RelistOffer(channels=sorted(channels), product_ids=product_ids) if channels else None


def relist_order(
    session: Session, order_id: int, channels: Sequence[str] | None, *, actor: str
) -> dict[str, Any]:
    """Publish the order's items again where they were ended (``riff.sync.service.relist_product``)."""
    order = get_order(session, order_id)
    if order.status not in RELEASED_STATUSES:
        raise Conflict(
            f"order {order.id} is {order.status.value}: only cancelled or refunded orders are relisted",
            code="not_released",
        )
    offer = relist_offer(session, order)
    if offer is None:
        raise Conflict(
            "nothing to relist: the items are not in stock or are still listed", code="nothing_to_relist"
        )
    unknown = sorted(set(channels or []) - set(offer.channels))
    if unknown:
        raise ValidationFailed(
            f"the items were not ended on {', '.join(unknown)} (offered: {', '.join(offer.channels)})",
            field="channels",
        )
    from riff.fulfilment.repository import latest_push_error
    from riff.sync import service as sync

    wanted = list(channels or offer.channels)
    done: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for product_id in offer.product_ids:
        done[str(product_id)] = sync.relist_product(session, product_id, actor=actor, channels=wanted)
        for channel in wanted:
            if channel not in done[str(product_id)]:
                refused[channel] = latest_push_error(session, product_id, channel) or f"{channel} refused it"
    log.info(
        "fulfilment.order.relist", order_id=order.id, channels=wanted, refused=sorted(refused), actor=actor
    )
    return {"order_id": order.id, "relisted": done, "refused": refused}


def listings_of(session: Session, product_ids: Sequence[int]) -> list[Listing]:
    repository = ListingRepository(session)
    return [listing for product_id in product_ids for listing in repository.for_product(product_id)]
