"""Pydantic API models for orders and fulfilment (``/api/orders``, ``/api/shipments``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from riff.carriers.contract import Customs, Parcel, Party, RateQuote
from riff.fulfilment.models import AlertKind, AlertStatus, ShipmentStatus, UploadStatus
from riff.orders.models import OrderStatus, StockState

MAX_PAGE_LIMIT = 200


class ShipmentDraft(BaseModel):
    """What the user fills in before rates and the label. Omitted parts take defaults: the parcel from the
    settings, the address from the order, the customs contents from the order's lines."""

    model_config = ConfigDict(extra="forbid")

    parcels: list[Parcel] | None = Field(None, min_length=1, max_length=20)
    customs: Customs | None = None
    ship_to: Party | None = Field(
        None, description="Corrected address for this shipment (the order keeps the channel's)"
    )
    product_code: str | None = Field(
        None, max_length=10, description="From the rates; default: DHL's main product"
    )
    description: str | None = Field(None, max_length=70)
    planned_ship_at: dt.datetime | None = None

    @field_validator("planned_ship_at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("planned_ship_at needs a time zone (e.g. 2026-05-01T10:00:00Z)")
        return value


class RateOut(BaseModel):
    carrier: str
    product_code: str
    product_name: str
    price: Decimal | None
    currency: str | None
    estimated_delivery: dt.datetime | None
    transit_days: int | None

    @classmethod
    def of(cls, quote: RateQuote) -> RateOut:
        return cls.model_validate(quote.model_dump(exclude={"raw"}))


class RatesOut(BaseModel):
    customs_required: bool
    rates: list[RateOut]


class DocumentOut(BaseModel):
    type: str
    url: str
    size: int


class ShipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    order_id: int
    carrier: str
    status: ShipmentStatus
    product_code: str | None
    product_name: str | None
    tracking_number: str | None
    tracking_url: str | None
    piece_numbers: list[str]
    price: Decimal | None
    price_currency: str | None
    parcels: list[dict[str, Any]]
    customs: dict[str, Any] | None
    ship_to: dict[str, Any]
    documents: list[DocumentOut] = Field(default_factory=list)
    label_url: str | None = None
    last_error: str | None
    last_error_at: dt.datetime | None
    tracking_events: list[dict[str, Any]]
    tracking_checked_at: dt.datetime | None
    estimated_delivery_at: dt.datetime | None
    delivered_at: dt.datetime | None
    upload_status: UploadStatus
    upload_attempts: int
    upload_error: str | None
    upload_confirmed_at: dt.datetime | None
    label_created_at: dt.datetime | None
    created_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @field_validator("documents", mode="before")
    @classmethod
    def _no_paths(cls, value: Any) -> Any:
        return []  # filled by ``of``: file paths stay on the server

    @classmethod
    def of(cls, shipment: Any) -> ShipmentOut:
        out = cls.model_validate(shipment)
        out.documents = [
            DocumentOut(
                type=d["type"], url=f"/api/shipments/{shipment.id}/documents/{d['type']}.pdf", size=d["size"]
            )
            for d in shipment.documents or []
        ]
        label = next((d for d in out.documents if d.type == "label"), None)
        out.label_url = label.url if label else None
        return out


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    product_id: int | None
    sku: str | None
    title: str | None
    remote_listing_id: str | None
    quantity: int
    price: Decimal | None
    currency: str | None
    stock_state: StockState


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    remote_order_id: str
    status: OrderStatus
    remote_status: str | None
    buyer_name: str | None
    buyer_email: str | None
    currency: str | None
    subtotal: Decimal | None
    shipping: Decimal | None
    tax: Decimal | None
    total: Decimal | None
    fees: Decimal | None
    oversold: bool
    followup: str | None
    placed_at: dt.datetime | None
    paid_at: dt.datetime | None
    received_at: dt.datetime
    lines: list[OrderLineOut]
    shipment_status: ShipmentStatus | None = None
    tracking_number: str | None = None


class RelistOffer(BaseModel):
    channels: list[str] = Field(
        default_factory=list, description="Where the order's items were ended or sold"
    )
    product_ids: list[int] = Field(default_factory=list)


class OrderDetailOut(OrderOut):
    shipping_address: dict[str, Any] | None
    shipments: list[ShipmentOut] = Field(default_factory=list)
    customs_required: bool = False
    relist_offer: RelistOffer | None = None


class OrderPage(BaseModel):
    items: list[OrderOut]
    total: int
    limit: int
    offset: int


class OrderQuery(BaseModel):
    channel: str | None = None
    status: OrderStatus | None = None
    q: str | None = Field(None, max_length=200, description="Order id, buyer name or e-mail, SKU or title")
    date_from: dt.date | None = Field(None, description="Received on or after (UTC date)")
    date_to: dt.date | None = Field(None, description="Received on or before (UTC date)")
    oversold: bool | None = None

    def filters(self) -> dict[str, Any]:
        return {
            "channel": self.channel or None,
            "status": self.status,
            "q": (self.q or "").strip() or None,
            "date_from": dt.datetime.combine(self.date_from, dt.time(), dt.UTC) if self.date_from else None,
            "date_to": (
                dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
                if self.date_to
                else None
            ),
            "oversold": self.oversold,
        }


class OrderListQuery(OrderQuery):
    limit: int = Field(50, ge=1, le=MAX_PAGE_LIMIT)
    offset: int = Field(0, ge=0)


class MarkShippedIn(BaseModel):
    """Shipped without a RIFF label (another carrier, hand delivery): tell the channel this tracking."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    carrier: str = Field(
        min_length=2, max_length=40, description="RIFF carrier code: dhl_express, royal_mail, ups, ..."
    )
    tracking_number: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9 -]+$")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("cancelled in RIFF", max_length=200)


class RelistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[str] | None = Field(None, description="Default: every channel the items were ended on")


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AlertKind
    title: str
    body: str
    order_id: int | None
    shipment_id: int | None
    status: AlertStatus
    attempts: int
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
