"""Carrier-neutral types: who ships to whom, what is in the box, what a rate, a label and a tracking
event look like. ``riff.fulfilment`` speaks only these; ``riff.carriers.<carrier>.mapping`` turns them into
the carrier's payloads and back."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Party(BaseModel):
    """An address with the person (and company) at it."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str | None = None
    company: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    email: str | None = None
    phone: str | None = None
    vat_number: str | None = None
    eori_number: str | None = None


class Parcel(BaseModel):
    """One box: weight in kilograms, dimensions in centimetres."""

    weight_kg: Decimal = Field(gt=0, le=1000)
    length_cm: Decimal = Field(gt=0, le=1000)
    width_cm: Decimal = Field(gt=0, le=1000)
    height_cm: Decimal = Field(gt=0, le=1000)


class CustomsItem(BaseModel):
    description: str = Field(min_length=1, max_length=512)
    hs_code: str | None = Field(None, max_length=20)
    quantity: int = Field(1, ge=1)
    unit_value: Decimal = Field(ge=0)
    weight_kg: Decimal = Field(gt=0)
    origin_country: str = Field("GB", min_length=2, max_length=2)


class Customs(BaseModel):
    """The export declaration of a shipment that crosses a customs border."""

    currency: str = Field(min_length=3, max_length=3)
    items: list[CustomsItem] = Field(min_length=1)
    incoterm: str = Field("DAP", min_length=3, max_length=3)
    export_reason: str = Field("sale", max_length=100)
    invoice_number: str | None = Field(None, max_length=35)

    @property
    def declared_value(self) -> Decimal:
        return sum((item.unit_value * item.quantity for item in self.items), Decimal("0"))


class RateQuote(BaseModel):
    carrier: str
    product_code: str
    product_name: str
    price: Decimal | None = None
    currency: str | None = None
    estimated_delivery: dt.datetime | None = None
    transit_days: int | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class LabelDocument(BaseModel):
    type_code: str  # "label", "invoice", "waybillDoc"
    image_format: str = "PDF"
    content: bytes = Field(repr=False)


class CreatedShipment(BaseModel):
    carrier: str
    tracking_number: str
    tracking_url: str | None = None
    piece_tracking_numbers: list[str] = Field(default_factory=list)
    documents: list[LabelDocument] = Field(default_factory=list)
    estimated_delivery: dt.datetime | None = None


class TrackingState(enum.StrEnum):
    """A shipment's state as the carrier's events say, normalized."""

    LABEL_CREATED = "label_created"  # no scan yet
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class TrackingEvent(BaseModel):
    at: dt.datetime | None = None
    code: str
    description: str
    location: str | None = None
    exception: bool = False


class TrackingInfo(BaseModel):
    tracking_number: str
    state: TrackingState
    events: list[TrackingEvent] = Field(default_factory=list)
    estimated_delivery: dt.datetime | None = None


# The EU customs union: a parcel between two of these (or within one country) needs no export declaration.
# Great Britain left it on 2021-01-01; Northern Ireland's special status is not modelled.
EU_CUSTOMS_UNION = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
        "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip


def crosses_customs_border(origin: str | None, destination: str | None) -> bool:
    """True when a shipment needs customs contents: another country outside a shared customs union."""
    if not origin or not destination:
        return False
    origin, destination = origin.upper(), destination.upper()
    if origin == destination:
        return False
    return not (origin in EU_CUSTOMS_UNION and destination in EU_CUSTOMS_UNION)
