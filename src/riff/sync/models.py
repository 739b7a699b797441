"""Audit trail of every change RIFF saw or pushed."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from riff.catalog.models import str_enum
from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, Money, UTCDateTime


class SyncEvent(Base):
    __tablename__ = "sync_events"
    __table_args__ = (
        sa.Index("ix_sync_events_channel_at", "channel", "at"),
        sa.Index("ix_sync_events_listing_kind", "listing_id", "kind"),  # migration 0006
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str | None] = mapped_column(sa.String(40))
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    listing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("listings.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    outcome: Mapped[str] = mapped_column(sa.String(20), default="ok")
    message: Mapped[str | None] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(120), default="system")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncChannelState(Base):
    """Per channel: the pull cursor and what the status page shows (last pull, last error)."""

    __tablename__ = "sync_channel_state"

    channel: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    # Start time of the last successful pull: the next incremental pull asks for changes since this
    # minus the lookback window (clocks differ, and platforms index updates late).
    pull_cursor: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_pull_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_pull_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_full_pull_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_pull_stats: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_reconciliation: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    last_reconciled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class UnmatchedStatus(enum.StrEnum):
    OPEN = "open"  # waiting for the user
    MATCHED = "matched"  # linked to an existing product
    CREATED = "created"  # a new product was made from it
    IGNORED = "ignored"  # not RIFF's business; never shown again


class UnmatchedListing(Base):
    """A listing found on a channel that RIFF does not manage, with the best product candidates.

    ``(channel, remote_id)`` is unique and rows are inserted with on-conflict-do-nothing, so the user's
    decision (matched, created, ignored) is remembered and the listing never reappears as new.
    """

    __tablename__ = "sync_unmatched"
    __table_args__ = (
        sa.UniqueConstraint("channel", "remote_id", name="uq_sync_unmatched_channel_remote_id"),
        sa.Index("ix_sync_unmatched_status_channel", "status", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(40))
    remote_id: Mapped[str] = mapped_column(sa.String(120))
    sku: Mapped[str | None] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(500), default="")
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    quantity: Mapped[int | None] = mapped_column(sa.Integer)
    state: Mapped[str] = mapped_column(sa.String(20), default="live")
    url: Mapped[str | None] = mapped_column(sa.String(1000))
    # brand, model, year, description as found in the platform's payload (for matching and creating).
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Best candidates: [{"product_id", "sku", "title", "score", "reasons": [...]}], best first.
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    best_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"))
    best_score: Mapped[float | None] = mapped_column(sa.Float)
    status: Mapped[UnmatchedStatus] = mapped_column(str_enum(UnmatchedStatus), default=UnmatchedStatus.OPEN)
    resolved_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(120))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FieldChange(Base):
    """When each product field last changed in RIFF: the local side of "the newer change wins"."""

    __tablename__ = "sync_field_changes"

    product_id: Mapped[int] = mapped_column(
        sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SalePropagation(Base):
    """One sale that had to end listings elsewhere: from the order received to the last end confirmed.

    ``targets`` are the listing ids to end; ``completed_at`` is stamped when the last of them is
    confirmed ended, so ``completed_at - received_at`` is the sale -> delist latency.
    """

    __tablename__ = "sync_sale_propagations"
    __table_args__ = (sa.Index("ix_sync_sale_propagations_completed_at", "completed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("products.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(sa.String(40))  # where it sold
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    targets: Mapped[list[int]] = mapped_column(JSONType, default=list)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
