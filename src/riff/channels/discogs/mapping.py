"""Pure functions: RIFF's normalized types <-> Discogs' payloads. No I/O here.

Discogs lists a *release* (an entry in its database) in a graded condition: the listing carries only the
seller's part (price, media and sleeve grade, comments, offers, location). Title, artist, format and
images come from the release and cannot be changed through a listing. A product therefore needs its
record data (``riff.records``: release id and grades) to be listed; the task layer puts it on the snapshot
under ``attributes["record"]`` (``RECORD_KEY``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from riff.catalog.models import Condition
from riff.channels.contract import (
    Address,
    EndReason,
    OrderLine,
    OrderStatus,
    ProductSnapshot,
    RemoteListing,
    RemoteListingRef,
    RemoteOrder,
    RemoteState,
)
from riff.channels.discogs import consts
from riff.channels.errors import Rejected
from riff.channels.mapping import money, parse_datetime
from riff.records.consts import GRADE_BY_CONDITION, MediaGrade, SleeveGrade

RECORD_KEY = "record"  # ProductSnapshot.attributes[RECORD_KEY] = {"release_id", "media_condition", ...}
GENERIC_USER_AGENTS = ("python-httpx/", "python-requests/", "curl/", "Wget/")


class DiscogsConfig(BaseModel):
    """Per-account settings (stored in ``channel_accounts.config``)."""

    model_config = ConfigDict(coerce_numbers_to_str=False)

    username: str = Field(..., min_length=1, title="Seller username", description="Your Discogs username")
    user_agent: str = Field(
        ...,
        min_length=3,
        title="User-Agent",
        description="Discogs refuses requests without a unique User-Agent, e.g. 'MyShopSync/1.0 +https://shop.example'",
    )
    currency: str = Field(
        "USD", title="Listing currency", description="Your Discogs selling currency (ISO 4217)"
    )
    publish: bool = Field(True, title="Publish on create", description="False creates listings as Draft")
    allow_offers: bool = Field(False, title="Accept offers")
    location: str | None = Field(
        None, title="Default location", description="Private shelf/bin note on new listings"
    )
    sync_mode: Literal["auto", "full", "incremental"] = Field(
        "auto",
        title="Inventory sync mode",
        description="auto: incremental, with a full comparison every full_sync_interval_hours",
    )
    full_sync_interval_hours: float = Field(6.0, ge=0, le=24 * 7)
    release_lookups_per_run: int = Field(
        200, ge=0, le=3000, description="GET /releases calls per enrichment run (genres, styles, labels)"
    )
    rate_limit_window_seconds: float = Field(
        consts.RATE_LIMIT_WINDOW_SECONDS, gt=0, description="Discogs' moving window (a sandbox may shrink it)"
    )

    @field_validator("user_agent")
    @classmethod
    def _identifying_user_agent(cls, value: str) -> str:
        value = value.strip()
        if not value or value.startswith(GENERIC_USER_AGENTS):
            raise ValueError(
                "Discogs needs a User-Agent that names your application, e.g. 'MyShopSync/1.0 +https://shop.example'"
            )
        return value

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().upper()


class DiscogsSecrets(BaseModel):
    """Write-only credentials (encrypted in ``channel_accounts.secrets_encrypted``)."""

    token: SecretStr = Field(
        ...,
        title="Personal access token",
        description="discogs.com -> Settings -> Developers -> Generate new token",
    )


# --- listings: RIFF -> Discogs --------------------------------------------------------------------------


def _record(product: ProductSnapshot) -> dict[str, Any]:
    record = product.attributes.get(RECORD_KEY)
    return record if isinstance(record, dict) else {}


def release_id(product: ProductSnapshot) -> int:
    value = _record(product).get("release_id")
    if not isinstance(value, int) or value <= 0:
        raise Rejected(
            "Discogs lists records by release: this product has no Discogs release id (set it on the record)",
            channel=consts.SLUG,
            field="release_id",
        )
    return value


def media_condition(product: ProductSnapshot) -> str:
    grade = _record(product).get("media_condition")
    if grade in set(MediaGrade):
        return str(grade)
    try:
        return str(GRADE_BY_CONDITION[Condition(product.condition)])
    except (KeyError, ValueError):
        raise Rejected(
            f"condition {product.condition!r} has no Discogs grade", channel=consts.SLUG, field="condition"
        ) from None


def sleeve_condition(product: ProductSnapshot) -> str | None:
    grade = _record(product).get("sleeve_condition")
    return str(grade) if grade in set(SleeveGrade) else None


def _check_price(product: ProductSnapshot, config: DiscogsConfig) -> float:
    if product.currency.upper() != config.currency:
        raise Rejected(
            f"product is priced in {product.currency} but the Discogs account sells in {config.currency}",
            channel=consts.SLUG,
            field="currency",
        )
    if product.price <= 0:
        raise Rejected("price must be greater than 0", channel=consts.SLUG, field="price")
    return float(product.price.quantize(Decimal("0.01")))


def create_payload(product: ProductSnapshot, config: DiscogsConfig) -> dict[str, Any]:
    """Body for ``POST /marketplace/listings`` (JSON; release_id, condition, price, status required)."""
    payload: dict[str, Any] = {
        "release_id": release_id(product),
        "condition": media_condition(product),
        "price": _check_price(product, config),
        "status": consts.FOR_SALE if config.publish else consts.DRAFT,
        "comments": product.description,
        "allow_offers": config.allow_offers,
        "external_id": product.sku,
        "weight": "auto",
        "format_quantity": "auto",
    }
    sleeve = sleeve_condition(product)
    if sleeve is not None:
        payload["sleeve_condition"] = sleeve
    if config.location:
        payload["location"] = config.location
    return payload


# RIFF field name -> the Discogs listing fields it changes.
_UPDATE_FIELDS: dict[str, Any] = {
    "price": lambda p, c: {"price": _check_price(p, c)},
    "description": lambda p, c: {"comments": p.description},
    "condition": lambda p, c: {"condition": media_condition(p)},
    "media_condition": lambda p, c: {"condition": media_condition(p)},
    "sleeve_condition": lambda p, c: {"sleeve_condition": sleeve_condition(p)} if sleeve_condition(p) else {},
    "release_id": lambda p, c: {"release_id": release_id(p)},
    "record": lambda p, c: {
        "release_id": release_id(p),
        "condition": media_condition(p),
        **({"sleeve_condition": sleeve_condition(p)} if sleeve_condition(p) else {}),
    },
}
UPDATABLE_FIELDS = frozenset(_UPDATE_FIELDS)
# Accepted by ``update`` with nothing to send: the release's own data (Discogs' database owns it) and the
# quantity (a Discogs listing is one copy; the sync engine ends and re-creates it instead).
NOT_ON_THE_LISTING = frozenset(
    {"title", "brand", "model", "finish", "year", "decade", "category", "images", "attributes", "artists"}
    | {"quantity", "is_stocked_item"}
)


def update_changes(
    product: ProductSnapshot, changed_fields: Iterable[str], config: DiscogsConfig
) -> dict[str, Any]:
    """The listing fields ``changed_fields`` change; unknown names are refused."""
    changed = set(changed_fields)
    unknown = sorted(changed - UPDATABLE_FIELDS - NOT_ON_THE_LISTING)
    if unknown:
        raise Rejected(
            f"Discogs cannot update field(s): {', '.join(unknown)}", channel=consts.SLUG, field=unknown[0]
        )
    payload: dict[str, Any] = {}
    for field in sorted(changed & UPDATABLE_FIELDS):
        payload.update(_UPDATE_FIELDS[field](product, config))
    return payload


def edit_payload(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Body for ``POST /marketplace/listings/{id}``: Discogs requires release_id, condition, price and status
    on every edit, so the current listing's values fill what did not change."""
    price = current.get("price")
    body: dict[str, Any] = {
        "release_id": (current.get("release") or {}).get("id"),
        "condition": current.get("condition"),
        "price": price.get("value") if isinstance(price, dict) else price,
        "status": current.get("status"),
    }
    if current.get("sleeve_condition"):
        body["sleeve_condition"] = current["sleeve_condition"]
    body.update(changes)
    return body


