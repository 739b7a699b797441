"""Request and response bodies of the research API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from riff.research.consts import CATEGORIES, PLATFORMS


class ListingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    external_id: str
    url: str | None
    title: str
    description: str
    price: Decimal | None
    currency: str | None
    price_base: Decimal | None
    condition: str | None
    brand: str | None
    size: str | None
    era: str | None
    category: str | None
    image_urls: list[str]
    seller: str | None
    engagement_score: float | None
    trend_score: float | None
    ai_tags: list[str]
    ai_analysis: dict[str, Any] | None
    ai_method: str | None
    analyzed_at: dt.datetime | None
    sold: bool | None
    listed_at: dt.datetime | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


class ListingDetail(ListingOut):
    raw: dict[str, Any]


class ListingPage(BaseModel):
    items: list[ListingOut]
    total: int
    limit: int
    offset: int


class SyncJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    platform: str
    status: str
    trigger: str
    job_id: int | None
    queries: list[Any]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    duration_seconds: float | None
    requests: int
    fetched: int
    added: int
    updated: int
    unchanged: int
    errors: int
    error_detail: str | None


class SyncJobPage(BaseModel):
    items: list[SyncJobOut]
    total: int
    limit: int
    offset: int


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: Literal["ebay", "etsy", "reddit", "all"] = "all"
    query: str | None = Field(
        None, min_length=1, max_length=100, description="Ad-hoc keywords; default: configured searches"
    )
    limit: int | None = Field(None, ge=1, le=10_000, description="Listings per search at most")


class SyncAccepted(BaseModel):
    jobs: dict[str, int | None] = Field(description="platform -> job id (null: merged into a queued sync)")


class JobStatusOut(BaseModel):
    job_id: int
    kind: str
    status: str
    attempts: int
    payload: dict[str, Any]
    result: dict[str, Any] | None
    last_error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    runs: list[SyncJobOut]


class AnalysisAccepted(BaseModel):
    listing_id: int
    job_id: int | None


class TrendOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    period: str
    period_start: dt.datetime
    platform: str
    category: str
    brand: str
    listing_count: int
    sold_count: int
    avg_price: Decimal | None
    median_price: Decimal | None
    min_price: Decimal | None
    max_price: Decimal | None
    p25_price: Decimal | None
    p75_price: Decimal | None
    iqr_price: Decimal | None
    avg_engagement: float | None
    currency: str


class BrandOut(BaseModel):
    brand: str
    listings: int
    avg_price: Decimal | None
    avg_engagement: float | None
    previous_listings: int
    growth_percent: float | None


class SavedSearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    query: str = Field("", max_length=200)
    platforms: list[str] = Field(default_factory=list, description="Empty: every platform")
    min_price: Decimal | None = Field(None, ge=0, description="In the research base currency")
    max_price: Decimal | None = Field(None, ge=0)
    filters: dict[str, Any] = Field(
        default_factory=dict, description="brand, size, condition, category, era, exclude_sold"
    )
    notify_enabled: bool = True
    notify_url: str | None = Field(
        None, max_length=1000, description="Webhook receiving new matches (JSON POST)"
    )

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in PLATFORMS]
        if unknown:
            raise ValueError(f"unknown platform(s): {', '.join(unknown)}")
        return sorted(set(value))

    @field_validator("notify_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("notify_url must be an http(s) URL")
        return value or None

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, Any]) -> dict[str, Any]:
        allowed = {"brand", "size", "condition", "category", "era", "exclude_sold"}
        unknown = set(value) - allowed
        if unknown:
            raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        if value.get("category") and value["category"] not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        return value

    @model_validator(mode="after")
    def _range(self) -> SavedSearchIn:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError("min_price must not exceed max_price")
        return self


class SavedSearchPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    notify_enabled: bool | None = None
    notify_url: str | None = Field(None, max_length=1000)

    @field_validator("notify_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("notify_url must be an http(s) URL")
        return value


class SavedSearchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    query: str
    platforms: list[str]
    min_price: Decimal | None
    max_price: Decimal | None
    filters: dict[str, Any]
    notify_enabled: bool
    notify_url: str | None
    last_checked_at: dt.datetime | None
    last_notified_at: dt.datetime | None
    match_count: int
    created_by: str | None
    created_at: dt.datetime
