"""Shipments (one per order that is shipped: the label, the tracking number, the upload of that number to
the channel) and the alert outbox.

A label that was paid for is never lost: the row is written (with its ``message_reference``) *before*
the carrier is asked, the PDF is on disk before the row says ``label_created``, and the job that uploads
the tracking number to the channel is enqueued in the same transaction that stores the label.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from riff.catalog.models import str_enum
from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, Money, TimestampMixin, UTCDateTime


class ShipmentStatus(enum.StrEnum):
    LABEL_PENDING = "label_pending"  # asked the carrier; no answer yet (retried with the same reference)
    LABEL_FAILED = "label_failed"  # the carrier refused the request (its words in last_error): fix, retry
    LABEL_CREATED = "label_created"  # label bought and stored; no carrier scan yet
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"  # the carrier reports a problem (bad address, held at customs, ...)
    CANCELLED = "cancelled"  # voided in RIFF: the label is not used


# A label exists (or is being bought): the order has its shipment.
ACTIVE_STATUSES = frozenset(set(ShipmentStatus) - {ShipmentStatus.CANCELLED, ShipmentStatus.LABEL_FAILED})
# The carrier may still report something new.
TRACKED_STATUSES = frozenset(
    {
        ShipmentStatus.LABEL_CREATED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.EXCEPTION,
    }
)


class UploadStatus(enum.StrEnum):
    """Where the tracking number stands on the channel the order came from."""

    NOT_STARTED = "not_started"  # no tracking number yet
    PENDING = "pending"  # a job is uploading it (retried until the channel confirms)
    CONFIRMED = "confirmed"  # the channel accepted it
    FAILED = "failed"  # refused, or out of attempts: shown on the order, retried by hand
    NOT_SUPPORTED = "not_supported"  # the channel takes no tracking (Vintage & Rare)


class Shipment(TimestampMixin, Base):
    __tablename__ = "shipments"
    __table_args__ = (
        # One live shipment per order: a double click never buys two labels.
        sa.Index(
            "uq_shipments_order_live",
            "order_id",
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        ),
        sa.Index("ix_shipments_status", "status"),
        sa.Index("ix_shipments_tracking_number", "tracking_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="RESTRICT"))
    carrier: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[ShipmentStatus] = mapped_column(str_enum(ShipmentStatus, 30))
    product_code: Mapped[str | None] = mapped_column(sa.String(10))
    product_name: Mapped[str | None] = mapped_column(sa.String(120))
    # Idempotency key of the label purchase (MyDHL ``Message-Reference``): every retry sends the same one.
    message_reference: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64))
    tracking_url: Mapped[str | None] = mapped_column(sa.String(500))
    piece_numbers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    ship_from: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    parcels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    customs: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    description: Mapped[str | None] = mapped_column(sa.String(200))
    price: Mapped[Decimal | None] = mapped_column(Money)
    price_currency: Mapped[str | None] = mapped_column(sa.String(3))
    request_payload: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # as sent; resent on retry
    # [{type, path (relative to the data dir), size, sha256}]; files written before the row says so.
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    planned_ship_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    label_created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    estimated_delivery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    tracking_events: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    tracking_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    upload_status: Mapped[UploadStatus] = mapped_column(
        str_enum(UploadStatus), default=UploadStatus.NOT_STARTED
    )
    upload_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    upload_error: Mapped[str | None] = mapped_column(sa.Text)
    upload_job_id: Mapped[int | None] = mapped_column(sa.Integer)
    upload_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(sa.String(120))

    def document(self, type_code: str) -> dict[str, Any] | None:
        return next((d for d in self.documents or [] if d.get("type") == type_code), None)


class AlertStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # out of attempts; the error is kept
    SKIPPED = "skipped"  # no alert URLs configured when it was due


class AlertKind(enum.StrEnum):
    NEW_ORDER = "new_order"
    OVERSELL = "oversell"
    SHIPMENT_EXCEPTION = "shipment_exception"
    TRACKING_UPLOAD_FAILED = "tracking_upload_failed"


class Alert(Base):
    """The alert outbox: written in the transaction that noticed the event, sent by a job (apprise)."""

    __tablename__ = "fulfilment_alerts"
    __table_args__ = (sa.Index("ix_fulfilment_alerts_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, 40))
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)  # one alert per event, ever
    title: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    order_id: Mapped[int | None] = mapped_column(sa.Integer)
    shipment_id: Mapped[int | None] = mapped_column(sa.Integer)
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus), default=AlertStatus.PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    delivered: Mapped[list[str]] = mapped_column(JSONType, default=list)  # hashes of URLs that got it
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