def edit_changes_anything(current: dict[str, Any], changes: dict[str, Any]) -> bool:
    """False when the listing already shows every value (an echo of a change read from Discogs)."""
    shown = edit_payload(current, {})
    shown["comments"] = current.get("comments") or ""
    for name, value in changes.items():
        if name == "price":
            if money(value) != money(shown.get("price")):
                return True
        elif shown.get(name) != value:
            return True
    return False


# --- listings: Discogs -> RIFF ----------------------------------------------------------------------------


def listing_state(listing: dict[str, Any]) -> RemoteState:
    return RemoteState(consts.LISTING_STATES.get(str(listing.get("status") or ""), "unknown"))


def listing_title(listing: dict[str, Any]) -> str:
    release = listing.get("release") or {}
    artist, title = release.get("artist"), release.get("title")
    if artist and title:
        return f"{artist} - {title}"
    description = str(release.get("description") or "")
    # "Artist - Title (LP, Album)" -> "Artist - Title"
    return description.rsplit(" (", 1)[0] if description.endswith(")") else description


def listing_ref(listing: dict[str, Any]) -> RemoteListingRef:
    return RemoteListingRef(id=str(listing["id"]), url=listing.get("uri"), state=listing_state(listing))


def remote_listing(listing: dict[str, Any]) -> RemoteListing:
    price = listing.get("price") or {}
    quantity = listing.get("quantity")
    return RemoteListing(
        remote_id=str(listing["id"]),
        sku=listing.get("external_id") or None,
        title=listing_title(listing),
        price=money(price.get("value") if isinstance(price, dict) else price),
        currency=price.get("currency") if isinstance(price, dict) else None,
        quantity=quantity if isinstance(quantity, int) else 1,
        state=listing_state(listing),
        url=listing.get("uri"),
        updated_at=parse_datetime(listing.get("posted")),
        raw=listing,
    )


