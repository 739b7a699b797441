"""Pydantic models for the catalog JSON API (and the CSV row pipeline's normalised row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from riff.catalog.consts import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from riff.catalog.models import Condition, MovementReason, ProductStatus
from riff.channels.models import ListingState

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
ModelText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Decade = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{3}0s$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{3}$")]
CategorySlug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Year = Annotated[int, Field(ge=1800, le=2100)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000)]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class ProductFields(BaseModel):
    """Fields a client may set; shared by create, update and the CSV row model."""

    model_config = ConfigDict(extra="forbid")

    brand: ShortText | None = None
    model: ModelText | None = None
    year: Year | None = None
    decade: Decade | None = None
    finish: ShortText | None = None
    category: CategorySlug | None = Field(None, description="Category slug, e.g. electric-guitars")
    description: str | None = Field(None, max_length=100_000)
    cost: Price | None = None
    notes: str | None = Field(None, max_length=100_000)

    _blank = field_validator("brand", "model", "decade", "finish", "category", mode="before")(_blank_to_none)


class ProductCreate(ProductFields):
    sku: Sku
    title: Title
    price: Price
    currency: Currency = "GBP"
    condition: Condition = Condition.GOOD
    quantity: Quantity = 1
    is_stocked_item: bool = False
    status: ProductStatus = ProductStatus.DRAFT
    attributes: dict[str, Any] = Field(default_factory=dict)


class ProductUpdate(ProductFields):
    """PATCH body: only the fields sent change. ``version`` is the one the client last read."""

    version: int = Field(..., ge=1, description="Optimistic lock: the version you last read")
    sku: Sku | None = None
    title: Title | None = None
    price: Price | None = None
    currency: Currency | None = None
    condition: Condition | None = None
    quantity: Quantity | None = None
    is_stocked_item: bool | None = None
    status: ProductStatus | None = None
    attributes: dict[str, Any] | None = Field(
        None, description="Merged into the current attributes; a null value removes that attribute"
    )


class ListingOut(BaseModel):
    channel: str
    state: ListingState
    remote_id: str | None
    remote_url: str | None
    price_override: Decimal | None


class ProductOut(BaseModel):
    id: int
    sku: str
    title: str
    brand: str | None
    model: str | None
    year: int | None
    decade: str | None
    finish: str | None
    condition: Condition
    category: str | None
    description: str
    price: Decimal
    currency: str
    cost: Decimal | None
    quantity: int
    is_stocked_item: bool
    status: ProductStatus
    attributes: dict[str, Any]
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    channel_prices: dict[str, Decimal]
    listings: list[ListingOut]


class ProductPage(BaseModel):
    items: list[ProductOut]
    total: int
    limit: int
    offset: int


class FilterQuery(BaseModel):
    """List/export filters as the query string carries them (parsed by queries.parse_filters)."""

    status: str | None = Field(None, description="Comma-separated; default: every status but archived")
    brand: str | None = Field(None, description="Exact brand, case-insensitive")
    category: str | None = Field(None, description="Category slug; includes its sub-categories")
    channel: str | None = Field(None, description="Only products with a listing on this channel")
    listing_state: str | None = Field(None, description="Only products with a listing in this state")
    price_min: Decimal | None = Field(None, ge=0)
    price_max: Decimal | None = Field(None, ge=0)
    quantity_min: int | None = Field(None, ge=0)
    quantity_max: int | None = Field(None, ge=0)
    q: str | None = Field(
        None,
        max_length=400,
        description="Words that must each start a word of sku/title/brand/model/description (any case)",
    )
    sort: str | None = Field(None, description="e.g. price or -updated_at; comma-separated for several")


class ListQuery(FilterQuery):
    limit: int = Field(DEFAULT_PAGE_LIMIT, ge=1, le=MAX_PAGE_LIMIT)
    offset: int = Field(0, ge=0)


@dataclass
class ProductFilters:
    """List/export filters, already parsed (see queries.parse_filters for the query-string form)."""

    statuses: list[ProductStatus] | None = None
    brand: str | None = None
    category_ids: list[int] | None = None
    channel: str | None = None
    listing_state: ListingState | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    quantity_min: int | None = None
    quantity_max: int | None = None
    q: str | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (column attribute, descending)
    limit: int = DEFAULT_PAGE_LIMIT
    offset: int = 0


class BulkItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    price: Price | None = None
    quantity: Quantity | None = None
    status: ProductStatus | None = None


class BulkItemResult(BaseModel):
    sku: str
    changed: list[str]
    version: int


class BulkResult(BaseModel):
    updated: int
    unchanged: int
    items: list[BulkItemResult]


class PriceRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    markup_percent: Decimal = Field(Decimal("0"), max_digits=6, decimal_places=2)
    price_endings: str = Field("", max_length=40, description='Comma-separated, e.g. "49,99"; empty = none')


class PriceRuleOut(BaseModel):
    channel: str
    markup_percent: Decimal
    price_endings: str


class StockAdjustIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: int = Field(..., ge=-1_000_000, le=1_000_000)
    reason: MovementReason = MovementReason.ADJUSTMENT
    reference: str | None = Field(None, max_length=200)


class StockMovementOut(BaseModel):
    id: int
    delta: int
    quantity_after: int
    reason: MovementReason
    actor: str
    reference: str | None
    at: dt.datetime


class ImportRowResult(BaseModel):
    row: int
    sku: str
    action: str  # created | updated | unchanged
    changed: list[str] = Field(default_factory=list)


class ImportRowError(BaseModel):
    row: int
    column: str | None
    sku: str | None
    reason: str


class ImportReport(BaseModel):
    dry_run: bool
    skip_invalid: bool
    written: bool
    created: int
    updated: int
    unchanged: int
    skipped: int
    rows: list[ImportRowResult]
    errors: list[ImportRowError]
