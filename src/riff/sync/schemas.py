"""Pydantic models of the sync API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class PullRequest(BaseModel):
    full: bool = Field(False, description="Read every listing, not only those changed since the last pull")


class JobAccepted(BaseModel):
    channel: str
    job_id: int | None


class SyncEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str | None
    product_id: int | None
    listing_id: int | None
    kind: str
    outcome: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    message: str | None
    actor: str
    at: dt.datetime


class SyncEventPage(BaseModel):
    items: list[SyncEventOut]
    total: int
    limit: int
    offset: int


class UnmatchedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    remote_id: str
    sku: str | None
    title: str
    price: Decimal | None
    currency: str | None
    quantity: int | None
    state: str
    url: str | None
    details: dict[str, Any]
    candidates: list[dict[str, Any]] = Field(
        description="[{product_id, sku, title, score, reasons}], best first"
    )
    status: str
    resolved_product_id: int | None
    resolved_by: str | None
    resolved_at: dt.datetime | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


class UnmatchedPage(BaseModel):
    items: list[UnmatchedOut]
    total: int
    limit: int
    offset: int


class ResolveIn(BaseModel):
    action: Literal["match", "create", "ignore"]
    product_id: int | None = Field(None, description="For match: the product (default: the best candidate)")


class FixIn(BaseModel):
    listing_id: int
    action: Literal["push_local", "accept_remote"]


class ChannelsIn(BaseModel):
    channels: list[str] | None = Field(None, description="Default: every channel with an enabled account")


class OrderLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int | None
    listing_id: int | None
    sku: str | None
    remote_listing_id: str | None
    title: str | None
    quantity: int
    price: Decimal | None
    currency: str | None
    stock_state: str


class OversellOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    remote_order_id: str
    status: str
    buyer_name: str | None
    total: Decimal | None
    currency: str | None
    followup: str | None
    received_at: dt.datetime
    lines: list[OrderLineOut]


class OversellPage(BaseModel):
    items: list[OversellOut]
    total: int
    limit: int
    offset: int
