"""The channel contract: what every marketplace adapter implements, and the normalized types it speaks.

An adapter never touches the database: the service layer hands it a ``ProductSnapshot`` (the product
with its effective price and category mapping already resolved) and stores what comes back. Everything
platform-specific (payload shapes, condition ids, quirks) stays inside ``riff.channels.<slug>``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from riff.channels.http import RateLimiter


class Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhooks: bool = False
    quantity_above_one: bool = False
    max_images: int = 1
    variations: bool = False
    incremental_listing_fetch: bool = False  # fetch_listings(since=...) filters on the platform
    order_polling: bool = False


class RemoteState(enum.StrEnum):
    """A remote listing's state, normalized. Mirrors ``ListingState`` plus the platform-only ones."""

    DRAFT = "draft"
    PENDING = "pending"  # accepted, not yet live (publishing is asynchronous on some platforms)
    LIVE = "live"
    SOLD = "sold"
    ENDED = "ended"
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"


class EndReason(enum.StrEnum):
    NOT_SOLD = "not_sold"  # withdrawn by the shop
    SOLD_HERE = "sold_here"  # sold on this channel
    SOLD_ELSEWHERE = "sold_elsewhere"  # sold on another channel or in the shop


class ImageRef(BaseModel):
    url: str
    position: int = 0


class ProductSnapshot(BaseModel):
    """The product as one channel should show it: price already effective, category already mapped."""

    product_id: int | None = None
    sku: str
    title: str
    brand: str | None = None
    model: str | None = None
    year: int | None = None
    decade: str | None = None
    finish: str | None = None
    condition: str
    description: str = ""
    price: Decimal
    currency: str
    quantity: int = 1
    is_stocked_item: bool = False
    category_slug: str | None = None
    category_remote_ids: list[str] = Field(default_factory=list)  # from channel_category_mappings
    images: list[ImageRef] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)


class ListingSnapshot(BaseModel):
    """An existing remote listing RIFF manages, with the product it shows."""

    listing_id: int | None = None
    remote_id: str
    product: ProductSnapshot


class RemoteListingRef(BaseModel):
    id: str
    url: str | None = None
    state: RemoteState


class RemoteListing(BaseModel):
    remote_id: str
    sku: str | None = None
    title: str
    price: Decimal | None = None
    currency: str | None = None
    quantity: int | None = None
    state: RemoteState
    url: str | None = None
    updated_at: dt.datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class Address(BaseModel):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None


class OrderLine(BaseModel):
    sku: str | None = None
    remote_listing_id: str | None = None
    title: str | None = None
    quantity: int = 1
    price: Decimal | None = None
    currency: str | None = None


class OrderStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    UNKNOWN = "unknown"


class RemoteOrder(BaseModel):
    remote_id: str
    status: OrderStatus
    remote_status: str | None = None  # the platform's own word, for display
    buyer_name: str | None = None
    buyer_email: str | None = None
    shipping_address: Address | None = None
    lines: list[OrderLine] = Field(default_factory=list)
    currency: str | None = None
    subtotal: Decimal | None = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    total: Decimal | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)


class WebhookEvent(BaseModel):
    channel: str
    topic: str  # the platform's topic name, e.g. "orders/update"
    external_id: str  # the remote object's id (order number, listing id)
    dedupe_key: str  # same delivery twice -> same key; a real later change -> a new key
    payload: dict[str, Any] = Field(default_factory=dict, repr=False)


@runtime_checkable
class Channel(Protocol):
    """What RIFF asks of a marketplace. Implementations live in ``riff.channels.<slug>.adapter``.

    Construction: ``Channel(config=..., secrets=..., base_url=..., transport=..., rate_limiter=...)`` where
    ``config``/``secrets`` are the account's JSON (validated by ``config_model``/``secrets_model``).
    Every method raises only ``riff.channels.errors.ChannelError`` subclasses.
    """

    slug: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    config_model: ClassVar[type[BaseModel]]
    secrets_model: ClassVar[type[BaseModel]]
    default_base_url: ClassVar[str]

    async def publish(self, product: ProductSnapshot, *, remote_id: str | None = None) -> RemoteListingRef:
        """Create (or find, by SKU or ``remote_id``) the listing and make it live. Idempotent."""
        ...

    async def update(self, listing: ListingSnapshot, changed_fields: set[str]) -> RemoteListingRef:
        """Send only ``changed_fields`` (RIFF field names: price, quantity, title, ...)."""
        ...

    async def end(self, listing: ListingSnapshot, reason: EndReason) -> RemoteListingRef:
        """Take the listing off sale; ending an already ended listing succeeds."""
        ...

    def fetch_listings(self, since: dt.datetime | None = None) -> AsyncIterator[RemoteListing]:
        """Every own listing, all pages. ``since`` is a hint when capabilities.incremental_listing_fetch."""
        ...

    async def fetch_orders(self, since: dt.datetime) -> list[RemoteOrder]: ...

    async def fetch_order(self, remote_id: str) -> RemoteOrder: ...

    async def mark_shipped(self, order_id: str, carrier: str, tracking: str) -> RemoteOrder | None: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """Verify (where the platform signs) and normalize one delivery; raise Rejected if malformed."""
        ...

    async def handle_webhook(self, event: WebhookEvent) -> RemoteOrder | RemoteListing | None:
        """Confirm an event against the API (webhook bodies are not trusted) and return the fresh object."""
        ...

    async def aclose(self) -> None: ...


__all__ = [
    "Address",
    "Capabilities",
    "Channel",
    "EndReason",
    "ImageRef",
    "ListingSnapshot",
    "OrderLine",
    "OrderStatus",
    "ProductSnapshot",
    "RateLimiter",
    "RemoteListing",
    "RemoteListingRef",
    "RemoteOrder",
    "RemoteState",
    "WebhookEvent",
]
