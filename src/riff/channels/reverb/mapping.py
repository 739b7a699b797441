"""Pure functions: RIFF's normalized types <-> Reverb's payloads. No I/O here.

Every value that needs a table (condition, category, carrier, currency) is checked before a payload is
built, so an unmapped value is a ``Rejected`` before any request is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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
from riff.channels.errors import Rejected
from riff.channels.mapping import load_table, money, parse_datetime, require
from riff.channels.reverb import consts

DATA_PACKAGE = "riff.channels.reverb"


class ReverbConfig(BaseModel):
    """Per-account settings (stored in ``channel_accounts.config``)."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    currency: str = Field(
        "GBP", title="Listing currency", description="The shop's listing currency (ISO 4217)"
    )
    shipping_profile_id: str | None = Field(
        None, title="Shipping profile id", description="Reverb shipping profile applied to new listings"
    )
    publish: bool = Field(True, title="Publish on create", description="False leaves new listings as drafts")
    offers_enabled: bool | None = Field(None, title="Accept offers")
    publish_poll_attempts: int = Field(consts.PUBLISH_POLL_ATTEMPTS, ge=0, le=20)
    publish_poll_interval_seconds: float = Field(consts.PUBLISH_POLL_INTERVAL_SECONDS, ge=0, le=30)


class ReverbSecrets(BaseModel):
    """Write-only credentials (encrypted in ``channel_accounts.secrets_encrypted``)."""

    token: SecretStr = Field(
        ..., title="Personal access token", description="My Profile -> API & Integrations"
    )
    webhook_token: SecretStr | None = Field(
        None, title="Webhook path token", description="Secret part of /webhooks/reverb/{token}"
    )


def _conditions() -> dict[str, Any]:
    return load_table(DATA_PACKAGE, "conditions")["riff_to_reverb"]  # type: ignore[no-any-return]


def _categories() -> dict[str, Any]:
    return load_table(DATA_PACKAGE, "categories")


def _carriers() -> dict[str, str]:
    return load_table(DATA_PACKAGE, "carriers")["riff_to_reverb"]  # type: ignore[no-any-return]


def condition_uuid(condition: str) -> str:
    entry = require(_conditions(), condition, channel=consts.SLUG, what="condition", field="condition")
    return str(entry["uuid"])


def category_uuids(product: ProductSnapshot) -> list[str]:
    """Mapping row (already on the snapshot) > data/categories.json by slug > default for no category."""
    if product.category_remote_ids:
        return list(product.category_remote_ids)
    table = _categories()
    if product.category_slug is None:
        return [str(table["default"])]
    return [
        str(
            require(
                table["by_slug"],
                product.category_slug,
                channel=consts.SLUG,
                what="category",
                field="category",
            )
        )
    ]


def carrier_name(carrier: str) -> str:
    return str(
        require(_carriers(), carrier.strip().lower(), channel=consts.SLUG, what="carrier", field="carrier")
    )


def end_reason(reason: EndReason) -> str:
    return consts.END_REASON_REVERB_SALE if reason == EndReason.SOLD_HERE else consts.END_REASON_NOT_SOLD


