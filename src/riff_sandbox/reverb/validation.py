"""Parsing and validation of listing payloads (POST /api/listings, PUT /api/listings/{id}).

Returns normalised changes for the stored record; problems are collected Rails-style
(``{"price": ["must be greater than 0"]}``) and raised as one 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from riff_sandbox.reverb import tables
from riff_sandbox.reverb.consts import CURRENCY_SYMBOLS
from riff_sandbox.reverb.errors import ValidationErrors
from riff_sandbox.reverb.render import amount_to_cents

BLANK = "can't be blank"
INVALID = "is invalid"

STRING_FIELDS = (
    "make",
    "model",
    "finish",
    "title",
    "description",
    "sku",
    "upc",
    "exclusive_channel",
    "storage_location",
    "origin_country_code",
    "seller_cost",
)
BOOLEAN_FIELDS = ("has_inventory", "offers_enabled", "handmade", "upc_does_not_apply", "publish")


def parse_bool(value: Any) -> bool | None:
    """JSON booleans, and the strings "true"/"false" (the docs' own example sends upc_does_not_apply as a string)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def parse_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def parse_money(
    value: Any, field: str, errors: ValidationErrors, default_currency: str, *, positive: bool
) -> tuple[int, str] | None:
    if not isinstance(value, Mapping):
        errors.add(field, INVALID)
        return None
    amount = parse_amount(value.get("amount"))
    currency = value.get("currency") or default_currency
    if amount is None:
        errors.add(field, "amount is invalid" if "amount" in value else "amount can't be blank")
        return None
    if positive and amount <= 0:
        errors.add(field, "must be greater than 0")
        return None
    if amount < 0:
        errors.add(field, "must be greater than or equal to 0")
        return None
    if not isinstance(currency, str) or currency.upper() not in CURRENCY_SYMBOLS:
        errors.add(field, "currency is not supported")
        return None
    return amount_to_cents(amount), currency.upper()


def parse_listing_fields(
    payload: Mapping[str, Any], errors: ValidationErrors, *, default_currency: str
) -> dict[str, Any]:
    """Normalised changes for the fields present in ``payload``. Unknown fields and ``state`` are ignored
    (Reverb ignores a ``state`` sent to the update endpoint; ending has its own endpoint)."""
    changes: dict[str, Any] = {}
    for field in STRING_FIELDS:
        if field in payload:
            value = payload[field]
            if value is None or isinstance(value, str):
                changes[field] = value.strip() if isinstance(value, str) else None
            elif isinstance(value, int | float) and not isinstance(value, bool):
                changes[field] = str(value)
            else:
                errors.add(field, INVALID)
    if "year" in payload:
        year = payload["year"]
        if year is None or (isinstance(year, str | int) and not isinstance(year, bool)):
            changes["year"] = None if year is None else str(year).strip()
        else:
            errors.add("year", INVALID)
    for field in BOOLEAN_FIELDS:
        if field in payload:
            parsed = parse_bool(payload[field])
            if parsed is None:
                errors.add(field, INVALID)
            else:
                changes[field] = parsed
    if "inventory" in payload:
        inventory = payload["inventory"]
        if isinstance(inventory, str) and inventory.strip().isdigit():
            inventory = int(inventory)
        if not isinstance(inventory, int) or isinstance(inventory, bool) or inventory < 0:
            errors.add("inventory", "must be greater than or equal to 0")
        else:
            changes["inventory"] = inventory
    if "condition" in payload:
        condition = payload["condition"]
        uuid = condition.get("uuid") if isinstance(condition, Mapping) else None
        if not isinstance(uuid, str) or tables.condition_by_uuid(uuid) is None:
            errors.add("condition", INVALID)
        else:
            changes["condition_uuid"] = uuid
    if "categories" in payload:
        categories = payload["categories"]
        if not isinstance(categories, list):
            errors.add("categories", INVALID)
        else:
            uuids = []
            for entry in categories:
                uuid = entry.get("uuid") if isinstance(entry, Mapping) else None
                if not isinstance(uuid, str) or tables.category_by_uuid(uuid) is None:
                    errors.add("categories", f"{uuid!r} is not a valid category")
                else:
                    uuids.append(uuid)
            changes["category_uuids"] = uuids
    if "price" in payload:
        parsed_price = parse_money(payload["price"], "price", errors, default_currency, positive=True)
        if parsed_price:
            changes["price_cents"], changes["currency"] = parsed_price
    if "photos" in payload:
        photos = payload["photos"]
        if not isinstance(photos, list) or not all(
            isinstance(url, str) and url.startswith(("http://", "https://")) for url in photos
        ):
            errors.add("photos", "must be a list of public http(s) image URLs")
        else:
            changes["photo_urls"] = list(photos)
    if "videos" in payload:
        videos = payload["videos"]
        if not isinstance(videos, list) or not all(isinstance(v, Mapping) for v in videos):
            errors.add("videos", INVALID)
        else:
            changes["videos"] = [{"link": str(v.get("link") or "")} for v in videos if v.get("link")]
    if "shipping_profile_id" in payload:
        profile_id = payload["shipping_profile_id"]
        if profile_id is None:
            changes["shipping_profile_id"] = None
        elif not isinstance(profile_id, str | int) or tables.shipping_profile(str(profile_id)) is None:
            errors.add("shipping_profile_id", INVALID)
        else:
            changes["shipping_profile_id"] = str(profile_id)
    if "shipping" in payload:
        shipping = _parse_shipping(payload["shipping"], errors, default_currency)
        if shipping is not None:
            changes["shipping"] = shipping
    return changes


def _parse_shipping(value: Any, errors: ValidationErrors, default_currency: str) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        errors.add("shipping", INVALID)
        return None
    local = parse_bool(value.get("local", False))
    if local is None:
        errors.add("shipping", "local is invalid")
        return None
    rates_in = value.get("rates") or []  # rates: null clears them
    if not isinstance(rates_in, list):
        errors.add("shipping", "rates is invalid")
        return None
    rates = []
    for entry in rates_in:
        region = entry.get("region_code") if isinstance(entry, Mapping) else None
        if not isinstance(region, str) or not region:
            errors.add("shipping", "region_code can't be blank")
            continue
        parsed = parse_money(entry.get("rate"), "shipping", errors, default_currency, positive=False)
        if parsed:
            rates.append({"region_code": region, "amount_cents": parsed[0], "currency": parsed[1]})
    return {"local": local, "rates": rates}
