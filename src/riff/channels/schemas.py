"""API models of the channels package. Secrets are write-only: accepted here, never returned."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riff.channels.contract import EndReason
from riff.channels.models import AccountStatus, ListingState


class AccountCreate(BaseModel):
    channel: str = Field(..., max_length=40)
    name: str = Field("default", min_length=1, max_length=120)
    enabled: bool = True
    is_sandbox: bool = False
    base_url: str | None = Field(None, max_length=500, description="Override the API base URL (a sandbox)")
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="Write-only credentials")


class AccountUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=120)
    enabled: bool | None = None
    is_sandbox: bool | None = None
    base_url: str | None = Field(None, max_length=500)
    config: dict[str, Any] | None = Field(None, description="Keys to set; a null value removes the key")
    secrets: dict[str, str | None] | None = Field(
        None, description="Keys to set; a null value removes the key"
    )


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    name: str
    enabled: bool
    is_sandbox: bool
    base_url: str | None
    config: dict[str, Any]
    secret_keys: list[str] = Field(
        default_factory=list, description="Names of the secrets set (values never shown)"
    )
    status: AccountStatus
    status_message: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ListingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    channel: str
    account_id: int | None
    remote_id: str | None
    remote_url: str | None
    state: ListingState
    price_override: Decimal | None
    remote_price: Decimal | None
    remote_currency: str | None
    remote_quantity: int | None
    last_pushed_at: dt.datetime | None
    last_pulled_at: dt.datetime | None
    last_error: str | None
    updated_at: dt.datetime


class PublishRequest(BaseModel):
    price_override: Decimal | None = Field(None, gt=0)


class EndRequest(BaseModel):
    reason: EndReason = EndReason.NOT_SOLD


class ListingJobAccepted(BaseModel):
    listing: ListingRead
    job_id: int | None = None