def _price(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": f"{amount.quantize(Decimal('0.01'))}", "currency": currency}


def _check_currency(product: ProductSnapshot, config: ReverbConfig) -> None:
    if product.currency.upper() != config.currency.upper():
        raise Rejected(
            f"product is priced in {product.currency} but the Reverb account lists in {config.currency}",
            channel=consts.SLUG,
            field="currency",
        )


def _photos(product: ProductSnapshot) -> list[str]:
    urls = [
        image.url
        for image in sorted(product.images, key=lambda i: i.position)
        if image.url.startswith("http")
    ]
    return urls[: consts.MAX_PHOTOS]


def _inventory_fields(product: ProductSnapshot) -> dict[str, Any]:
    # has_inventory=false is a one-off item (the usual case here); true tracks a stock count.
    return {
        "has_inventory": product.is_stocked_item,
        "inventory": max(product.quantity, 0) if product.is_stocked_item else 1,
    }


def _year(product: ProductSnapshot) -> str | None:
    if product.year is not None:
        return str(product.year)
    return product.decade


def create_payload(product: ProductSnapshot, config: ReverbConfig) -> dict[str, Any]:
    """Body for ``POST /listings`` (reverb-api.com/docs/create-listings)."""
    _check_currency(product, config)
    if not product.brand or not product.model:
        raise Rejected(
            "Reverb needs a brand (make) and a model to create a listing", channel=consts.SLUG, field="brand"
        )
    if product.price <= 0:
        raise Rejected("price must be greater than 0", channel=consts.SLUG, field="price")
    photos = _photos(product)
    if not photos:
        raise Rejected(
            "Reverb needs at least one photo with a public http(s) URL", channel=consts.SLUG, field="images"
        )
    if config.publish and not config.shipping_profile_id:
        raise Rejected(
            "set shipping_profile_id in the Reverb account config before publishing",
            channel=consts.SLUG,
            field="shipping_profile_id",
        )
    payload: dict[str, Any] = {
        "make": product.brand,
        "model": product.model,
        "title": product.title,
        "description": product.description,
        "condition": {"uuid": condition_uuid(product.condition)},
        "categories": [{"uuid": uuid} for uuid in category_uuids(product)],
        "price": _price(product.price, config.currency),
        "sku": product.sku,
        "photos": photos,
        "publish": config.publish,
        **_inventory_fields(product),
    }
    if product.finish:
        payload["finish"] = product.finish
    if (year := _year(product)) is not None:
        payload["year"] = year
    if config.shipping_profile_id:
        payload["shipping_profile_id"] = config.shipping_profile_id
    if config.offers_enabled is not None:
        payload["offers_enabled"] = config.offers_enabled
    return payload


# RIFF field name -> builder of the Reverb fields it changes.
_UPDATE_FIELDS: dict[str, Any] = {
    "title": lambda p, c: {"title": p.title},
    "description": lambda p, c: {"description": p.description},
    "brand": lambda p, c: {"make": p.brand},
    "model": lambda p, c: {"model": p.model},
    "finish": lambda p, c: {"finish": p.finish},
    "year": lambda p, c: {"year": _year(p)},
    "decade": lambda p, c: {"year": _year(p)},
    "condition": lambda p, c: {"condition": {"uuid": condition_uuid(p.condition)}},
    "category": lambda p, c: {"categories": [{"uuid": u} for u in category_uuids(p)]},
    "price": lambda p, c: {"price": _price(p.price, c.currency)},
    "quantity": lambda p, c: _inventory_fields(p),
    "is_stocked_item": lambda p, c: _inventory_fields(p),
    "images": lambda p, c: {"photos": _photos(p)},
}
UPDATABLE_FIELDS = frozenset(_UPDATE_FIELDS)


def update_payload(
    product: ProductSnapshot, changed_fields: Iterable[str], config: ReverbConfig
) -> dict[str, Any]:
    """Body for ``PUT /listings/{id}`` with only the changed fields. Unknown field names are refused."""
    unknown = sorted(set(changed_fields) - UPDATABLE_FIELDS)
    if unknown:
        raise Rejected(
            f"Reverb cannot update field(s): {', '.join(unknown)}", channel=consts.SLUG, field=unknown[0]
        )
    if "price" in changed_fields:
        _check_currency(product, config)
    payload: dict[str, Any] = {}
    for field in sorted(set(changed_fields)):
        payload.update(_UPDATE_FIELDS[field](product, config))
    return payload


def listing_state(listing: dict[str, Any]) -> RemoteState:
    state = listing.get("state")
    # Reverb returns state as an object {slug, description}; be lenient with a bare string.
    slug = state.get("slug") if isinstance(state, dict) else state
    if not isinstance(slug, str):
        if listing.get("draft"):
            return RemoteState.DRAFT
        return RemoteState.LIVE if listing.get("live") else RemoteState.UNKNOWN
    return RemoteState(consts.LISTING_STATES.get(slug, "unknown"))


def _link(obj: dict[str, Any], name: str) -> str | None:
    link = (obj.get("_links") or {}).get(name)
    href = link.get("href") if isinstance(link, dict) else None
    return href if isinstance(href, str) else None


def listing_ref(listing: dict[str, Any]) -> RemoteListingRef:
    return RemoteListingRef(id=str(listing["id"]), url=_link(listing, "web"), state=listing_state(listing))


def remote_listing(listing: dict[str, Any]) -> RemoteListing:
    price = listing.get("price") or {}
    updated = listing.get("updated_at") or listing.get("published_at") or listing.get("created_at")
    return RemoteListing(
        remote_id=str(listing["id"]),
        sku=listing.get("sku") or None,
        title=str(listing.get("title") or ""),
        price=money(price),
        currency=(price.get("currency") if isinstance(price, dict) else None)
        or listing.get("listing_currency"),
        quantity=listing.get("inventory") if isinstance(listing.get("inventory"), int) else None,
        state=listing_state(listing),
        url=_link(listing, "web"),
        updated_at=parse_datetime(updated),
        raw=listing,
    )


def unwrap_listing(body: dict[str, Any]) -> dict[str, Any]:
    """Create/update answer ``{"listing": {...}, "message", "errors", "warnings"}``; GET answers the listing."""
    inner = body.get("listing")
    return inner if isinstance(inner, dict) else body


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    return Address(
        name=raw.get("name"),
        line1=raw.get("street_address"),
        line2=raw.get("extended_address"),
        city=raw.get("locality"),
        region=raw.get("region"),
        postal_code=raw.get("postal_code"),
        country_code=raw.get("country_code"),
        phone=raw.get("phone"),
    )


def remote_order(order: dict[str, Any]) -> RemoteOrder:
    """One Reverb order is one listing (multi-item checkouts share ``order_bundle_id``)."""
    status = str(order.get("status") or "")
    total = order.get("total") or {}
    amount_product = order.get("amount_product") or order.get("amount_product_subtotal")
    currency = total.get("currency") if isinstance(total, dict) else None
    quantity = order.get("quantity")
    return RemoteOrder(
        remote_id=str(order["order_number"]),
        status=OrderStatus(consts.ORDER_STATUSES.get(status, "unknown")),
        remote_status=status or None,
        buyer_name=order.get("buyer_name"),
        buyer_email=order.get("buyer_email"),
        shipping_address=_address(order.get("shipping_address")),
        lines=[
            OrderLine(
                sku=order.get("sku"),
                remote_listing_id=str(order["product_id"]) if order.get("product_id") is not None else None,
                title=order.get("title"),
                quantity=quantity if isinstance(quantity, int) and quantity > 0 else 1,
                price=money(amount_product),
                currency=amount_product.get("currency") if isinstance(amount_product, dict) else currency,
            )
        ],
        currency=currency,
        subtotal=money(amount_product),
        shipping=money(order.get("shipping")),
        tax=money(order.get("amount_tax")),
        total=money(total),
        created_at=parse_datetime(order.get("created_at")),
        updated_at=parse_datetime(order.get("updated_at")),
        paid_at=parse_datetime(order.get("paid_at")),
        raw=order,
    )


def ship_payload(carrier: str, tracking: str) -> dict[str, Any]:
    if not tracking.strip():
        raise Rejected("a tracking number is required", channel=consts.SLUG, field="tracking")
    return {"provider": carrier_name(carrier), "tracking_number": tracking.strip(), "send_notification": True}
