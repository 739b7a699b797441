"""The Discogs seller's state and what the API (and the simulated buyer and seller) can do to it.

All methods run inside one store transaction and never render JSON (that needs the request's base URL).
Listings are stored as plain documents; the release data shown inside a listing comes from
``catalogue.release(release_id)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.discogs import catalogue
from riff_sandbox.discogs.consts import (
    EDITABLE_STATUSES,
    FEE_RATE,
    FIRST_LISTING_ID,
    FIRST_ORDER_NUMBER,
    LISTING_STATUSES,
    MEDIA_CONDITIONS,
    ORDER_STATUSES,
    RATE_LIMIT_AUTHENTICATED,
    RATE_LIMIT_UNAUTHENTICATED,
    RATE_LIMIT_WINDOW_SECONDS,
    SELLER_ID,
    SELLER_NEXT_STATUSES,
    SELLER_USERNAME,
    SETTABLE_STATUSES,
    SHIPS_FROM,
    SHOP_CURRENCY,
    SLEEVE_CONDITIONS,
)
from riff_sandbox.discogs.errors import NOT_FOUND, DiscogsError
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.platform import ControlError
from riff_sandbox.toolkit.store import Transaction

Record = dict[str, Any]

LISTINGS = "listings"
ORDERS = "orders"
CENT = Decimal("0.01")
MAX_COMMENTS_CHARS = 3000  # (unverified) the website's limit on a listing's comments


class DiscogsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seller_username: str = Field(SELLER_USERNAME, description="The seller the default token belongs to")
    currency: str = Field(SHOP_CURRENCY, description="The seller's listing currency")
    rate_limit: int = Field(RATE_LIMIT_AUTHENTICATED, ge=1, description="Requests per window, authenticated")
    rate_limit_unauthenticated: int = Field(RATE_LIMIT_UNAUTHENTICATED, ge=1)
    rate_limit_window_seconds: float = Field(
        RATE_LIMIT_WINDOW_SECONDS, gt=0, description="Moving window length; tests shrink it (60 per 1 s)"
    )
    require_user_agent: bool = Field(
        True, description="Refuse requests without a User-Agent, as Discogs does"
    )
    user_agent_refusal: Literal["empty", "message"] = Field(
        "empty", description="The refusal's 403 body: empty (as Discogs blocks) or a JSON message"
    )
    tokens: list[str] = Field(default_factory=list, description="Extra personal tokens (all the seller's)")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def money(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise DiscogsError(422, f"Invalid {field}: a positive number is required.")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise DiscogsError(422, f"Invalid {field}: a positive number is required.") from None
    if not amount.is_finite() or amount <= 0:
        raise DiscogsError(422, f"Invalid {field}: a positive number is required.")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _choice(value: Any, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise DiscogsError(422, f"Invalid {field}: expected one of {', '.join(allowed)}.")
    return str(value)


class DiscogsShop:
    def __init__(self, tx: Transaction, options: DiscogsOptions, now: datetime) -> None:
        self.tx = tx
        self.options = options
        self.now = now

    # Listings ------------------------------------------------------------------------------------

    def listing(self, listing_id: int) -> Record | None:
        return self.tx.get(LISTINGS, listing_id)

    def require_listing(self, reference: str, *, visible_deleted: bool = False) -> Record:
        record = self.listing(int(reference)) if reference.isdigit() else None
        if record is None or (record["status"] == "Deleted" and not visible_deleted):
            raise DiscogsError(404, NOT_FOUND)
        return record

    def listings(self) -> list[Record]:
        return self.tx.list(LISTINGS)

    def save_listing(self, record: Record) -> None:
        self.tx.put(LISTINGS, record["id"], record)

    def _listing_fields(self, payload: Mapping[str, Any], record: Record | None) -> Record:
        """Validate a create/edit body. ``release_id``, ``condition``, ``price`` and ``status`` are required
        on both (the docs list them as required for edit too)."""
        for name in ("release_id", "condition", "price", "status"):
            if payload.get(name) in (None, ""):
                raise DiscogsError(422, f"Missing required field: {name}.")
        release_id = payload["release_id"]
        if isinstance(release_id, str) and release_id.strip().isdigit():
            release_id = int(release_id)
        if not isinstance(release_id, int) or isinstance(release_id, bool) or release_id <= 0:
            raise DiscogsError(422, "Invalid release_id: a release id is a positive whole number.")
        fields: Record = {
            "release_id": release_id,
            "condition": _choice(payload["condition"], MEDIA_CONDITIONS, "condition"),
            "price": str(money(payload["price"], "price")),
            "status": _choice(payload["status"], SETTABLE_STATUSES, "status"),
        }
        if payload.get("sleeve_condition") not in (None, ""):
            fields["sleeve_condition"] = _choice(
                payload["sleeve_condition"], SLEEVE_CONDITIONS, "sleeve_condition"
            )
        elif record is None:
            fields["sleeve_condition"] = "Not Graded"
        if "comments" in payload:
            comments = payload.get("comments") or ""
            if not isinstance(comments, str) or len(comments) > MAX_COMMENTS_CHARS:
                raise DiscogsError(422, f"Invalid comments: text of at most {MAX_COMMENTS_CHARS} characters.")
            fields["comments"] = comments
        if "allow_offers" in payload:
            if not isinstance(payload["allow_offers"], bool):
                raise DiscogsError(422, "Invalid allow_offers: expected true or false.")
            fields["allow_offers"] = payload["allow_offers"]
        for name in ("external_id", "location"):
            if name in payload:
                value = payload.get(name)
                fields[name] = None if value in (None, "") else str(value)[:255]
        if "weight" in payload:
            fields["weight"] = _auto_or_number(payload["weight"], "weight", default=_weight(release_id))
        if "format_quantity" in payload:
            fields["format_quantity"] = _auto_or_number(
                payload["format_quantity"],
                "format_quantity",
                default=catalogue.release(release_id).format_qty,
            )
        return fields

    def create_listing(self, payload: Mapping[str, Any]) -> Record:
        fields = self._listing_fields(payload, None)
        listing_id = self.tx.next_value("listing_id", FIRST_LISTING_ID)
        release = catalogue.release(fields["release_id"])
        record: Record = {
            "id": listing_id,
            "comments": "",
            "allow_offers": False,
            "external_id": None,
            "location": None,
            "weight": _weight(fields["release_id"]),
            "format_quantity": release.format_qty,
            "quantity": 1,
            "currency": self.options.currency,
            "ships_from": SHIPS_FROM,
            "posted": iso(self.now),
            "updated_at": iso(self.now),
            **fields,
        }
        self.save_listing(record)
        return record

    def edit_listing(self, record: Record, payload: Mapping[str, Any]) -> Record:
        if record["status"] not in EDITABLE_STATUSES:
            raise DiscogsError(422, f"This listing is {record['status']} and can no longer be edited.")
        fields = self._listing_fields(payload, record)
        record.update(fields)
        record["updated_at"] = iso(self.now)
        self.save_listing(record)
        return record

    def delete_listing(self, record: Record) -> None:
        if record["status"] == "Sold":
            raise DiscogsError(422, "Sold listings cannot be deleted.")
        record.update(status="Deleted", updated_at=iso(self.now))
        self.save_listing(record)

    def seller_edit(self, record: Record, changes: Mapping[str, Any]) -> Record:
        """The seller edits the listing on discogs.com (not through the API)."""
        allowed = {
            "price", "comments", "condition", "sleeve_condition", "status", "allow_offers",
            "location", "external_id", "quantity",
        }  # fmt: skip
        unknown = set(changes) - allowed
        if unknown:
            raise ControlError(422, "invalid_edit", f"unsupported fields: {', '.join(sorted(unknown))}")
        try:
            if "price" in changes:
                record["price"] = str(money(changes["price"], "price"))
            if "condition" in changes:
                record["condition"] = _choice(changes["condition"], MEDIA_CONDITIONS, "condition")
            if "sleeve_condition" in changes:
                record["sleeve_condition"] = _choice(
                    changes["sleeve_condition"], SLEEVE_CONDITIONS, "sleeve_condition"
                )
            if "status" in changes:
                status = _choice(changes["status"], LISTING_STATUSES, "status")
                if status == "Sold":
                    raise DiscogsError(422, "Use the buyer simulator (purchase) to sell a listing.")
                record["status"] = status
        except DiscogsError as error:
            raise ControlError(422, "invalid_edit", error.message) from None
        for name in ("comments", "location", "external_id"):
            if name in changes:
                record[name] = changes[name]
        if "allow_offers" in changes:
            record["allow_offers"] = bool(changes["allow_offers"])
        if "quantity" in changes:
            if not isinstance(changes["quantity"], int) or changes["quantity"] < 1:
                raise ControlError(422, "invalid_edit", "quantity must be a whole number >= 1")
            record["quantity"] = changes["quantity"]
        record["updated_at"] = iso(self.now)
        self.save_listing(record)
        return record

    # Orders --------------------------------------------------------------------------------------

    def order(self, order_id: str) -> Record | None:
        return self.tx.get(ORDERS, order_id)

    def require_order(self, order_id: str) -> Record:
        record = self.order(order_id)
        if record is None:
            raise DiscogsError(404, NOT_FOUND)
        return record

    def orders(self) -> list[Record]:
        return self.tx.list(ORDERS)

    def save_order(self, order: Record) -> None:
        self.tx.put(ORDERS, order["id"], order)

    def purchase(self, record: Record, *, buyer_index: int | None = None, paid: bool = True) -> Record:
        if record["status"] != "For Sale":
            raise ControlError(409, "listing_not_for_sale", f"listing {record['id']} is {record['status']}")
        number = self.tx.next_value("order_number", FIRST_ORDER_NUMBER)
        if buyer_index is None:
            buyer_index = self.tx.next_value("buyer_pick", 0)
        index = buyer_index % len(demo.BUYERS)
        buyer = demo.BUYERS[index]
        price = Decimal(record["price"])
        shipping = Decimal("5.00") if buyer.country_code == "US" else Decimal("18.00")
        now = iso(self.now)
        order: Record = {
            "id": f"{SELLER_ID}-{number}",
            "status": "Payment Received" if paid else "New Order",
            "created": now,
            "last_activity": now,
            "currency": record["currency"],
            "items": [
                {
                    "id": record["id"],
                    "release_id": record["release_id"],
                    "price": record["price"],
                    "media_condition": record["condition"],
                    "sleeve_condition": record.get("sleeve_condition") or "Not Graded",
                }
            ],
            "shipping": str(shipping),
            "shipping_method": "Standard",
            "fee": str((price * Decimal(FEE_RATE)).quantize(CENT, rounding=ROUND_HALF_UP)),
            "total": str(price + shipping),
            "buyer_index": index,
            "archived": False,
            "additional_instructions": "",
            "messages": [],
        }
        self.save_order(order)
        record.update(status="Sold", updated_at=now)
        self.save_listing(record)
        return order

    def set_order_status(self, order: Record, status: Any, *, by_seller: bool) -> Record:
        allowed = SELLER_NEXT_STATUSES if by_seller else ORDER_STATUSES
        if status not in allowed:
            raise DiscogsError(422, f"Invalid status: expected one of {', '.join(allowed)}.")
        order.update(status=status, last_activity=iso(self.now))
        self.save_order(order)
        return order

    def set_order_shipping(self, order: Record, value: Any) -> Record:
        order.update(shipping=str(money(value, "shipping")), last_activity=iso(self.now))
        order["total"] = str(sum((Decimal(i["price"]) for i in order["items"]), Decimal(order["shipping"])))
        self.save_order(order)
        return order

    def add_message(self, order: Record, message: Any, status: Any) -> Record:
        if message in (None, "") and status in (None, ""):
            raise DiscogsError(422, "Missing required field: message or status.")
        text = str(message or "")
        if status not in (None, ""):
            previous = order["status"]
            self.set_order_status(order, status, by_seller=True)
            prefix = f"Seller changed status from {previous} to {status}"
            text = f"{prefix}\n\n{text}" if text else prefix
        entry = {"message": text, "timestamp": iso(self.now), "from": "seller"}
        order["messages"].append(entry)
        order["last_activity"] = iso(self.now)
        self.save_order(order)
        return entry

    def update_order(self, order: Record, changes: Mapping[str, Any]) -> Record:
        """Buyer or platform side changes (control API): any status, optionally relisting the items."""
        try:
            self.set_order_status(order, changes.get("status"), by_seller=False)
        except DiscogsError as error:
            raise ControlError(422, "invalid_status", error.message) from None
        if str(changes.get("status", "")).startswith("Cancelled") and changes.get("relist"):
            for item in order["items"]:
                listing = self.listing(int(item["id"]))
                if listing is not None and listing["status"] == "Sold":
                    listing.update(status="For Sale", updated_at=iso(self.now))
                    self.save_listing(listing)
        return order


def _weight(release_id: int) -> int:
    release = catalogue.release(release_id)
    per_item = {"Vinyl": 230, "CD": 85, "Cassette": 60}.get(release.format_name, 230)
    return per_item * release.format_qty


def _auto_or_number(value: Any, field: str, *, default: int) -> int:
    if value == "auto":
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise DiscogsError(422, f'Invalid {field}: a positive number or "auto" is required.')
    return int(value)
