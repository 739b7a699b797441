"""Unified orders: one ``orders`` row per (channel, remote order id), one ``order_lines`` row per item.

Orders arrive by webhook and by polling; both paths insert with ``ON CONFLICT (channel, remote_order_id)
DO NOTHING``, so an order delivered twice and seen again by a poll is stored once. ``order_lines.stock_state``
records what the order did to stock, so a sale is decremented once and a cancellation restores it once.
Fulfilment (shipping labels, tracking) builds on these tables later.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riff.catalog.models import str_enum
from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, Money, TimestampMixin, UTCDateTime


class OrderStatus(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    AWAITING_SHIPMENT = "awaiting_shipment"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# Orders in these states hold no stock: a first sighting in one of them decrements nothing, and a move
# into one of them gives back what the order took.
RELEASED_STATUSES = frozenset({OrderStatus.CANCELLED, OrderStatus.REFUNDED})


class OrderSource(enum.StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    SHIP = "ship"  # the answer to a mark-shipped call
    INFERRED = "inferred"  # a listing seen sold on the channel before its order arrived


class StockState(enum.StrEnum):
    PENDING = "pending"  # not processed yet (only inside the transaction that inserts the line)
    APPLIED = "applied"  # stock was taken for this line
    OVERSOLD = "oversold"  # nothing left to take: sold elsewhere first
    UNMATCHED = "unmatched"  # no product found for the line (SKU / listing unknown)
    RESTORED = "restored"  # the order was cancelled/refunded and the stock given back
    TRANSFERRED = "transferred"  # an inferred sale's stock, handed over to the real order that arrived
    NONE = "none"  # first seen cancelled: never took stock


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("channel", "remote_order_id", name="uq_orders_channel_remote_order_id"),
        sa.Index("ix_orders_status", "status"),
        sa.Index("ix_orders_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(40))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channel_accounts.id", ondelete="SET NULL"))
    remote_order_id: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, 30))
    remote_status: Mapped[str | None] = mapped_column(sa.String(60))  # the platform's own word
    source: Mapped[OrderSource] = mapped_column(str_enum(OrderSource))  # how RIFF first learnt of it
    buyer_name: Mapped[str | None] = mapped_column(sa.String(300))
    buyer_email: Mapped[str | None] = mapped_column(sa.String(300))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    subtotal: Mapped[Decimal | None] = mapped_column(Money)
    shipping: Mapped[Decimal | None] = mapped_column(Money)
    tax: Mapped[Decimal | None] = mapped_column(Money)
    total: Mapped[Decimal | None] = mapped_column(Money)
    fees: Mapped[Decimal | None] = mapped_column(Money)  # marketplace fees, where the platform gives them
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Oversell: the item had already sold elsewhere when this order arrived. ``followup`` says what the
    # user must do on the channel (cancel and refund), until they mark it done.
    oversold: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    followup: Mapped[str | None] = mapped_column(sa.Text)
    placed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the platform's created time
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # When RIFF first heard of the order (webhook arrival or poll): the start of sale -> delist latency.
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.position", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "position", name="uq_order_lines_order_position"),
        sa.Index("ix_order_lines_listing_state", "listing_id", "stock_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    listing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("listings.id", ondelete="SET NULL"))
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    remote_listing_id: Mapped[str | None] = mapped_column(sa.String(120))
    title: Mapped[str | None] = mapped_column(sa.String(300))
    quantity: Mapped[int] = mapped_column(sa.Integer, default=1)
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    stock_state: Mapped[StockState] = mapped_column(str_enum(StockState), default=StockState.PENDING)

    order: Mapped[Order] = relationship(back_populates="lines")