# What a change to these means for RIFF; anything else in the listing (seller stats, URLs) is noise.
_FINGERPRINT_FIELDS = (
    "status", "price", "condition", "sleeve_condition", "comments", "allow_offers", "external_id",
    "location", "quantity", "weight", "format_quantity",
)  # fmt: skip
_FINGERPRINT_RELEASE_FIELDS = (
    "id",
    "artist",
    "title",
    "format",
    "catalog_number",
    "year",
    "thumbnail",
    "stats",
)


def fingerprint(listing: dict[str, Any]) -> str:
    """A digest of the listing fields RIFF stores, to tell an edited listing from an unchanged one."""
    release = listing.get("release") or {}
    subset = {
        **{k: listing.get(k) for k in _FINGERPRINT_FIELDS},
        "release": {k: release.get(k) for k in _FINGERPRINT_RELEASE_FIELDS},
    }
    canonical = json.dumps(subset, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def sku_for(listing: dict[str, Any]) -> str:
    """The product SKU for a listing found on Discogs: the seller's external id, else DISCOGS-<listing id>."""
    external = str(listing.get("external_id") or "").strip()
    return external[:64] if external else f"DISCOGS-{listing['id']}"


# --- orders -------------------------------------------------------------------------------------------------


def _address(text: Any) -> Address | None:
    """``shipping_address`` is free text: name, street line(s), city line, country; then a blank line and
    contact lines ("Phone: ..."). Kept as lines; Discogs gives no structured address."""
    if not isinstance(text, str) or not text.strip():
        return None
    postal, _, contact = text.partition("\n\n")
    lines = [line.strip() for line in postal.splitlines() if line.strip()]
    phone = next(
        (line.split(":", 1)[1].strip() for line in contact.splitlines() if line.lower().startswith("phone:")),
        None,
    )
    # name / street ... / city line / country
    streets = lines[1:-2] if len(lines) >= 4 else lines[1:2]
    return Address(
        name=lines[0],
        line1=streets[0] if streets else None,
        line2=", ".join(streets[1:]) or None,
        city=lines[-2] if len(lines) >= 4 else None,
        phone=phone,
    )


def order_status(status: str) -> OrderStatus:
    return OrderStatus(consts.ORDER_STATUSES.get(status, "unknown"))


def remote_order(order: dict[str, Any]) -> RemoteOrder:
    status = str(order.get("status") or "")
    total = order.get("total") or {}
    currency = total.get("currency") if isinstance(total, dict) else None
    lines: list[OrderLine] = []
    subtotal = Decimal(0)
    for item in order.get("items") or []:
        if not isinstance(item, dict):
            continue
        price = item.get("price") or {}
        amount = money(price.get("value") if isinstance(price, dict) else price)
        subtotal += amount or 0
        lines.append(
            OrderLine(
                remote_listing_id=str(item["id"]) if item.get("id") is not None else None,
                title=(item.get("release") or {}).get("description"),
                quantity=1,
                price=amount,
                currency=price.get("currency") if isinstance(price, dict) else currency,
            )
        )
    shipping = order.get("shipping") or {}
    buyer = order.get("buyer") or {}
    return RemoteOrder(
        remote_id=str(order["id"]),
        status=order_status(status),
        remote_status=status or None,
        buyer_name=buyer.get("username"),
        shipping_address=_address(order.get("shipping_address")),
        lines=lines,
        currency=currency,
        subtotal=subtotal if lines else None,
        shipping=money(shipping.get("value")) if isinstance(shipping, dict) else None,
        total=money(total.get("value")) if isinstance(total, dict) else None,
        created_at=parse_datetime(order.get("created")),
        updated_at=parse_datetime(order.get("last_activity")),
        paid_at=None,
        raw=order,
    )


def order_dedupe_key(order: RemoteOrder) -> str:
    """One inbox row per order *state*: the same state polled twice is recorded once."""
    last_activity = order.raw.get("last_activity") if order.raw else None
    return f"order:{order.remote_id}:{order.remote_status}:{last_activity}"


def shipped_message(carrier: str, tracking: str) -> dict[str, Any]:
    """Discogs has no tracking field: status Shipped plus a message to the buyer, in one call."""
    if not tracking.strip():
        raise Rejected("a tracking number is required", channel=consts.SLUG, field="tracking")
    text = f"Your order is on its way with {carrier.strip() or 'the carrier'}, tracking number {tracking.strip()}."
    return {"message": text, "status": consts.SHIPPED}


def end_is_sale(reason: EndReason) -> bool:
    return reason == EndReason.SOLD_HERE
