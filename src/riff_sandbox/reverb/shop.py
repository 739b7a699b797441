"""The Reverb shop's state and what the API (and the simulated buyer and seller) can do to it.

All methods run inside one store transaction; they never render JSON (that needs the request's base URL)
and they collect the webhook events to fire after the transaction commits.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.reverb import tables
from riff_sandbox.reverb.consts import (
    END_REASONS,
    FIRST_ADDRESS_ID,
    FIRST_BUYER_ID,
    FIRST_CONVERSATION_ID,
    FIRST_LISTING_ID,
    FIRST_ORDER_BUNDLE_ID,
    FIRST_ORDER_NUMBER,
    FIRST_PHOTO_ID,
    PRESENTMENT_RATES,
    SELLER_FEE_RATE,
    SHOP_CURRENCY,
    US_SALES_TAX_RATE,
)
from riff_sandbox.reverb.errors import ReverbError, ValidationErrors
from riff_sandbox.reverb.render import amount_to_cents, shipping_rates, slugify
from riff_sandbox.reverb.validation import BLANK, parse_listing_fields
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.platform import ControlError
from riff_sandbox.toolkit.store import Transaction

Record = dict[str, Any]

LISTINGS = "listings"
LISTING_INDEX = "listing_index"
ORDERS = "orders"

EU_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
KNOWN_MAKES = tuple(sorted({m.make for m in demo.CATALOGUE}, key=len, reverse=True))
NAMESPACE = uuid.UUID("6f1c2b0e-5b8e-4c1f-9a53-0c9d6a8e7b21")


class ReverbOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    publish_delay_seconds: float = Field(0.2, ge=0, description="Publishing is asynchronous on Reverb")
    index_lag_seconds: float = Field(0.0, ge=0, description="How far /my/listings lags behind changes")
    require_accept_version: bool = Field(True, description="Refuse API calls without Accept-Version: 3.0")
    webhook_registration_requires_oauth: bool = Field(
        False, description="Refuse POST /api/webhooks/registrations with a personal token, as Reverb does"
    )
    tokens: list[str] = Field(default_factory=list, description="Extra personal tokens to accept")


@dataclass(frozen=True)
class Event:
    topic: str
    kind: Literal["listing", "order"]
    record: Record


@dataclass
class CreateResult:
    listing: Record
    publish_errors: dict[str, list[str]] = field(default_factory=dict)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def parse_id(reference: str) -> int | None:
    """``91978727`` or ``91978727-gibson-les-paul...`` (the form in ``_links``) -> 91978727."""
    match = re.match(r"^(\d+)", reference)
    return int(match.group(1)) if match else None


def _hash(*parts: Any) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()


def _signature(seed: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:8])


def _public_id(seed: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:20])


class ReverbShop:
    def __init__(self, tx: Transaction, options: ReverbOptions, now: datetime) -> None:
        self.tx = tx
        self.options = options
        self.now = now
        self.events: list[Event] = []

    # Storage -------------------------------------------------------------------------------------

    def listing(self, listing_id: int) -> Record | None:
        return self.tx.get(LISTINGS, listing_id)

    def require_listing(self, reference: str) -> Record:
        listing_id = parse_id(reference)
        record = self.listing(listing_id) if listing_id is not None else None
        if record is None:
            raise ReverbError(404, "The requested listing could not be found.")
        return record

    def listings(self) -> list[Record]:
        return self.tx.list(LISTINGS)

    def save_listing(self, record: Record) -> None:
        if self.options.index_lag_seconds > 0:
            self._index(record, self.tx.get(LISTINGS, record["id"]))
        self.tx.put(LISTINGS, record["id"], record)

    def _index(self, record: Record, previous: Record | None) -> None:
        # /my/listings is served from a search index that lags behind writes (EDOS README (3p)).
        visible_at = self.now + timedelta(seconds=self.options.index_lag_seconds)
        document = self.tx.get(LISTING_INDEX, record["id"])
        if document is None:  # first change since seeding: the stored version is what the index shows
            document = {"versions": [{"visible_at": "", "snapshot": previous}] if previous else []}
        versions = [*document["versions"], {"visible_at": iso(visible_at), "snapshot": dict(record)}]
        now = iso(self.now)
        settled = [v for v in versions if v["visible_at"] <= now]
        pending = [v for v in versions if v["visible_at"] > now]
        self.tx.put(LISTING_INDEX, record["id"], {"versions": settled[-1:] + pending})

    def indexed_listings(self) -> list[Record]:
        """Listings as /my/listings sees them (possibly stale, see ``index_lag_seconds``)."""
        if self.options.index_lag_seconds <= 0:
            return self.listings()
        now = iso(self.now)
        found = []
        for record in self.listings():
            document = self.tx.get(LISTING_INDEX, record["id"])
            if document is None:
                found.append(record)
                continue
            visible = [v for v in document["versions"] if v["visible_at"] <= now]
            if visible:
                found.append(visible[-1]["snapshot"])
        return found

    def order(self, order_number: str) -> Record | None:
        return self.tx.get(ORDERS, order_number)

    def require_order(self, order_number: str) -> Record:
        record = self.order(order_number)
        if record is None:
            raise ReverbError(404, "The requested order could not be found.")
        return record

    def orders(self) -> list[Record]:
        return self.tx.list(ORDERS)

    def save_order(self, record: Record) -> None:
        self.tx.put(ORDERS, record["order_number"], record)

    # Scheduled work ------------------------------------------------------------------------------

    def settle(self) -> None:
        """Finish publishes whose delay has passed (publishing is asynchronous on Reverb)."""
        now = iso(self.now)
        for record in self.listings():
            publish_at = record.get("publish_at")
            if publish_at and publish_at <= now:
                self._go_live(record, publish_at)

    def _go_live(self, record: Record, at: str) -> None:
        record.update(
            state="live", publish_at=None, published_at=at, ended_at=None, end_reason=None, updated_at=at
        )
        self.save_listing(record)
        self.events.append(Event("listings/publish", "listing", dict(record)))
        self.events.append(Event("listings/update", "listing", dict(record)))

    def _schedule_publish(self, record: Record) -> None:
        delay = self.options.publish_delay_seconds
        if delay <= 0:
            self._go_live(record, iso(self.now))
        else:
            record["publish_at"] = iso(self.now + timedelta(seconds=delay))
            self.save_listing(record)

    # Listings ------------------------------------------------------------------------------------

    def new_photo(self, listing_id: int, source: str, position: int) -> Record:
        seed = f"{listing_id}:{position}:{source}"
        return {
            "id": self.tx.next_value("photo_id", FIRST_PHOTO_ID),
            "public_id": _public_id(seed),
            "version": str(int(self.now.timestamp()) + position),
            "sig_large": _signature(seed + ":large"),
            "sig_small": _signature(seed + ":small"),
            "sig_preview": _signature(seed + ":preview"),
            "source_url": source,
        }

    def create_listing(self, payload: Mapping[str, Any]) -> CreateResult:
        errors = ValidationErrors()
        changes = parse_listing_fields(payload, errors, default_currency=SHOP_CURRENCY)
        if not changes.get("make") or not changes.get("model"):
            # "Reverb provides a Make and Model guesser" working from the title.
            guessed = _guess_make_model(changes.get("title") or "")
            if guessed:
                changes["make"] = changes.get("make") or guessed[0]
                changes["model"] = changes.get("model") or guessed[1]
            else:
                for required in ("make", "model"):
                    if not changes.get(required):
                        errors.add(required, BLANK)
        errors.raise_if_any()
        listing_id = self.tx.next_value("listing_id", FIRST_LISTING_ID)
        now = iso(self.now)
        record: Record = {
            "id": listing_id,
            "make": changes["make"],
            "model": changes["model"],
            "finish": changes.get("finish"),
            "year": changes.get("year"),
            "title": changes.get("title") or _default_title(changes),
            "description": changes.get("description") or "",
            "sku": changes.get("sku"),
            "condition_uuid": changes.get("condition_uuid"),
            "category_uuids": changes.get("category_uuids", []),
            "price_cents": changes.get("price_cents"),
            "currency": changes.get("currency", SHOP_CURRENCY),
            "inventory": changes.get("inventory", 1),
            "has_inventory": changes.get("has_inventory", False),
            "offers_enabled": changes.get("offers_enabled", True),
            "handmade": changes.get("handmade", False),
            "upc": changes.get("upc"),
            "upc_does_not_apply": changes.get("upc_does_not_apply", True),
            "origin_country_code": changes.get("origin_country_code"),
            "photos": [
                self.new_photo(listing_id, url, i) for i, url in enumerate(changes.get("photo_urls", []))
            ],
            "videos": changes.get("videos", []),
            "shipping_profile_id": changes.get("shipping_profile_id"),
            "shipping": changes.get("shipping"),
            "state": "draft",
            "publish_at": None,
            "created_at": now,
            "published_at": None,
            "updated_at": now,
            "ended_at": None,
            "end_reason": None,
            "stats": {"views": 0, "watches": 0},
            "comparison_shopping_page_id": None,
            "exclusive_channel": changes.get("exclusive_channel"),
            "storage_location": changes.get("storage_location"),
            "seller_cost": changes.get("seller_cost"),
        }
        self.save_listing(record)
        result = CreateResult(record)
        if changes.get("publish"):
            result.publish_errors = publish_problems(record)
            if not result.publish_errors:
                self._schedule_publish(record)
        return result

    def update_listing(self, record: Record, payload: Mapping[str, Any]) -> CreateResult:
        errors = ValidationErrors()
        changes = parse_listing_fields(payload, errors, default_currency=record["currency"])
        errors.raise_if_any()
        if record["state"] == "sold":
            raise ReverbError(422, "This listing has sold and can no longer be edited.")
        before = (record["state"], record["inventory"])
        events_before = len(self.events)
        photo_urls = changes.pop("photo_urls", None)
        publish = changes.pop("publish", False)
        record.update(changes)
        if photo_urls is not None:
            record["photos"] = [self.new_photo(record["id"], url, i) for i, url in enumerate(photo_urls)]
        if "inventory" in changes and record["state"] == "live" and record["inventory"] == 0:
            # Setting inventory to 0 takes a live listing off sale (EDOS (3p)).
            record.update(state="ended", ended_at=iso(self.now), end_reason="not_sold")
        record["updated_at"] = iso(self.now)
        self.save_listing(record)
        result = CreateResult(record)
        if publish and record["state"] in ("draft", "ended") and not record.get("publish_at"):
            result.publish_errors = publish_problems(record)
            if not result.publish_errors:
                self._schedule_publish(record)
        # listings/update fires for state and inventory changes only (reverb-api.com webhooks doc).
        if (record["state"], record["inventory"]) != before and len(self.events) == events_before:
            self.events.append(Event("listings/update", "listing", dict(record)))
        return result

    def end_listing(self, record: Record, payload: Mapping[str, Any]) -> Record:
        reason = payload.get("reason")
        if reason is None or reason == "":
            raise ReverbError(422, "Validation failed.", {"reason": [BLANK]})
        if reason not in END_REASONS:
            raise ReverbError(422, "Validation failed.", {"reason": ["is not included in the list"]})
        if record["state"] == "draft":
            raise ReverbError(422, "Drafts cannot be ended. Delete the draft instead.")
        if record["state"] != "live":
            raise ReverbError(422, f"This listing is {record['state']} and cannot be ended.")
        record.update(state="ended", ended_at=iso(self.now), end_reason=reason, updated_at=iso(self.now))
        self.save_listing(record)
        self.events.append(Event("listings/update", "listing", dict(record)))
        return record

    def delete_listing(self, record: Record) -> None:
        if record["state"] != "draft" or record.get("published_at"):
            raise ReverbError(400, "Only drafts can be deleted")
        self.tx.delete(LISTINGS, record["id"])
        self.tx.delete(LISTING_INDEX, record["id"])

    def seller_edit(self, record: Record, changes: Mapping[str, Any]) -> Record:
        """The seller edits the listing on reverb.com (not through the API)."""
        errors = ValidationErrors()
        allowed = {
            "title", "description", "make", "model", "finish", "year", "price", "inventory",
            "has_inventory", "offers_enabled", "condition", "categories", "sku", "photos",
        }  # fmt: skip
        unknown = set(changes) - allowed - {"state"}
        if unknown:
            raise ControlError(422, "invalid_edit", f"unsupported fields: {', '.join(sorted(unknown))}")
        payload = dict(changes)
        if isinstance(payload.get("price"), str | int | float):
            payload["price"] = {"amount": str(payload["price"]), "currency": record["currency"]}
        parsed = parse_listing_fields(payload, errors, default_currency=record["currency"])
        if errors:
            raise ControlError(422, "invalid_edit", str(errors.errors))
        before = (record["state"], record["inventory"])
        photo_urls = parsed.pop("photo_urls", None)
        record.update(parsed)
        if photo_urls is not None:
            record["photos"] = [self.new_photo(record["id"], url, i) for i, url in enumerate(photo_urls)]
        state = changes.get("state")
        if state is not None:
            if state not in ("live", "ended"):
                raise ControlError(422, "invalid_edit", "state can be 'live' (relist) or 'ended'")
            if state == "ended" and record["state"] == "live":
                record.update(state="ended", ended_at=iso(self.now), end_reason="not_sold")
            elif state == "live" and record["state"] in ("ended", "draft"):
                record.update(state="live", published_at=iso(self.now), ended_at=None, end_reason=None)
        if record["state"] == "live" and record["inventory"] == 0:
            record.update(state="ended", ended_at=iso(self.now), end_reason="not_sold")
        record["updated_at"] = iso(self.now)
        self.save_listing(record)
        # listings/update fires for state and inventory changes only (reverb-api.com webhooks doc).
        if (record["state"], record["inventory"]) != before:
            self.events.append(Event("listings/update", "listing", dict(record)))
        return record

    # Orders --------------------------------------------------------------------------------------

    def purchase(
        self,
        record: Record,
        quantity: int,
        *,
        buyer_index: int | None = None,
        paid: bool = True,
        local_pickup: bool = False,
        offer: bool | None = None,
    ) -> Record:
        if record["state"] != "live":
            raise ControlError(409, "listing_not_live", f"listing {record['id']} is {record['state']}")
        if quantity < 1:
            raise ControlError(422, "invalid_quantity", "quantity must be at least 1")
        if record["inventory"] < quantity:
            raise ControlError(409, "insufficient_inventory", f"only {record['inventory']} left")
        order = self.new_order(
            record, quantity, buyer_index=buyer_index, local_pickup=local_pickup, offer=offer
        )
        if paid:
            order.update(status="paid", paid_at=order["created_at"])
        self.save_order(order)
        record["inventory"] -= quantity
        if record["inventory"] == 0:
            record.update(state="sold", ended_at=iso(self.now), end_reason="reverb_sale")
        record["updated_at"] = iso(self.now)
        self.save_listing(record)
        self.events.append(Event("orders/create", "order", dict(order)))
        if paid:
            self.events.append(Event("orders/paid", "order", dict(order)))
        self.events.append(Event("listings/update", "listing", dict(record)))
        return order

    def new_order(
        self,
        listing: Record,
        quantity: int,
        *,
        buyer_index: int | None,
        local_pickup: bool,
        offer: bool | None,
    ) -> Record:
        number = self.tx.next_value("order_number", FIRST_ORDER_NUMBER)
        if buyer_index is None:
            buyer_index = self.tx.next_value("buyer_pick", 0)
        index = buyer_index % len(demo.BUYERS)
        buyer = demo.BUYERS[index]
        currency = listing["currency"]
        product_cents = (listing["price_cents"] or 0) * quantity
        shipping_cents = 0 if local_pickup else _shipping_for(listing, buyer.country_code)
        us_buyer = buyer.country_code == "US"
        tax_rate = Decimal(US_SALES_TAX_RATE) if us_buyer else Decimal(0)
        tax_cents = amount_to_cents((Decimal(product_cents + shipping_cents) * tax_rate) / 100)
        fee_cents = amount_to_cents(Decimal(product_cents + shipping_cents) * Decimal(SELLER_FEE_RATE) / 100)
        presentment = "USD" if us_buyer else "EUR" if buyer.country_code in EU_COUNTRIES else "GBP"
        rate = Decimal(PRESENTMENT_RATES.get(presentment, "1")) / Decimal(
            PRESENTMENT_RATES.get(currency, "1")
        )
        now = iso(self.now)
        return {
            "order_number": str(number),
            "order_bundle_id": str(self.tx.next_value("order_bundle_id", FIRST_ORDER_BUNDLE_ID)),
            "uuid": str(uuid.uuid5(NAMESPACE, f"order:{number}")),
            "product_id": str(listing["id"]),
            "listing_slug": slugify(listing["title"]),
            "sku": listing.get("sku"),
            "title": listing["title"],
            "quantity": quantity,
            "status": "unpaid",
            "shipment_status": "unknown",
            "local_pickup": local_pickup,
            "currency": currency,
            "amount_product_cents": product_cents,
            "shipping_cents": shipping_cents,
            "tax_cents": tax_cents,
            "tax_rate": float(tax_rate),
            "shipping_taxed": us_buyer,
            "payout_cents": product_cents + shipping_cents - fee_cents,
            "presentment_currency": presentment,
            "presentment_rate": str(rate.quantize(Decimal("0.0001"))),
            "buyer": {
                "id": FIRST_BUYER_ID + index,
                "first_name": buyer.first_name,
                "last_name": buyer.last_name,
                "email": f"buyer_{_hash('buyer', index)[:7]}@private-relay.reverb.com",
            },
            "address": {
                "id": str(FIRST_ADDRESS_ID + index),
                "uuid": str(uuid.uuid5(NAMESPACE, f"address:{index}")),
                "street_address": buyer.street_address,
                "locality": buyer.locality,
                "region": buyer.region,
                "postal_code": buyer.postal_code,
                "country_code": buyer.country_code,
                "display_location": f"{buyer.locality}, {buyer.region}, {buyer.country_name}"
                if us_buyer
                else f"{buyer.locality}, {buyer.country_name}",
                "phone": buyer.phone,
            },
            "payment_method": ("credit_card", "apple_pay", "paypal")[number % 3],
            "order_type": "offer" if (number % 4 == 0 if offer is None else offer) else "instant",
            "created_at": now,
            "paid_at": None,
            "updated_at": now,
            "shipped_at": None,
            "shipping_provider": None,
            "shipping_code": None,
            "photo": dict(listing["photos"][0]) if listing["photos"] else None,
            "conversation_id": self.tx.next_value("conversation_id", FIRST_CONVERSATION_ID),
        }

    def ship(self, order: Record, payload: Mapping[str, Any]) -> Record:
        errors = ValidationErrors()
        provider_name = payload.get("provider")
        provider = tables.shipping_provider(provider_name) if isinstance(provider_name, str) else None
        if provider is None:
            errors.add("provider", BLANK if not provider_name else "is not a valid shipping provider")
        tracking = payload.get("tracking_number")
        if not isinstance(tracking, str) or not tracking.strip():
            errors.add("tracking_number", BLANK)
        errors.raise_if_any()
        assert provider is not None and isinstance(tracking, str)
        if order["status"] not in ("paid", "shipped"):
            raise ReverbError(422, f"This order is {order['status']} and cannot be marked as shipped.")
        now = iso(self.now)
        order.update(
            status="shipped",
            shipment_status="pre_transit",
            shipping_provider=provider["name"],
            shipping_code=tracking.strip(),
            shipped_at=now,
            updated_at=now,
            send_notification=bool(payload.get("send_notification", True)),
        )
        self.save_order(order)
        self.events.append(Event("orders/update", "order", dict(order)))
        return order

    def mark_picked_up(self, order: Record) -> Record:
        if not order["local_pickup"] or order["status"] != "paid":
            raise ReverbError(422, "Only paid local pickup orders can be marked as picked up.")
        order.update(status="picked_up", updated_at=iso(self.now))
        self.save_order(order)
        self.events.append(Event("orders/update", "order", dict(order)))
        return order

    def update_order_status(self, order: Record, changes: Mapping[str, Any]) -> Record:
        """Buyer or platform side changes: pay, cancel, refund, receive (control API)."""
        status = changes.get("status")
        allowed = ("paid", "received", "cancelled", "refunded")
        if status not in allowed:
            raise ControlError(422, "invalid_status", f"status must be one of {', '.join(allowed)}")
        now = iso(self.now)
        became_paid = status == "paid" and order["status"] == "unpaid"
        order.update(status=status, updated_at=now)
        if became_paid:
            order["paid_at"] = now
        if status == "received":
            order["shipment_status"] = "delivered"
        self.save_order(order)
        self.events.append(Event("orders/update", "order", dict(order)))
        if became_paid:
            self.events.append(Event("orders/paid", "order", dict(order)))
        if status in ("cancelled", "refunded") and changes.get("restock"):
            listing = self.listing(int(order["product_id"]))
            if listing is not None:
                listing["inventory"] += order["quantity"]
                if listing["state"] == "sold":
                    listing.update(state="live", ended_at=None, end_reason=None)
                listing["updated_at"] = now
                self.save_listing(listing)
                self.events.append(Event("listings/update", "listing", dict(listing)))
        return order


def publish_problems(record: Record) -> dict[str, list[str]]:
    """What stops a draft from going live (the draft itself is still saved)."""
    problems: dict[str, list[str]] = {}
    if not record.get("price_cents"):
        problems["price"] = [BLANK]
    if not record.get("condition_uuid"):
        problems["condition"] = [BLANK]
    if not record.get("category_uuids"):
        problems["categories"] = [BLANK]
    if not record.get("photos"):
        problems["photos"] = ["must include at least one photo"]
    local, rates = shipping_rates(record)
    if not rates and not local:
        problems["shipping"] = ["rates can't be blank (or use a shipping profile)"]
    if record.get("inventory", 0) < 1:
        problems["inventory"] = ["must be greater than 0"]
    return problems


def _default_title(changes: Mapping[str, Any]) -> str:
    title = f"{changes['make']} {changes['model']}"
    if changes.get("year"):
        title += f" {changes['year']}"
    if changes.get("finish"):
        title += f" - {changes['finish']}"
    return title


def _guess_make_model(title: str) -> tuple[str, str] | None:
    lowered = title.lower()
    for make in KNOWN_MAKES:
        position = lowered.find(make.lower())
        if position >= 0:
            model = (title[:position] + title[position + len(make) :]).strip(" -")
            model = re.sub(r"\b(19|20)\d{2}\b", "", model).strip(" -")
            if model:
                return make, model
    return None


def _shipping_for(listing: Record, country_code: str) -> int:
    _, rates = shipping_rates(listing)
    by_region = {rate["region_code"]: rate["amount_cents"] for rate in rates}
    if country_code == "US":
        candidates = ["US", "US_CON"]
    elif country_code in EU_COUNTRIES:
        candidates = ["EUR_EU"]
    else:
        candidates = [country_code]
    for region in [*candidates, "XX"]:
        if region in by_region:
            return by_region[region]
    return next(iter(by_region.values()), 0)
