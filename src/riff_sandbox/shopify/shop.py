"""The Shopify shop's state and what the Admin API (and the simulated buyer and seller) can do to it.

Records are stored as JSON documents (snake_case keys, numeric ids, ISO timestamps); ``schema.py`` renders them
with Shopify's field names and ``gid://`` ids. Every method runs inside one store transaction and collects
the webhook events (REST-format payloads, as Shopify sends them) to fire after the transaction commits.
Mutations never raise for bad input: they return Shopify's ``userErrors`` (field path, message, code).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.shopify.consts import (
    ADJUST_QUANTITY_NAMES,
    CONCURRENCY_PROTECTION_VERSION,
    DEFAULT_BUCKET_SIZE,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_RESTORE_RATE,
    DEFAULT_SHOP_DOMAIN,
    FIRST_IDS,
    FIRST_ORDER_NUMBER,
    GID_PREFIX,
    INVENTORY_REASONS,
    LATEST_VERSION,
    LOCATIONS,
    PRIMARY_LOCATION_ID,
    SET_QUANTITY_NAMES,
    SHOP_CURRENCY,
    TITLE_MAX_LENGTH,
)
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.platform import ControlError
from riff_sandbox.toolkit.store import Transaction

Record = dict[str, Any]
UserError = dict[str, Any]

PRODUCTS = "products"
VARIANTS = "variants"
INVENTORY_ITEMS = "inventory_items"
ORDERS = "orders"
FULFILLMENT_ORDERS = "fulfillment_orders"
FULFILLMENTS = "fulfillments"
IDEMPOTENCY = "idempotency"

UNSET: Any = object()  # an input field that was not sent at all (as opposed to null)

# Tracking URLs Shopify builds for known carriers when none is given (a few, for the demo).
TRACKING_URLS = {
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={number}",
    "UPS": "https://www.ups.com/WebTracking?loc=en_US&requester=ST&trackNums={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
}


class ShopifyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tokens: list[str] = Field(default_factory=list, description="Extra Admin API access tokens to accept")
    client_secret: str = Field(DEFAULT_CLIENT_SECRET, description="The app's client secret: signs webhooks")
    shop_domain: str = Field(DEFAULT_SHOP_DOMAIN, description="Sent as X-Shopify-Shop-Domain")
    bucket_size: float = Field(DEFAULT_BUCKET_SIZE, gt=0, description="Cost points in the leaky bucket")
    restore_rate: float = Field(DEFAULT_RESTORE_RATE, gt=0, description="Cost points restored per second")
    webhook_api_version: str = Field(LATEST_VERSION, description="Sent as X-Shopify-API-Version")


@dataclass(frozen=True)
class Event:
    topic: str
    payload: Record


def gid(kind: str, number: int | str) -> str:
    return f"{GID_PREFIX}{kind}/{number}"


def parse_gid(value: Any, kind: str) -> int | None:
    """``gid://shopify/Product/123`` (or ``123``) -> 123; None for another kind or garbage."""
    text = str(value or "")
    match = re.fullmatch(rf"(?:{re.escape(GID_PREFIX)}{kind}/)?(\d+)(?:\?.*)?", text)
    return int(match.group(1)) if match else None


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def money(value: Decimal | str | int) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01'))}"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def version_at_least(version: str, wanted: str) -> bool:
    return version == "unstable" or version >= wanted


def user_error(field: Sequence[str | int] | None, message: str, code: str | None = None) -> UserError:
    return {
        "field": [str(part) for part in field] if field is not None else None,
        "message": message,
        "code": code,
    }


