"""Pydantic models for the records JSON API and for everything that writes a record (sync, import)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from riff.catalog.models import Condition, ProductStatus
from riff.catalog.schemas import Currency, Price, Quantity, Sku, Year
from riff.records.consts import (
    DEFAULT_PAGE_LIMIT,
    GRADE_ALIASES,
    MAX_ITEM_CHARS,
    MAX_LIST_ITEMS,
    MAX_PAGE_LIMIT,
    MediaGrade,
    SleeveGrade,
)

Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_ITEM_CHARS)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
ItemList = Annotated[list[Item], Field(max_length=MAX_LIST_ITEMS)]


def normalise_grade(value: Any) -> Any:
    """ "VG+", "vg+", "Very Good Plus (VG+)" -> the grade's full Discogs name; blank -> None."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    lowered = text.lower()
    if lowered in GRADE_ALIASES:
        return str(GRADE_ALIASES[lowered])
    for grade in SleeveGrade:
        if lowered == grade.value.lower():
            return grade.value
    return text


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class RecordFields(BaseModel):
    """The record part of a product. On create every field is optional; on update only the fields sent
    change (``None`` clears one)."""

    model_config = ConfigDict(extra="forbid")

    release_id: int | None = Field(None, gt=0, description="Discogs release id")
    artists: ItemList = Field(default_factory=list)
    artist: Text | None = Field(None, description='Display form, e.g. "Danger Mouse & Daniele Luppi"')
    title: Text | None = Field(None, description="The release title")
    labels: ItemList = Field(default_factory=list)
    catalog_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    format_text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = Field(
        None, description='As Discogs shows it: "2xLP, Album, RE"'
    )
    formats: ItemList = Field(default_factory=list, description='Carrier and descriptions: ["Vinyl", "LP"]')
    year: Year | None = None
    genres: ItemList = Field(default_factory=list)
    styles: ItemList = Field(default_factory=list)
    media_condition: MediaGrade | None = Field(
        None, description="Discogs grading scale, e.g. Very Good Plus (VG+)"
    )
    sleeve_condition: SleeveGrade | None = Field(
        None, description="The media grades, or Generic/Not Graded/No Cover"
    )
    have_count: int | None = Field(None, ge=0)
    want_count: int | None = Field(None, ge=0)
    cover_image_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
    listed_at: dt.datetime | None = Field(None, description="When this copy was first offered for sale")

    _grades = field_validator("media_condition", "sleeve_condition", mode="before")(normalise_grade)

    @field_validator("artists", "labels", "formats", "genres", "styles", mode="after")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _dedupe(value)

    @field_validator("listed_at", mode="after")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2024-05-01T10:00:00+00:00)")
        return value.astimezone(dt.UTC) if value is not None else None

    @field_validator("cover_image_url", mode="after")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value or None


class RecordCreate(RecordFields):
    """A new record product: the product's commercial fields plus the record fields. The product title
    defaults to "Artist - Title" and its condition to the one the media grade implies."""

    sku: Sku
    price: Price
    currency: Currency = "GBP"
    status: ProductStatus = ProductStatus.DRAFT
    quantity: Quantity = 1
    is_stocked_item: bool = False
    product_title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None
    ) = None
    condition: Condition | None = None
    description: str | None = Field(None, max_length=100_000)
    cost: Price | None = None
    notes: str | None = Field(None, max_length=100_000)


class RecordUpdate(RecordFields):
    """PATCH body: only the fields sent change. ``version`` is the product version you last read."""

    version: int = Field(..., ge=1)
    price: Price | None = None
    currency: Currency | None = None
    status: ProductStatus | None = None
    quantity: Quantity | None = None
    product_title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None
    ) = None
    condition: Condition | None = None
    description: str | None = Field(None, max_length=100_000)


PRODUCT_UPDATE_FIELDS = ("price", "currency", "status", "quantity", "condition", "description")


class ListingLink(BaseModel):
    channel: str
    state: str
    remote_id: str | None
    url: str | None


class RecordOut(BaseModel):
    product_id: int
    sku: str
    product_title: str
    status: ProductStatus
    price: Decimal
    currency: str
    quantity: int
    condition: Condition
    version: int
    release_id: int | None
    artist: str
    artists: list[str]
    title: str
    labels: list[str]
    catalog_number: str | None
    format_text: str | None
    formats: list[str]
    year: int | None
    genres: list[str]
    styles: list[str]
    media_condition: str | None
    sleeve_condition: str | None
    have_count: int | None
    want_count: int | None
    cover_image_url: str | None
    listed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    listings: list[ListingLink] = Field(default_factory=list)


class RecordPage(BaseModel):
    items: list[RecordOut]
    total: int
    limit: int
    offset: int


class RecordQuery(BaseModel):
    """``GET /api/records`` filters; every filter is combined with AND."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(
        None, max_length=300, description="Words in artist, title, label, catalog number..."
    )
    artist: str | None = Field(None, max_length=200, description="Part of the artist name, any case")
    genre: str | None = Field(None, max_length=200, description="Exact genre, any case (Rock, Jazz...)")
    style: str | None = Field(None, max_length=200)
    format: str | None = Field(None, max_length=200, description='Vinyl, CD, Cassette, LP, 7", ...')
    label: str | None = Field(None, max_length=200)
    release_id: int | None = Field(None, gt=0)
    year_min: int | None = None
    year_max: int | None = None
    media_condition: MediaGrade | None = None
    status: ProductStatus | None = Field(None, description="Default: every status except archived")
    limit: int = Field(DEFAULT_PAGE_LIMIT, ge=1, le=MAX_PAGE_LIMIT)
    offset: int = Field(0, ge=0)

    _grade = field_validator("media_condition", mode="before")(normalise_grade)
