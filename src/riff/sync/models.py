"""Audit trail of every change RIFF saw or pushed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, UTCDateTime


class SyncEvent(Base):
    __tablename__ = "sync_events"
    __table_args__ = (sa.Index("ix_sync_events_channel_at", "channel", "at"),)

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