class ShopifyShop:
    def __init__(
        self, tx: Transaction, options: ShopifyOptions, now: datetime, version: str = LATEST_VERSION
    ) -> None:
        self.tx = tx
        self.options = options
        self.now = now.replace(microsecond=0)
        self.version = version  # the API version of the request: decides compare-and-set rules
        self.events: list[Event] = []

    @property
    def version_requires_idempotency(self) -> bool:
        return version_at_least(self.version, CONCURRENCY_PROTECTION_VERSION)

    # Ids and storage -----------------------------------------------------------------------------

    def new_id(self, kind: str) -> int:
        return self.tx.next_value(f"id:{kind}", FIRST_IDS[kind])

    @property
    def stamp(self) -> str:
        return iso(self.now)

    def product(self, product_id: int | None) -> Record | None:
        return self.tx.get(PRODUCTS, product_id) if product_id is not None else None

    def products(self) -> list[Record]:
        return self.tx.list(PRODUCTS)

    def variant(self, variant_id: int | None) -> Record | None:
        return self.tx.get(VARIANTS, variant_id) if variant_id is not None else None

    def variants_of(self, product: Record) -> list[Record]:
        return [v for v in (self.variant(i) for i in product["variant_ids"]) if v is not None]

    def inventory_item(self, item_id: int | None) -> Record | None:
        return self.tx.get(INVENTORY_ITEMS, item_id) if item_id is not None else None

    def order(self, order_id: int | None) -> Record | None:
        return self.tx.get(ORDERS, order_id) if order_id is not None else None

    def orders(self) -> list[Record]:
        return self.tx.list(ORDERS)

    def fulfillment_order(self, fo_id: int | None) -> Record | None:
        return self.tx.get(FULFILLMENT_ORDERS, fo_id) if fo_id is not None else None

    def fulfillment(self, fulfillment_id: int) -> Record | None:
        return self.tx.get(FULFILLMENTS, fulfillment_id)

    @staticmethod
    def location(location_id: int | None) -> Record | None:
        return next((dict(loc) for loc in LOCATIONS if loc["id"] == location_id), None)

    def save(self, collection: str, record: Record) -> None:
        self.tx.put(collection, record["id"], record)

    def _handle(self, title: str, product_id: int | None = None) -> str:
        base = slugify(title)
        taken = {p["handle"] for p in self.products() if p["id"] != product_id}
        handle, n = base, 1
        while handle in taken:
            handle, n = f"{base}-{n}", n + 1
        return handle

    def available(self, item: Record, location_id: int | None = None) -> int:
        levels = item["levels"]
        if location_id is not None:
            return int(levels.get(str(location_id), {}).get("available", 0))
        return sum(int(level.get("available", 0)) for level in levels.values())

    def total_inventory(self, product: Record) -> int:
        items = [self.inventory_item(v["inventory_item_id"]) for v in self.variants_of(product)]
        return sum(self.available(item) for item in items if item is not None and item["tracked"])

    # Products ------------------------------------------------------------------------------------

    def new_variant(self, product_id: int, position: int) -> tuple[Record, Record]:
        variant_id = self.new_id("ProductVariant")
        item_id = self.new_id("InventoryItem")
        variant = {
            "id": variant_id,
            "product_id": product_id,
            "title": "Default Title",
            "sku": "",
            "price": "0.00",
            "compare_at_price": None,
            "inventory_item_id": item_id,
            "position": position,
            "created_at": self.stamp,
            "updated_at": self.stamp,
        }
        item = {
            "id": item_id,
            "variant_id": variant_id,
            "tracked": False,
            "levels": {str(PRIMARY_LOCATION_ID): {"available": 0, "on_hand": 0, "committed": 0}},
            "created_at": self.stamp,
            "updated_at": self.stamp,
        }
        return variant, item

    def product_set(
        self, input_: Mapping[str, Any], identifier: Mapping[str, Any] | None
    ) -> tuple[Record | None, list[UserError]]:
        """``productSet``: create or update; list fields (variants, files, tags) are replaced as given."""
        errors: list[UserError] = []
        identifier = identifier or {}
        product: Record | None = None
        target_id = identifier.get("id") or input_.get("id")
        if target_id:
            product = self.product(parse_gid(target_id, "Product"))
            if product is None:
                field = ["identifier", "id"] if identifier.get("id") else ["input", "id"]
                return None, [user_error(field, "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]
        elif identifier.get("handle"):
            product = next((p for p in self.products() if p["handle"] == identifier["handle"]), None)
        creating = product is None
        title = input_.get("title", UNSET)
        if creating and (title is UNSET or not str(title or "").strip()):
            errors.append(user_error(["input", "title"], "Title can't be blank", "BLANK"))
        elif title is not UNSET and not str(title or "").strip():
            errors.append(user_error(["input", "title"], "Title can't be blank", "BLANK"))
        elif title is not UNSET and len(str(title)) > TITLE_MAX_LENGTH:
            errors.append(
                user_error(
                    ["input", "title"],
                    f"Title is too long (maximum is {TITLE_MAX_LENGTH} characters)",
                    "INVALID",
                )
            )
        category = input_.get("category", UNSET)
        if category not in (UNSET, None) and parse_gid(category, "TaxonomyCategory") is None:
            if not re.fullmatch(rf"{re.escape(GID_PREFIX)}TaxonomyCategory/[\w-]+", str(category)):
                errors.append(user_error(["input", "category"], "Category does not exist", "INVALID"))
        files = input_.get("files", UNSET)
        if files not in (UNSET, None):
            for index, file in enumerate(files):
                source = str(file.get("original_source") or "")
                if not source.startswith(("http://", "https://")):
                    errors.append(
                        user_error(
                            ["input", "files", index, "originalSource"], "Image URL is invalid", "INVALID"
                        )
                    )
        variants = input_.get("variants", UNSET)
        if variants not in (UNSET, None):
            errors.extend(self._check_variants(variants, product))
        if errors:
            return None, errors

        if product is None:
            product_id = self.new_id("Product")
            product = {
                "id": product_id,
                "title": "",
                "handle": "",
                "description_html": "",
                "vendor": "",
                "product_type": "",
                "tags": [],
                "status": "ACTIVE",
                "category": None,
                "created_at": self.stamp,
                "updated_at": self.stamp,
                "published_at": None,
                "variant_ids": [],
                "media": [],
            }
        for key in ("title", "description_html", "vendor", "product_type", "status", "category"):
            value = input_.get(key, UNSET)
            if value is not UNSET:
                product[key] = value if value is not None else ("" if key != "category" else None)
        if input_.get("tags", UNSET) not in (UNSET, None):
            product["tags"] = sorted({str(tag).strip() for tag in input_["tags"] if str(tag).strip()})
        handle = input_.get("handle", UNSET)
        if handle in (UNSET, None, ""):
            handle = identifier.get("handle")
        if handle:
            product["handle"] = self._handle(str(handle), product["id"])
        elif creating:
            product["handle"] = self._handle(product["title"], product["id"])
        if files not in (UNSET, None):
            product["media"] = self._replace_media(product["media"], files)
        if variants not in (UNSET, None):
            self._replace_variants(product, variants)
        elif creating:
            variant, item = self.new_variant(product["id"], 1)
            product["variant_ids"] = [variant["id"]]
            self.save(VARIANTS, variant)
            self.save(INVENTORY_ITEMS, item)
        if product["status"] == "ACTIVE" and not product.get("published_at"):
            product["published_at"] = self.stamp
        product["updated_at"] = self.stamp
        self.save(PRODUCTS, product)
        self.events.append(
            Event("products/create" if creating else "products/update", self.product_payload(product))
        )
        return product, []

    def _check_variants(
        self, variants: Sequence[Mapping[str, Any]], product: Record | None
    ) -> list[UserError]:
        errors: list[UserError] = []
        known = set(product["variant_ids"]) if product else set()
        for index, variant in enumerate(variants):
            path: list[str | int] = ["input", "variants", index]
            if variant.get("id") and parse_gid(variant["id"], "ProductVariant") not in known:
                errors.append(
                    user_error(
                        [*path, "id"], "Product variant does not exist", "PRODUCT_VARIANT_DOES_NOT_EXIST"
                    )
                )
            price = variant.get("price", UNSET)
            if price not in (UNSET, None):
                try:
                    if Decimal(str(price)) < 0:
                        raise InvalidOperation
                except InvalidOperation:
                    errors.append(
                        user_error(
                            [*path, "price"],
                            "Price must be greater than or equal to 0",
                            "GREATER_THAN_OR_EQUAL_TO",
                        )
                    )
            for qindex, quantity in enumerate(variant.get("inventory_quantities") or []):
                qpath = [*path, "inventoryQuantities", qindex]
                if self.location(parse_gid(quantity.get("location_id"), "Location")) is None:
                    errors.append(
                        user_error([*qpath, "locationId"], "Location does not exist", "INVALID_LOCATION")
                    )
                if quantity.get("name") not in SET_QUANTITY_NAMES:
                    errors.append(
                        user_error(
                            [*qpath, "name"],
                            "Inventory quantity name must be available or on_hand",
                            "INVALID_NAME",
                        )
                    )
        return errors

    def _replace_media(self, current: list[Record], files: Sequence[Mapping[str, Any]]) -> list[Record]:
        by_source = {m["url"]: m for m in current}
        media = []
        for file in files:
            source = str(file["original_source"])
            existing = by_source.get(source)
            media.append(
                existing
                or {
                    "id": self.new_id("MediaImage"),
                    "url": source,
                    "alt": file.get("alt") or "",
                    "status": "READY",
                }
            )
        return media

    def _replace_variants(self, product: Record, variants: Sequence[Mapping[str, Any]]) -> None:
        kept: list[int] = []
        for position, data in enumerate(variants, start=1):
            variant_id = parse_gid(data.get("id"), "ProductVariant") if data.get("id") else None
            if variant_id is not None:
                variant = self.variant(variant_id)
                assert variant is not None
                item = self.inventory_item(variant["inventory_item_id"])
                assert item is not None
            else:
                variant, item = self.new_variant(product["id"], position)
            if data.get("sku", UNSET) is not UNSET:
                variant["sku"] = data["sku"] or ""
            if data.get("price", UNSET) not in (UNSET, None):
                variant["price"] = money(data["price"])
            inventory = data.get("inventory_item") or {}
            if inventory.get("tracked", UNSET) not in (UNSET, None):
                item["tracked"] = bool(inventory["tracked"])
            if inventory.get("sku", UNSET) not in (UNSET, None):
                variant["sku"] = inventory["sku"]
            option_values = data.get("option_values") or []
            if option_values:
                variant["title"] = " / ".join(str(v.get("name")) for v in option_values) or "Default Title"
            for quantity in data.get("inventory_quantities") or []:
                location_id = parse_gid(quantity["location_id"], "Location")
                level = item["levels"].setdefault(
                    str(location_id), {"available": 0, "on_hand": 0, "committed": 0}
                )
                delta = int(quantity["quantity"]) - int(level[quantity["name"]])
                self._apply_delta(item, location_id, quantity["name"], delta)
            variant["position"] = position
            variant["updated_at"] = item["updated_at"] = self.stamp
            self.save(VARIANTS, variant)
            self.save(INVENTORY_ITEMS, item)
            kept.append(variant["id"])
        for old in set(product["variant_ids"]) - set(kept):
            removed = self.variant(old)
            if removed is not None:
                self.tx.delete(INVENTORY_ITEMS, removed["inventory_item_id"])
                self.tx.delete(VARIANTS, old)
        product["variant_ids"] = kept

    def product_update(
        self, input_: Mapping[str, Any], identifier: Mapping[str, Any] | None
    ) -> tuple[Record | None, list[UserError]]:
        """``productUpdate``: only the fields given change (lists included, which are replaced)."""
        reference = (identifier or {}).get("id") or input_.get("id")
        product = self.product(parse_gid(reference, "Product")) if reference else None
        if product is None and (identifier or {}).get("handle"):
            product = next((p for p in self.products() if p["handle"] == identifier["handle"]), None)  # type: ignore[index]
        if product is None:
            return None, [user_error(["id"], "Product does not exist", None)]
        title = input_.get("title", UNSET)
        if title is not UNSET and not str(title or "").strip():
            return None, [user_error(["title"], "Title can't be blank", None)]
        if title is not UNSET and len(str(title)) > TITLE_MAX_LENGTH:
            return None, [
                user_error(["title"], f"Title is too long (maximum is {TITLE_MAX_LENGTH} characters)")
            ]
        for key in ("title", "description_html", "vendor", "product_type", "status"):
            value = input_.get(key, UNSET)
            if value is not UNSET and value is not None:
                product[key] = value
        if input_.get("tags", UNSET) not in (UNSET, None):
            product["tags"] = sorted({str(tag).strip() for tag in input_["tags"] if str(tag).strip()})
        if input_.get("handle", UNSET) not in (UNSET, None):
            product["handle"] = self._handle(str(input_["handle"]), product["id"])
        if product["status"] == "ACTIVE" and not product.get("published_at"):
            product["published_at"] = self.stamp
        product["updated_at"] = self.stamp
        self.save(PRODUCTS, product)
        self.events.append(Event("products/update", self.product_payload(product)))
        return product, []

    def variants_bulk_update(
        self, product_id: Any, variants: Sequence[Mapping[str, Any]]
    ) -> tuple[Record | None, list[Record], list[UserError]]:
        product = self.product(parse_gid(product_id, "Product"))
        if product is None:
            return None, [], [user_error(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")]
        errors: list[UserError] = []
        updates: list[tuple[Record, Mapping[str, Any]]] = []
        for index, data in enumerate(variants):
            variant_id = parse_gid(data.get("id"), "ProductVariant")
            variant = self.variant(variant_id) if variant_id in product["variant_ids"] else None
            if variant is None:
                errors.append(
                    user_error(
                        ["variants", index, "id"],
                        "Product variant does not exist",
                        "PRODUCT_VARIANT_DOES_NOT_EXIST",
                    )
                )
                continue
            for key in ("price", "compare_at_price"):
                value = data.get(key, UNSET)
                if value in (UNSET, None):
                    continue
                try:
                    if Decimal(str(value)) < 0:
                        raise InvalidOperation
                except InvalidOperation:
                    camel = "price" if key == "price" else "compareAtPrice"
                    errors.append(
                        user_error(
                            ["variants", index, camel],
                            "Price must be greater than or equal to 0",
                            "GREATER_THAN_OR_EQUAL_TO",
                        )
                    )
            updates.append((variant, data))
        if errors:
            return product, [], errors
        changed = []
        for variant, data in updates:
            if data.get("price", UNSET) not in (UNSET, None):
                variant["price"] = money(data["price"])
            if data.get("compare_at_price", UNSET) is not UNSET:
                value = data["compare_at_price"]
                variant["compare_at_price"] = money(value) if value is not None else None
            inventory = data.get("inventory_item") or {}
            if inventory.get("sku", UNSET) not in (UNSET, None):
                variant["sku"] = inventory["sku"]
            if inventory.get("tracked", UNSET) not in (UNSET, None):
                item = self.inventory_item(variant["inventory_item_id"])
                assert item is not None
                item["tracked"] = bool(inventory["tracked"])
                self.save(INVENTORY_ITEMS, item)
            variant["updated_at"] = self.stamp
            self.save(VARIANTS, variant)
            changed.append(variant)
        product["updated_at"] = self.stamp
        self.save(PRODUCTS, product)
        self.events.append(Event("products/update", self.product_payload(product)))
        return product, changed, []

    # Inventory -----------------------------------------------------------------------------------

    def _apply_delta(self, item: Record, location_id: int | None, name: str, delta: int) -> list[Record]:
        level = item["levels"].setdefault(str(location_id), {"available": 0, "on_hand": 0, "committed": 0})
        changes = []
        if name in ("available", "on_hand"):
            # available and on_hand move together (committed is untouched): the sample's two changes.
            level["available"] = int(level["available"]) + delta
            level["on_hand"] = int(level["on_hand"]) + delta
            changes = [
                {"name": "available", "delta": delta, "quantity_after_change": None, "item_id": item["id"]},
                {"name": "on_hand", "delta": delta, "quantity_after_change": None, "item_id": item["id"]},
            ]
            if name == "on_hand":
                changes.reverse()
        else:
            level[name] = int(level.get(name, 0)) + delta
            level["on_hand"] = int(level["on_hand"]) + delta
            changes = [{"name": name, "delta": delta, "quantity_after_change": None, "item_id": item["id"]}]
        item["updated_at"] = self.stamp
        return changes

    def _inventory_event(self, item: Record, location_id: int) -> None:
        self.events.append(
            Event(
                "inventory_levels/update",
                {
                    "inventory_item_id": item["id"],
                    "location_id": location_id,
                    "available": self.available(item, location_id),
                    "updated_at": self.stamp,
                    "admin_graphql_api_id": f"{gid('InventoryLevel', item['id'])}?inventory_item_id={item['id']}",
                },
            )
        )
        variant = self.variant(item["variant_id"])
        product = self.product(variant["product_id"]) if variant else None
        if product is not None:
            # Inventory changes count as a product change for updatedAt / updated_at:> searches (unverified).
            product["updated_at"] = self.stamp
            self.save(PRODUCTS, product)

    @staticmethod
    def _change_from_problem(
        path: list[str | int], change_from: Any, current: int, *, required: bool
    ) -> UserError | None:
        if change_from is UNSET and required:
            return user_error(
                [*path, "changeFromQuantity"],
                "changeFromQuantity is required: pass the quantity you expect to change from, or null to opt out.",
                "CHANGE_FROM_QUANTITY_REQUIRED",
            )
        if change_from not in (UNSET, None) and int(change_from) != current:
            return user_error(
                [*path, "changeFromQuantity"],
                "The changeFromQuantity value does not match persisted value.",
                "CHANGE_FROM_QUANTITY_STALE",
            )
        return None

    def _check_compare(
        self, path: list[str | int], entry: Mapping[str, Any], current: int, ignore_compare: bool
    ) -> UserError | None:
        """inventorySetQuantities: changeFromQuantity from 2026-04, compareQuantity before."""
        if version_at_least(self.version, CONCURRENCY_PROTECTION_VERSION):
            return self._change_from_problem(
                path, entry.get("change_from_quantity", UNSET), current, required=True
            )
        if ignore_compare:
            return None
        compare = entry.get("compare_quantity", UNSET)
        if compare in (UNSET, None):
            return user_error(
                [*path, "compareQuantity"],
                "The compareQuantity argument must be given to each quantity or ignored using ignoreCompareQuantity.",
                "COMPARE_QUANTITY_REQUIRED",
            )
        if int(compare) != current:
            return user_error(
                [*path, "compareQuantity"],
                "The compareQuantity value does not match persisted value.",
                "COMPARE_QUANTITY_STALE",
            )
        return None

    def _resolve_level(
        self, path: list[str | int], entry: Mapping[str, Any], errors: list[UserError]
    ) -> tuple[Record, int] | None:
        item = self.inventory_item(parse_gid(entry.get("inventory_item_id"), "InventoryItem"))
        location_id = parse_gid(entry.get("location_id"), "Location")
        if item is None:
            errors.append(
                user_error(
                    [*path, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
            )
            return None
        if self.location(location_id) is None:
            errors.append(
                user_error(
                    [*path, "locationId"], "The specified location could not be found.", "INVALID_LOCATION"
                )
            )
            return None
        assert location_id is not None
        return item, location_id

    def _check_reason(self, reason: Any, errors: list[UserError]) -> None:
        if reason not in INVENTORY_REASONS:
            errors.append(
                user_error(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
            )

    def inventory_set(self, input_: Mapping[str, Any]) -> tuple[Record | None, list[UserError]]:
        """``inventorySetQuantities``: absolute quantities, compare-and-set per quantity, all or nothing."""
        errors: list[UserError] = []
        name = input_.get("name")
        if name not in SET_QUANTITY_NAMES:
            errors.append(
                user_error(
                    ["input", "name"],
                    "The quantity name must be either 'available' or 'on_hand'.",
                    "INVALID_NAME",
                )
            )
        self._check_reason(input_.get("reason"), errors)
        planned: list[tuple[Record, int, int]] = []
        for index, entry in enumerate(input_.get("quantities") or []):
            path: list[str | int] = ["input", "quantities", index]
            resolved = self._resolve_level(path, entry, errors)
            if resolved is None or name not in SET_QUANTITY_NAMES:
                continue
            item, location_id = resolved
            current = int(item["levels"].get(str(location_id), {}).get(name, 0))
            problem = self._check_compare(path, entry, current, bool(input_.get("ignore_compare_quantity")))
            if problem is not None:
                errors.append(problem)
                continue
            planned.append((item, location_id, int(entry["quantity"]) - current))
        if errors:
            return None, errors
        changes: list[Record] = []
        for item, location_id, delta in planned:
            if delta:
                changes.extend(self._apply_delta(item, location_id, str(name), delta))
                self.save(INVENTORY_ITEMS, item)
                self._inventory_event(item, location_id)
            else:
                changes.extend(
                    {"name": n, "delta": 0, "quantity_after_change": None, "item_id": item["id"]}
                    for n in ("available", "on_hand")
                )
        return self._adjustment_group(input_, changes), []

    def inventory_adjust(self, input_: Mapping[str, Any]) -> tuple[Record | None, list[UserError]]:
        """``inventoryAdjustQuantities``: deltas; from 2026-04 each change needs changeFromQuantity."""
        errors: list[UserError] = []
        name = input_.get("name")
        if name not in ADJUST_QUANTITY_NAMES:
            errors.append(
                user_error(["input", "name"], "The quantity name is invalid.", "INVALID_QUANTITY_NAME")
            )
        self._check_reason(input_.get("reason"), errors)
        planned: list[tuple[Record, int, int]] = []
        for index, entry in enumerate(input_.get("changes") or []):
            path: list[str | int] = ["input", "changes", index]
            resolved = self._resolve_level(path, entry, errors)
            if resolved is None or name not in ADJUST_QUANTITY_NAMES:
                continue
            item, location_id = resolved
            current = int(item["levels"].get(str(location_id), {}).get(name, 0))
            problem = self._change_from_problem(
                path,
                entry.get("change_from_quantity", UNSET),
                current,
                required=version_at_least(self.version, CONCURRENCY_PROTECTION_VERSION),
            )
            if problem is not None:
                errors.append(problem)
                continue
            planned.append((item, location_id, int(entry["delta"])))
        if errors:
            return None, errors
        changes: list[Record] = []
        for item, location_id, delta in planned:
            changes.extend(self._apply_delta(item, location_id, str(name), delta))
            self.save(INVENTORY_ITEMS, item)
            self._inventory_event(item, location_id)
        return self._adjustment_group(input_, changes), []

    def _adjustment_group(self, input_: Mapping[str, Any], changes: list[Record]) -> Record:
        return {
            "id": self.new_id("InventoryAdjustmentGroup"),
            "created_at": self.stamp,
            "reason": input_.get("reason"),
            "reference_document_uri": input_.get("reference_document_uri"),
            "changes": changes,
        }

    def idempotent(self, key: str, payload: Any) -> tuple[Record | None, bool]:
        """(stored result, key reused with other parameters) for an ``@idempotent`` key."""
        stored = self.tx.get(IDEMPOTENCY, key)
        if stored is None:
            return None, False
        if stored["fingerprint"] != fingerprint(payload):
            return None, True
        return stored["result"], False

    def remember(self, key: str, payload: Any, result: Record) -> None:
        self.tx.put(IDEMPOTENCY, key, {"id": key, "fingerprint": fingerprint(payload), "result": result})

    # Orders --------------------------------------------------------------------------------------

    def display_fulfillment_status(self, order: Record) -> str:
        fulfillment_orders = [self.fulfillment_order(i) for i in order["fulfillment_order_ids"]]
        remaining = sum(
            li["remaining_quantity"] for fo in fulfillment_orders if fo is not None for li in fo["line_items"]
        )
        total = sum(li["quantity"] for li in order["line_items"])
        if remaining == 0 and total:
            return "FULFILLED"
        if remaining < total:
            return "PARTIALLY_FULFILLED"
        return "UNFULFILLED"

    def new_order(
        self,
        product: Record,
        variant: Record,
        quantity: int,
        *,
        buyer: demo.Buyer,
        paid: bool,
    ) -> Record:
        order_id = self.new_id("Order")
        number = self.tx.next_value("order_number", FIRST_ORDER_NUMBER)
        price = Decimal(variant["price"])
        shipping = Decimal("0.00") if buyer.country_code == "GB" else Decimal("95.00")
        subtotal = price * quantity
        line = {
            "id": self.new_id("LineItem"),
            "product_id": product["id"],
            "variant_id": variant["id"],
            "sku": variant["sku"],
            "title": product["title"],
            "quantity": quantity,
            "price": money(price),
        }
        fulfillment_order = {
            "id": self.new_id("FulfillmentOrder"),
            "order_id": order_id,
            "status": "OPEN",
            "location_id": PRIMARY_LOCATION_ID,
            "line_items": [
                {
                    "id": self.new_id("FulfillmentOrderLineItem"),
                    "line_item_id": line["id"],
                    "total_quantity": quantity,
                    "remaining_quantity": quantity,
                }
            ],
            "created_at": self.stamp,
            "updated_at": self.stamp,
        }
        self.save(FULFILLMENT_ORDERS, fulfillment_order)
        order = {
            "id": order_id,
            "number": number,
            "name": f"#{number}",
            "email": f"{buyer.first_name.lower()}.{buyer.last_name.lower()}@example.com",
            "created_at": self.stamp,
            "updated_at": self.stamp,
            "processed_at": self.stamp,
            "cancelled_at": None,
            "closed_at": None,
            "financial_status": "PAID" if paid else "PENDING",
            "currency": SHOP_CURRENCY,
            "line_items": [line],
            "shipping_address": {
                "name": buyer.name,
                "address1": buyer.street_address,
                "address2": None,
                "city": buyer.locality,
                "province": buyer.region,
                "province_code": buyer.region,
                "zip": buyer.postal_code,
                "country_code": buyer.country_code,
                "country": buyer.country_name,
                "phone": buyer.phone,
            },
            "subtotal": money(subtotal),
            "shipping": money(shipping),
            "tax": "0.00",
            "total": money(subtotal + shipping),
            "fulfillment_order_ids": [fulfillment_order["id"]],
            "fulfillment_ids": [],
        }
        self.save(ORDERS, order)
        return order

    def purchase(self, product: Record, quantity: int, *, buyer_index: int | None, paid: bool) -> Record:
        """A buyer checks out: order, inventory decrement (available -> committed), webhooks."""
        if quantity < 1:
            raise ControlError(422, "invalid_quantity", "quantity must be at least 1")
        if product["status"] != "ACTIVE":
            raise ControlError(409, "not_for_sale", f"product {product['id']} is {product['status'].lower()}")
        variant = self.variants_of(product)[0]
        item = self.inventory_item(variant["inventory_item_id"])
        assert item is not None
        if item["tracked"] and self.available(item, PRIMARY_LOCATION_ID) < quantity:
            raise ControlError(409, "sold_out", f"product {product['id']} is sold out")
        index = buyer_index if buyer_index is not None else self.tx.next_value("buyer", 0)
        order = self.new_order(
            product, variant, quantity, buyer=demo.BUYERS[index % len(demo.BUYERS)], paid=paid
        )
        if item["tracked"]:
            level = item["levels"][str(PRIMARY_LOCATION_ID)]
            level["available"] = int(level["available"]) - quantity
            level["committed"] = int(level.get("committed", 0)) + quantity
            item["updated_at"] = self.stamp
            self.save(INVENTORY_ITEMS, item)
            self._inventory_event(item, PRIMARY_LOCATION_ID)
        self.events.insert(0, Event("orders/create", self.order_payload(order)))
        if paid:
            self.events.append(Event("orders/paid", self.order_payload(order)))
        return order

    def update_order(self, order: Record, changes: Mapping[str, Any]) -> Record:
        """Outside the API: payment captured, refund, cancellation."""
        topics = []
        status = changes.get("financial_status")
        if status is not None:
            status = str(status).upper()
            if status not in (
                "PENDING",
                "AUTHORIZED",
                "PAID",
                "PARTIALLY_PAID",
                "PARTIALLY_REFUNDED",
                "REFUNDED",
                "VOIDED",
            ):
                raise ControlError(
                    422, "invalid_status", f"unknown financial_status {changes['financial_status']!r}"
                )
            order["financial_status"] = status
            if status == "PAID":
                topics.append("orders/paid")
        if changes.get("cancel"):
            order["cancelled_at"] = self.stamp
            topics.append("orders/cancelled")
            for line in order["line_items"]:
                variant = self.variant(line["variant_id"])
                item = self.inventory_item(variant["inventory_item_id"]) if variant else None
                if item is not None and item["tracked"]:
                    level = item["levels"][str(PRIMARY_LOCATION_ID)]
                    level["available"] = int(level["available"]) + line["quantity"]
                    level["committed"] = max(0, int(level.get("committed", 0)) - line["quantity"])
                    self.save(INVENTORY_ITEMS, item)
                    self._inventory_event(item, PRIMARY_LOCATION_ID)
        order["updated_at"] = self.stamp
        self.save(ORDERS, order)
        payload = self.order_payload(order)
        self.events.extend(Event(topic, payload) for topic in [*topics, "orders/updated"])
        return order

    def fulfillment_create(self, input_: Mapping[str, Any]) -> tuple[Record | None, list[UserError]]:
        groups = input_.get("line_items_by_fulfillment_order") or []
        errors: list[UserError] = []
        plan: list[tuple[Record, Record, int]] = []
        order: Record | None = None
        if not groups:
            errors.append(
                user_error(
                    ["fulfillment", "lineItemsByFulfillmentOrder"],
                    "Line items by fulfillment order can't be blank",
                )
            )
        for index, group in enumerate(groups):
            path: list[str | int] = ["fulfillment", "lineItemsByFulfillmentOrder", index]
            fulfillment_order = self.fulfillment_order(
                parse_gid(group.get("fulfillment_order_id"), "FulfillmentOrder")
            )
            if fulfillment_order is None:
                errors.append(user_error([*path, "fulfillmentOrderId"], "Fulfillment order does not exist."))
                continue
            if order is not None and fulfillment_order["order_id"] != order["id"]:
                errors.append(
                    user_error(
                        [*path, "fulfillmentOrderId"], "All fulfillment orders must belong to the same order."
                    )
                )
                continue
            order = self.order(fulfillment_order["order_id"])
            if fulfillment_order["status"] in ("CLOSED", "CANCELLED"):
                errors.append(
                    user_error(
                        [*path, "fulfillmentOrderId"],
                        f"Fulfillment order {gid('FulfillmentOrder', fulfillment_order['id'])} has an unfulfillable"
                        f" status= {fulfillment_order['status'].lower()}.",
                    )
                )
                continue
            wanted = group.get("fulfillment_order_line_items")
            by_id = {li["id"]: li for li in fulfillment_order["line_items"]}
            if not wanted:
                plan.extend(
                    (fulfillment_order, li, li["remaining_quantity"])
                    for li in fulfillment_order["line_items"]
                    if li["remaining_quantity"] > 0
                )
                continue
            for line_index, entry in enumerate(wanted):
                line = by_id.get(parse_gid(entry.get("id"), "FulfillmentOrderLineItem") or -1)
                quantity = int(entry.get("quantity") or 0)
                if line is None or quantity < 1 or quantity > line["remaining_quantity"]:
                    errors.append(
                        user_error(
                            [*path, "fulfillmentOrderLineItems", line_index],
                            "Invalid fulfillment order line item quantity requested.",
                        )
                    )
                    continue
                plan.append((fulfillment_order, line, quantity))
        if errors or order is None:
            return None, errors
        tracking = input_.get("tracking_info") or {}
        company = tracking.get("company")
        numbers = [n for n in [tracking.get("number"), *(tracking.get("numbers") or [])] if n]
        urls = [u for u in [tracking.get("url"), *(tracking.get("urls") or [])] if u]
        tracking_info = []
        for position, number in enumerate(numbers):
            url = urls[position] if position < len(urls) else None
            if url is None and company in TRACKING_URLS:
                url = TRACKING_URLS[company].format(number=number)
            tracking_info.append({"company": company, "number": number, "url": url})
        fulfillment = {
            "id": self.new_id("Fulfillment"),
            "order_id": order["id"],
            "status": "SUCCESS",
            "tracking_info": tracking_info,
            "notify_customer": bool(input_.get("notify_customer")),
            "line_items": [],
            "created_at": self.stamp,
            "updated_at": self.stamp,
        }
        for fulfillment_order, line, quantity in plan:
            line["remaining_quantity"] -= quantity
            fulfillment["line_items"].append({"line_item_id": line["line_item_id"], "quantity": quantity})
            remaining = sum(li["remaining_quantity"] for li in fulfillment_order["line_items"])
            fulfillment_order["status"] = "CLOSED" if remaining == 0 else "IN_PROGRESS"
            fulfillment_order["updated_at"] = self.stamp
            self.save(FULFILLMENT_ORDERS, fulfillment_order)
            order_line = next(li for li in order["line_items"] if li["id"] == line["line_item_id"])
            variant = self.variant(order_line["variant_id"])
            item = self.inventory_item(variant["inventory_item_id"]) if variant else None
            if item is not None and item["tracked"]:
                level = item["levels"][str(PRIMARY_LOCATION_ID)]
                level["committed"] = max(0, int(level.get("committed", 0)) - quantity)
                level["on_hand"] = int(level["on_hand"]) - quantity
                self.save(INVENTORY_ITEMS, item)
        self.save(FULFILLMENTS, fulfillment)
        order["fulfillment_ids"].append(fulfillment["id"])
        order["updated_at"] = self.stamp
        self.save(ORDERS, order)
        payload = self.order_payload(order)
        if self.display_fulfillment_status(order) == "FULFILLED":
            self.events.append(Event("orders/fulfilled", payload))
        self.events.append(Event("orders/updated", payload))
        return fulfillment, []

    # The seller, in Shopify's admin ----------------------------------------------------------------

    def seller_edit(self, product: Record, changes: Mapping[str, Any]) -> Record:
        allowed = {"title", "price", "status", "quantity", "tags", "vendor"}
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ControlError(
                422, "invalid_change", f"cannot edit {', '.join(unknown)}; known: {sorted(allowed)}"
            )
        for key in ("title", "vendor"):
            if key in changes:
                product[key] = str(changes[key])
        if "tags" in changes:
            product["tags"] = sorted({str(t) for t in changes["tags"]})
        if "status" in changes:
            status = str(changes["status"]).upper()
            if status not in ("ACTIVE", "DRAFT", "ARCHIVED"):
                raise ControlError(422, "invalid_status", "status must be active, draft or archived")
            product["status"] = status
        variant = self.variants_of(product)[0]
        if "price" in changes:
            variant["price"] = money(changes["price"])
            variant["updated_at"] = self.stamp
            self.save(VARIANTS, variant)
        product["updated_at"] = self.stamp
        self.save(PRODUCTS, product)
        if "quantity" in changes:
            item = self.inventory_item(variant["inventory_item_id"])
            assert item is not None
            delta = int(changes["quantity"]) - self.available(item, PRIMARY_LOCATION_ID)
            self._apply_delta(item, PRIMARY_LOCATION_ID, "available", delta)
            self.save(INVENTORY_ITEMS, item)
            self._inventory_event(item, PRIMARY_LOCATION_ID)
        self.events.append(Event("products/update", self.product_payload(product)))
        return product

    # REST-format webhook payloads ----------------------------------------------------------------

    def product_payload(self, product: Record) -> Record:
        variants = []
        for variant in self.variants_of(product):
            item = self.inventory_item(variant["inventory_item_id"])
            variants.append(
                {
                    "id": variant["id"],
                    "product_id": product["id"],
                    "title": variant["title"],
                    "sku": variant["sku"],
                    "price": variant["price"],
                    "inventory_item_id": variant["inventory_item_id"],
                    "inventory_quantity": self.available(item) if item else 0,
                    "admin_graphql_api_id": gid("ProductVariant", variant["id"]),
                    "updated_at": variant["updated_at"],
                }
            )
        return {
            "id": product["id"],
            "admin_graphql_api_id": gid("Product", product["id"]),
            "title": product["title"],
            "body_html": product["description_html"],
            "vendor": product["vendor"],
            "product_type": product["product_type"],
            "handle": product["handle"],
            "status": product["status"].lower(),
            "tags": ", ".join(product["tags"]),
            "created_at": product["created_at"],
            "updated_at": product["updated_at"],
            "published_at": product["published_at"],
            "variants": variants,
        }

    def order_payload(self, order: Record) -> Record:
        fulfillment_status = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
            self.display_fulfillment_status(order)
        )
        return {
            "id": order["id"],
            "admin_graphql_api_id": gid("Order", order["id"]),
            "name": order["name"],
            "order_number": order["number"],
            "email": order["email"],
            "created_at": order["created_at"],
            "updated_at": order["updated_at"],
            "processed_at": order["processed_at"],
            "cancelled_at": order["cancelled_at"],
            "currency": order["currency"],
            "financial_status": order["financial_status"].lower(),
            "fulfillment_status": fulfillment_status,
            "subtotal_price": order["subtotal"],
            "total_shipping_price_set": {
                "shop_money": {"amount": order["shipping"], "currency_code": order["currency"]}
            },
            "total_tax": order["tax"],
            "total_price": order["total"],
            "line_items": [
                {
                    "id": line["id"],
                    "admin_graphql_api_id": gid("LineItem", line["id"]),
                    "sku": line["sku"],
                    "quantity": line["quantity"],
                    "price": line["price"],
                    "title": line["title"],
                    "product_id": line["product_id"],
                    "variant_id": line["variant_id"],
                }
                for line in order["line_items"]
            ],
            "shipping_address": {
                "name": order["shipping_address"]["name"],
                "address1": order["shipping_address"]["address1"],
                "address2": order["shipping_address"]["address2"],
                "city": order["shipping_address"]["city"],
                "province_code": order["shipping_address"]["province_code"],
                "zip": order["shipping_address"]["zip"],
                "country_code": order["shipping_address"]["country_code"],
                "phone": order["shipping_address"]["phone"],
            },
        }
