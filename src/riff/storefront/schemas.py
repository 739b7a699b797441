"""The feed's output: a whitelist. Only what a shop's public website shows is here; cost, notes,
attributes (serial numbers), drafts, SKUs and internal ids of other tables never are."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class _Public(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Public):
    value: str = Field(description="Decimal as text, e.g. 149.99")
    currency: str


class Category(_Public):
    slug: str
    name: str


class ChannelLink(_Public):
    channel: str
    url: str


class RecordInfo(_Public):
    release_id: int | None
    artist: str
    artists: list[str]
    title: str
    labels: list[str]
    catalog_number: str | None
    format: str | None
    formats: list[str]
    year: int | None
    genres: list[str]
    styles: list[str]
    media_condition: str | None
    sleeve_condition: str | None
    have: int | None
    want: int | None


class Item(_Public):
    id: str = Field(description='"riff-<n>": stable for the item; /api/data/{id} accepts it')
    listing_id: str | None = Field(
        None, description="The Discogs listing id, when listed there (the old feed's id)"
    )
    title: str
    description: str
    price: Price
    condition: str
    quantity: int
    category: Category | None
    brand: str | None
    model: str | None
    year: int | None
    decade: str | None
    finish: str | None
    images: list[str]
    listed_at: dt.datetime
    updated_at: dt.datetime
    channels: list[ChannelLink]
    record: RecordInfo | None


class Pagination(_Public):
    page: int
    per_page: int
    pages: int
    items: int


class ItemPage(_Public):
    items: list[Item]
    pagination: Pagination
    last_updated: dt.datetime | None


class Stats(_Public):
    total_listings: int
    last_updated: dt.datetime | None
    by_channel: dict[str, int]
    by_category: dict[str, int]
