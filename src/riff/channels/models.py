"""Channel-side tables: accounts (encrypted credentials), price rules, category mappings, listings."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riff.catalog.models import Category, Product, str_enum
from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, Money, TimestampMixin, UTCDateTime


class ListingState(enum.StrEnum):
    PENDING = "pending"
    LIVE = "live"
    ENDED = "ended"
    SOLD = "sold"
    ERROR = "error"


class AccountStatus(enum.StrEnum):
    OK = "ok"
    NEEDS_ATTENTION = "needs_attention"


class ChannelAccount(TimestampMixin, Base):
    """Credentials for one channel account. ``secrets_encrypted`` is a SecretBox token of a JSON object;
    a raw read of the table shows no plaintext."""

    __tablename__ = "channel_accounts"
    __table_args__ = (sa.UniqueConstraint("channel", "name", name="uq_channel_accounts_channel_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(40), index=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="default")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    is_sandbox: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    base_url: Mapped[str | None] = mapped_column(sa.String(500))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[AccountStatus] = mapped_column(str_enum(AccountStatus), default=AccountStatus.OK)
    status_message: Mapped[str | None] = mapped_column(sa.Text)


class ChannelPriceRule(Base):
    """Markup per channel plus an optional price-ending rule (e.g. round up to ...49/...99)."""

    __tablename__ = "channel_price_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(40), unique=True)
    markup_percent: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal("0"))
    # Comma-separated endings the price is rounded *up* to, e.g. "49,99"; empty = no rounding.
    price_endings: Mapped[str] = mapped_column(sa.String(40), default="")


class ChannelCategoryMapping(Base):
    __tablename__ = "channel_category_mappings"
    __table_args__ = (
        sa.UniqueConstraint("category_id", "channel", name="uq_channel_category_mappings_category_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(40))
    remote_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    remote_names: Mapped[list[str]] = mapped_column(JSONType, default=list)

    category: Mapped[Category] = relationship()


class Listing(TimestampMixin, Base):
    """One product on one channel: the current remote listing (earlier remote ids live in ``extras``)."""

    __tablename__ = "listings"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "channel", name="uq_listings_product_channel"),
        sa.UniqueConstraint("channel", "remote_id", name="uq_listings_channel_remote_id"),
        sa.Index("ix_listings_channel_state", "channel", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(40))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channel_accounts.id", ondelete="SET NULL"))
    remote_id: Mapped[str | None] = mapped_column(sa.String(120))
    remote_url: Mapped[str | None] = mapped_column(sa.String(1000))
    state: Mapped[ListingState] = mapped_column(str_enum(ListingState), default=ListingState.PENDING)
    price_override: Mapped[Decimal | None] = mapped_column(Money)
    remote_price: Mapped[Decimal | None] = mapped_column(Money)
    remote_currency: Mapped[str | None] = mapped_column(sa.String(3))
    remote_quantity: Mapped[int | None] = mapped_column(sa.Integer)
    last_pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_pulled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    remote_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    extras: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    product: Mapped[Product] = relationship()


class ChannelEvent(Base):
    """Inbox of inbound marketplace events (webhook deliveries and polled changes).

    ``(channel, external_id)`` is unique and rows are inserted with on-conflict-do-nothing, so a delivery
    seen twice is stored, and handled, once. ``external_id`` is the event's dedupe key.
    """

    __tablename__ = "channel_events"
    __table_args__ = (
        sa.UniqueConstraint("channel", "external_id", name="uq_channel_events_channel_external_id"),
        sa.Index("ix_channel_events_handled_at", "handled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(40))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("channel_accounts.id", ondelete="SET NULL"))
    external_id: Mapped[str] = mapped_column(sa.String(200))
    topic: Mapped[str] = mapped_column(sa.String(80))
    object_id: Mapped[str | None] = mapped_column(sa.String(120))  # the remote order/listing id
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
