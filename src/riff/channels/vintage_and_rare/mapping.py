"""Pure functions: RIFF's normalized types <-> the V&R add/edit form and export. No I/O here.

Every value that needs a table (category) or a rule (currency, price, image count) is checked before a
form is built, so an unmapped value is a ``Rejected`` before any request is sent.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from riff.channels.contract import ProductSnapshot
from riff.channels.errors import Rejected
from riff.channels.mapping import load_table, require
from riff.channels.vintage_and_rare import consts

DATA_PACKAGE = "riff.channels.vintage_and_rare"
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

# RIFF field names an update can carry, and what each touches on the edit form. Fields V&R has no
# place for (title: V&R builds it from brand/model/year; condition) are accepted and change nothing.
UPDATABLE_FIELDS = frozenset(
    {"price", "brand", "model", "year", "decade", "finish", "description", "category", "images", "sku",
     "title", "condition", "quantity", "is_stocked_item", "attributes"}
)  # fmt: skip


class VintageAndRareConfig(BaseModel):
    """Per-account settings (``channel_accounts.config``)."""

    model_config = ConfigDict(coerce_numbers_to_str=False)

    currency: str = Field("GBP", title="Listing currency", description="The dealer account's currency")
    create_method: Literal["http", "browser"] = Field(
        "http",
        title="Create listings by",
        description="http: post the add form (fast); browser: drive the real form in Chromium (robust)",
    )
    browser_fallback: bool = Field(
        True, title="Fall back to the browser", description="When the HTTP form fails before submitting"
    )
    http_backend: Literal["auto", "curl_cffi", "httpx"] = Field(
        "auto", title="HTTP library", description="auto: curl_cffi (Chrome TLS) with httpx as the fallback"
    )
    default_brand: str = Field(
        consts.DEFAULT_BRAND,
        title="Fallback brand",
        description="Listed under this brand when V&R refuses ours",
    )
    use_fallback_brand: bool = Field(
        True,
        title="Use the fallback brand",
        description="False: an unaccepted brand fails the publish instead",
    )
    processing_days: int = Field(consts.DEFAULT_PROCESSING_DAYS, ge=0, le=60, title="Processing time (days)")
    shipping_fees: dict[str, Decimal] = Field(
        default_factory=lambda: {k: Decimal(v) for k, v in consts.DEFAULT_SHIPPING_FEES.items()},
        title="Shipping fee per region",
        description="UK, Europe, USA, REST OF WORLD; a region left out is not offered",
    )
    show_vat: bool = True
    available_for_shipment: bool = True
    local_pickup: bool = False
    in_collective: bool = False
    in_inventory: bool = True
    in_reseller: bool = False
    buy_now: bool = False
    maintenance_window: str | None = Field(
        "03:00-05:00", title="Nightly maintenance (UTC)", description="HH:MM-HH:MM; jobs wait it out"
    )
    model_match_threshold: float = Field(
        consts.MODEL_MATCH_THRESHOLD, ge=50, le=100, title="ID resolution: model match threshold (0-100)"
    )
    last_export_max_id: int = Field(
        0, ge=0, title="Highest V&R id in the last export", description="Kept up to date by RIFF; do not edit"
    )

    @field_validator("shipping_fees")
    @classmethod
    def _known_regions(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = set(value) - set(consts.SHIPPING_REGIONS)
        if unknown:
            raise ValueError(
                f"unknown shipping regions {sorted(unknown)} (known: {list(consts.SHIPPING_REGIONS)})"
            )
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _window(cls, value: str | None) -> str | None:
        if value is not None and parse_window(value) is None:
            raise ValueError("expected HH:MM-HH:MM (UTC)")
        return value


class VintageAndRareSecrets(BaseModel):
    """Write-only credentials; ``VINTAGE_AND_RARE_USERNAME``/``_PASSWORD`` override them."""

    username: SecretStr | None = Field(
        None, title="Username", description="The dealer login on vintageandrare.com"
    )
    password: SecretStr | None = Field(None, title="Password")


# --- maintenance -----------------------------------------------------------------------------------------


def parse_window(text: str | None) -> tuple[dt.time, dt.time] | None:
    if not text:
        return None
    match = _WINDOW.match(text)
    if not match:
        return None
    hours = (int(match.group(1)), int(match.group(3)))
    if any(h > 23 for h in hours):
        return None
    return dt.time(hours[0], int(match.group(2))), dt.time(hours[1], int(match.group(4)))


def seconds_until_window_end(window: tuple[dt.time, dt.time] | None, now: dt.datetime) -> float | None:
    """Seconds until the maintenance window ends, or None when ``now`` is outside it."""
    if window is None:
        return None
    start, end = window
    now = now.astimezone(dt.UTC)
    current = now.time().replace(tzinfo=None)
    inside = start <= current < end if start <= end else (current >= start or current < end)
    if not inside:
        return None
    end_at = dt.datetime.combine(now.date(), end, tzinfo=dt.UTC)
    if end_at <= now:
        end_at += dt.timedelta(days=1)
    return (end_at - now).total_seconds()


# --- categories ------------------------------------------------------------------------------------------


def category_tree() -> list[dict[str, Any]]:
    return list(load_table(DATA_PACKAGE, "categories")["categories"])


@functools.cache
def _category_names() -> dict[tuple[str, ...], str]:
    names: dict[tuple[str, ...], str] = {}

    def walk(nodes: list[dict[str, Any]], prefix: tuple[str, ...]) -> None:
        for node in nodes:
            path = (*prefix, str(node["id"]))
            names[path] = str(node["name"])
            walk(node.get("children") or [], path)

    walk(category_tree(), ())
    return names


def category_path_name(path: Sequence[str]) -> str | None:
    """``["51", "83"]`` -> ``"Guitars>Electric solid body"`` (the export's category name), None if unknown."""
    names = []
    for depth in range(1, len(path) + 1):
        name = _category_names().get(tuple(path[:depth]))
        if name is None:
            return None
        names.append(name)
    return ">".join(names)


def category_levels(product: ProductSnapshot) -> list[str]:
    """Mapping row (already on the snapshot) > data/category_defaults.json by slug > default."""
    if product.category_remote_ids:
        levels = [str(v).strip() for v in product.category_remote_ids if str(v).strip()]
    else:
        table = load_table(DATA_PACKAGE, "category_defaults")
        if product.category_slug is None:
            levels = [str(v) for v in table["default"]]
        else:
            levels = [
                str(v)
                for v in require(
                    table["by_slug"],
                    product.category_slug,
                    channel=consts.SLUG,
                    what="category",
                    field="category",
                )
            ]
    if not 1 <= len(levels) <= 4 or category_path_name(levels) is None:
        raise Rejected(
            f"V&R category path {'/'.join(levels) or '(empty)'} is not in the V&R category tree "
            "(data/categories.json); fix the channel_category_mappings row",
            channel=consts.SLUG,
            field="category",
        )
    return levels


# --- snapshot -> add form ---------------------------------------------------------------------------------


def model_name(product: ProductSnapshot) -> str:
    if product.model:
        return product.model.strip()
    title = product.title
    if product.brand and title.lower().startswith(product.brand.lower()):
        title = title[len(product.brand) :]
    return re.sub(r"\s+", " ", title).strip(" -")


def decade(product: ProductSnapshot) -> str:
    if product.decade:
        text = product.decade.strip()
        return text if text.endswith("s") else f"{text}s"
    return f"{product.year // 10 * 10}s" if product.year else ""


def money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def check_listable(product: ProductSnapshot, config: VintageAndRareConfig) -> None:
    """What V&R cannot take, refused before any request."""
    if product.currency.upper() != config.currency.upper():
        raise Rejected(
            f"product is priced in {product.currency} but the V&R account lists in {config.currency}",
            channel=consts.SLUG,
            field="currency",
        )
    if product.price <= 0:
        raise Rejected("V&R needs a price above zero", channel=consts.SLUG, field="price")
    if not (product.brand or "").strip():
        raise Rejected("V&R needs a brand", channel=consts.SLUG, field="brand")
    if not model_name(product):
        raise Rejected("V&R needs a model name", channel=consts.SLUG, field="model")
    category_levels(product)


def form_values(product: ProductSnapshot, brand: str, config: VintageAndRareConfig) -> dict[str, str]:
    """Text and select fields of the add form (hidden fields come from the page itself)."""
    attributes = product.attributes or {}
    levels = category_levels(product)
    values = {
        "recipient_name": brand,
        "model_name": model_name(product),
        "year": str(product.year) if product.year else "",
        "decade": decade(product),
        "finish_color": product.finish or "",
        "price": money(product.price),
        "external_id": product.sku,
        "processing_time": str(config.processing_days),
        "hours_days_sel": "Days",
        "youtube_upload": str(attributes.get("video_url") or ""),
        "external_url": str(attributes.get("external_link") or ""),
    }
    for level in range(4):
        values[f"categ_level_{level}"] = levels[level] if level < len(levels) else ""
    return values


def form_checkboxes(config: VintageAndRareConfig) -> dict[str, bool]:
    return {
        "show_vat": config.show_vat,
        "available_for_shipment": config.available_for_shipment,
        "local_pickup": config.local_pickup,
        "in_collective": config.in_collective,
        "in_inventory": config.in_inventory,
        "in_reseller": config.in_reseller,
        "buy_now": config.buy_now,
    }


def shipping_fees(config: VintageAndRareConfig) -> dict[str, str]:
    return {region: money(fee) for region, fee in config.shipping_fees.items()}


def edit_changes(product: ProductSnapshot, changed_fields: set[str]) -> dict[str, str]:
    """Edit-form fields to overwrite for ``changed_fields`` (images, description, brand handled apart)."""
    unknown = changed_fields - UPDATABLE_FIELDS
    if unknown:
        raise Rejected(
            f"V&R cannot update {', '.join(sorted(unknown))} (known: {', '.join(sorted(UPDATABLE_FIELDS))})",
            channel=consts.SLUG,
            field=sorted(unknown)[0],
        )
    changes: dict[str, str] = {}
    if "price" in changed_fields:
        if product.price <= 0:
            raise Rejected("V&R needs a price above zero", channel=consts.SLUG, field="price")
        changes["price"] = money(product.price)
    if "model" in changed_fields:
        changes["model_name"] = model_name(product)
    if "year" in changed_fields or "decade" in changed_fields:
        changes["year"] = str(product.year) if product.year else ""
        changes["decade"] = decade(product)
    if "finish" in changed_fields:
        changes["finish_color"] = product.finish or ""
    if "sku" in changed_fields:
        changes["external_id"] = product.sku
    if "category" in changed_fields:
        levels = category_levels(product)
        for level in range(4):
            changes[f"categ_level_{level}"] = levels[level] if level < len(levels) else ""
    return changes


# --- matching text --------------------------------------------------------------------------------------


def normalize_brand(name: str | None) -> str:
    return re.sub(r"\s+", " ", (name or "").strip().lower())


def item_id_from_url(url: str | None) -> str | None:
    """``/instruments/add_edit_item/123456?created=1`` -> ``"123456"``."""
    if not url:
        return None
    match = re.search(r"/add_edit_item/(\d+)", url)
    return match.group(1) if match else None


def listing_url(base_url: str, remote_id: str) -> str:
    return base_url.rstrip("/") + consts.PRODUCT_PATH.format(id=remote_id)


def resolved_secrets(secrets: Mapping[str, Any] | VintageAndRareSecrets, env_username: str | None,
                     env_password: str | None) -> tuple[str | None, str | None]:  # fmt: skip
    """The environment overrides the account's secrets."""
    model = (
        secrets
        if isinstance(secrets, VintageAndRareSecrets)
        else VintageAndRareSecrets.model_validate(dict(secrets))
    )
    username = env_username or (model.username.get_secret_value() if model.username else None)
    password = env_password or (model.password.get_secret_value() if model.password else None)
    return username, password
