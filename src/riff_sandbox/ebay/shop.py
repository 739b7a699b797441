"""The eBay seller's state and what the API (and the simulated buyer and seller) can do to it.

Every method runs inside one store transaction and collects the notifications to send after it commits.
Records are plain JSON documents; rendering to XML happens in ``render`` (it needs the request's host).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.ebay import errors
from riff_sandbox.ebay.consts import (
    APP_ID,
    CARRIERS,
    CATEGORIES,
    CERT_ID,
    CONDITIONS,
    CURRENCY,
    DEFAULT_DAILY_LIMIT,
    DEV_ID,
    END_REASONS,
    FIRST_ITEM_ID,
    FIRST_SALES_RECORD,
    FIRST_TRANSACTION_ID,
    MAX_PICTURES,
    MAX_TITLE_CHARS,
    SHIPPING_PROFILE_COSTS,
    SITE_ID_UK,
    SITES,
)
from riff_sandbox.ebay.xml import EbayApiError, Issue, iso
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.platform import ControlError
from riff_sandbox.toolkit.store import Transaction

Record = dict[str, Any]

ITEMS = "items"
ORDERS = "orders"
UUIDS = "uuids"
USAGE = "usage"
CONTROL = "_ebay_control"
GTC_PERIOD = timedelta(days=30)  # a GTC listing reports an EndTime ~30 days out and renews itself


class EbayOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(APP_ID, description="OAuth client id (App ID) the token endpoint accepts")
    client_secret: str = Field(CERT_ID, description="OAuth client secret (Cert ID)")
    dev_id: str = Field(DEV_ID, description="Dev ID: part of the notification signature")
    access_token_ttl_seconds: int = Field(7200, ge=1, description="Lifetime of issued access tokens")
    aggregate_daily_limit: int = Field(DEFAULT_DAILY_LIMIT, ge=0, description="Calls per UTC day, all calls")
    daily_call_limits: dict[str, int] = Field(default_factory=dict, description="Calls per UTC day, per call")
    require_headers: bool = Field(True, description="Refuse calls without SITEID / COMPATIBILITY-LEVEL")
    site_id: int = Field(SITE_ID_UK, description="The seller's site")
    tokens: list[str] = Field(default_factory=list, description="Extra never-expiring user tokens")
    refresh_tokens: list[str] = Field(default_factory=list, description="Extra refresh tokens to accept")


@dataclasses.dataclass(frozen=True)
class Event:
    """A Platform Notification to send: ``item`` always, the transaction and its order for sales."""

    topic: str
    item: Record
    order: Record | None = None
    transaction: Record | None = None


def money_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")


def available(item: Record) -> int:
    return max(int(item["quantity"]) - int(item["quantity_sold"]), 0)


class EbayShop:
    def __init__(self, tx: Transaction, options: EbayOptions, now: datetime) -> None:
        self.tx = tx
        self.options = options
        self.now = now
        self.events: list[Event] = []

    @property
    def site(self) -> tuple[str, str, str]:
        return SITES.get(self.options.site_id, SITES[SITE_ID_UK])

    @property
    def currency(self) -> str:
        return self.site[1] if self.options.site_id in SITES else CURRENCY

    # Storage -------------------------------------------------------------------------------------

    def item(self, item_id: str | None) -> Record | None:
        return self.tx.get(ITEMS, item_id) if item_id else None

    def items(self) -> list[Record]:
        return self.tx.list(ITEMS)

    def save_item(self, record: Record) -> None:
        self.tx.put(ITEMS, record["item_id"], record)

    def item_by_sku(self, sku: str) -> Record | None:
        """The active listing with this SKU, else the most recently started one. Only listings tracked by
        SKU (``InventoryTrackingMethod=SKU``) can be found by SKU."""
        matches = [r for r in self.items() if r.get("sku") == sku and r.get("tracking_method") == "SKU"]
        active = [r for r in matches if r["status"] == "Active"]
        if active:
            return active[-1]
        return max(matches, key=lambda r: r["start_time"]) if matches else None

    def require_item(self, item_id: str | None, sku: str | None = None) -> Record:
        record = self.item(item_id) if item_id else (self.item_by_sku(sku) if sku else None)
        if record is None:
            raise EbayApiError(errors.item_not_found(item_id or sku or ""))
        return record

    def orders(self) -> list[Record]:
        return self.tx.list(ORDERS)

    def order(self, order_id: str) -> Record | None:
        return self.tx.get(ORDERS, order_id)

    def save_order(self, record: Record) -> None:
        self.tx.put(ORDERS, record["order_id"], record)

    def order_for_line(self, reference: str) -> Record | None:
        """An order by OrderID or by one of its OrderLineItemIDs (ItemID-TransactionID)."""
        found = self.order(reference)
        if found is not None:
            return found
        for order in self.orders():
            if any(f"{t['item_id']}-{t['transaction_id']}" == reference for t in order["transactions"]):
                return order
        return None

    # Listings ------------------------------------------------------------------------------------

    def validate_listing(self, fields: Mapping[str, Any], *, creating: bool) -> list[Issue]:
        """Field problems of an add (all fields) or a revise (the given ones)."""
        problems: list[Issue] = []

        def given(name: str) -> bool:
            return creating or name in fields

        title = fields.get("title")
        if given("title"):
            if not title:
                problems.append(errors.invalid_input("Item.Title"))
            elif len(title) > MAX_TITLE_CHARS:
                problems.append(errors.title_too_long())
        if given("category_id") and fields.get("category_id") not in CATEGORIES:
            problems.append(errors.invalid_category(str(fields.get("category_id") or "")))
        if given("start_price"):
            price = decimal(fields.get("start_price"))
            if price is None or price <= 0:
                problems.append(errors.invalid_input("Item.StartPrice"))
        if given("currency") and creating and fields.get("currency") != self.currency:
            problems.append(errors.invalid_input("Item.Currency"))
        if given("condition_id") and fields.get("condition_id") not in CONDITIONS:
            problems.append(errors.invalid_input("Item.ConditionID"))
        if given("quantity"):
            quantity = fields.get("quantity")
            if not isinstance(quantity, int) or quantity < (1 if creating else 0):
                problems.append(errors.invalid_input("Item.Quantity"))
        if given("pictures"):
            pictures = fields.get("pictures") or []
            if (
                not pictures
                or len(pictures) > MAX_PICTURES
                or not all(p.startswith("http") for p in pictures)
            ):
                problems.append(errors.invalid_input("Item.PictureDetails.PictureURL"))
        if given("specifics"):
            names = {name.lower() for name, _ in fields.get("specifics") or []}
            if "brand" not in names:
                problems.append(errors.missing_item_specific("Brand"))
        if creating:
            if not fields.get("description"):
                problems.append(errors.invalid_input("Item.Description"))
            if not (fields.get("profiles") or {}).get("shipping") and not fields.get("shipping"):
                problems.append(errors.invalid_input("Item.ShippingDetails"))
            if not (fields.get("profiles") or {}).get("return") and not fields.get("return_policy"):
                problems.append(errors.invalid_input("Item.ReturnPolicy"))
        return problems

    def add_item(self, fields: Mapping[str, Any]) -> tuple[Record, list[Issue]]:
        problems = self.validate_listing(fields, creating=True)
        if problems:
            raise EbayApiError(*problems)
        uuid = fields.get("uuid")
        if uuid:
            owner = self.tx.get(UUIDS, uuid)
            if owner is not None:
                raise errors.duplicate_uuid(owner["item_id"])
        sku = fields.get("sku")
        if sku:
            active = next((r for r in self.items() if r.get("sku") == sku and r["status"] == "Active"), None)
            if active is not None:
                raise errors.duplicate_listing(active["title"], active["item_id"])
        item_id = str(self.tx.next_value("item_id", FIRST_ITEM_ID))
        record = self._new_item(item_id, fields, self.now)
        self.save_item(record)
        if uuid:
            self.tx.put(UUIDS, uuid, {"item_id": item_id, "at": iso(self.now)})
        self.events.append(Event("ItemListed", dict(record)))
        warnings = [] if fields.get("postal_code") else [errors.postcode_recommended()]
        return record, warnings

    def _new_item(self, item_id: str, fields: Mapping[str, Any], started: datetime) -> Record:
        return {
            "item_id": item_id,
            "sku": fields.get("sku"),
            "title": fields["title"],
            "description": fields.get("description") or "",
            "category_id": fields["category_id"],
            "condition_id": fields.get("condition_id") or "3000",
            "start_price": money_text(Decimal(fields["start_price"])),
            "currency": fields.get("currency") or self.currency,
            "quantity": int(fields.get("quantity") or 1),
            "quantity_sold": 0,
            "country": fields.get("country") or "GB",
            "location": fields.get("location") or "London",
            "postal_code": fields.get("postal_code"),
            "dispatch_time_max": fields.get("dispatch_time_max") or "3",
            "listing_duration": fields.get("listing_duration") or "GTC",
            "listing_type": fields.get("listing_type") or "FixedPriceItem",
            "pictures": list(fields.get("pictures") or []),
            "specifics": [[name, list(values)] for name, values in fields.get("specifics") or []],
            "profiles": dict(fields.get("profiles") or {}),
            "shipping": fields.get("shipping"),
            "return_policy": fields.get("return_policy"),
            "tracking_method": fields.get("tracking_method") or "ItemID",
            "uuid": fields.get("uuid"),
            "status": "Active",
            "start_time": iso(started),
            "end_time": iso(started + GTC_PERIOD),
            "ended_at": None,
            "ending_reason": None,
            "watch_count": 0,
            "revised_at": None,
        }

    def revise_item(self, record: Record, fields: Mapping[str, Any]) -> tuple[Record, list[Issue]]:
        if record["status"] != "Active":
            raise EbayApiError(errors.revise_ended(record["item_id"]))
        problems = self.validate_listing(fields, creating=False)
        if problems:
            raise EbayApiError(*problems)
        for key in ("title", "description", "category_id", "condition_id", "pictures", "profiles", "sku"):
            if key in fields:
                record[key] = fields[key]
        if "specifics" in fields:
            record["specifics"] = [[name, list(values)] for name, values in fields["specifics"]]
        if "start_price" in fields:
            record["start_price"] = money_text(Decimal(fields["start_price"]))
        if "quantity" in fields:
            record["quantity"] = record["quantity_sold"] + int(fields["quantity"])
        self._after_revision(record)
        return record, []

    def revise_inventory(
        self, item_id: str | None, sku: str | None, price: str | None, quantity: str | None
    ) -> tuple[Record, list[Issue]]:
        record = self.require_item(item_id, sku)
        if record["status"] != "Active":
            raise EbayApiError(errors.revise_ended(record["item_id"]))
        new_price = decimal(price) if price is not None else None
        if price is not None and (new_price is None or new_price <= 0):
            raise EbayApiError(
                dataclasses.replace(
                    errors.invalid_input("StartPrice"), parameters=("StartPrice", record["item_id"])
                )
            )
        new_quantity: int | None = None
        if quantity is not None:
            try:
                new_quantity = int(quantity)
            except ValueError:
                new_quantity = -1
            if new_quantity < 0:
                raise EbayApiError(
                    dataclasses.replace(
                        errors.invalid_input("Quantity"), parameters=("Quantity", record["item_id"])
                    )
                )
        same_price = new_price is None or Decimal(record["start_price"]) == new_price
        same_quantity = new_quantity is None or available(record) == new_quantity
        if same_price and same_quantity:
            return record, [errors.redundant_revision()]
        if new_price is not None:
            record["start_price"] = money_text(new_price)
        if new_quantity is not None:
            record["quantity"] = record["quantity_sold"] + new_quantity
        self._after_revision(record)
        return record, []

    def _after_revision(self, record: Record) -> None:
        record["revised_at"] = iso(self.now)
        if available(record) == 0 and record["status"] == "Active":
            # Quantity 0 ends a fixed-price listing (unless the seller uses out-of-stock control).
            self._close(record, "NotAvailable" if record["quantity_sold"] == 0 else None)
        self.save_item(record)
        self.events.append(Event("ItemRevised", dict(record)))

    def _close(self, record: Record, reason: str | None) -> None:
        sold_out = record["quantity_sold"] > 0 and available(record) == 0
        record.update(
            status="Completed" if sold_out else "Ended",
            ended_at=iso(self.now),
            end_time=iso(self.now),
            ending_reason=reason,
        )
        self.events.append(Event("ItemClosed", dict(record)))

    def end_item(self, record: Record, reason: str | None) -> Record:
        if reason not in END_REASONS:
            raise EbayApiError(errors.invalid_input("EndingReason"))
        if record["status"] != "Active":
            raise EbayApiError(errors.already_closed(record["item_id"]))
        self._close(record, reason)
        self.save_item(record)
        return record

    def seller_edit(self, record: Record, changes: Mapping[str, Any]) -> Record:
        """The seller edits the listing on the eBay website (not through the API)."""
        allowed = {"title", "price", "quantity", "description", "status"}
        unknown = set(changes) - allowed
        if unknown:
            raise ControlError(422, "invalid_edit", f"unsupported fields: {', '.join(sorted(unknown))}")
        if changes.get("status") == "Ended":
            if record["status"] == "Active":
                self._close(record, "NotAvailable")
                self.save_item(record)
            return record
        fields: dict[str, Any] = {}
        if "title" in changes:
            fields["title"] = str(changes["title"])
        if "description" in changes:
            fields["description"] = str(changes["description"])
        if "price" in changes:
            fields["start_price"] = str(changes["price"])
        if "quantity" in changes:
            fields["quantity"] = int(changes["quantity"])
        try:
            return self.revise_item(record, fields)[0]
        except EbayApiError as error:
            raise ControlError(422, "invalid_edit", str(error)) from None

    # Orders --------------------------------------------------------------------------------------

    def purchase(
        self, record: Record, quantity: int, *, buyer_index: int | None = None, paid: bool = True
    ) -> Record:
        if record["status"] != "Active":
            raise ControlError(409, "listing_not_active", f"item {record['item_id']} is {record['status']}")
        if quantity < 1:
            raise ControlError(422, "invalid_quantity", "quantity must be at least 1")
        if available(record) < quantity:
            raise ControlError(409, "insufficient_quantity", f"only {available(record)} left")
        order = self.new_order(record, quantity, buyer_index=buyer_index, paid=paid)
        self.save_order(order)
        transaction = order["transactions"][0]
        record["quantity_sold"] += quantity
        if available(record) == 0:
            self._close(record, None)  # sold out: the listing ends by itself
        self.save_item(record)
        self.events.append(Event("FixedPriceTransaction", dict(record), dict(order), dict(transaction)))
        if paid:
            self.events.append(Event("AuctionCheckoutComplete", dict(record), dict(order), dict(transaction)))
        if record["status"] == "Completed":
            self.events.append(Event("ItemSold", dict(record), dict(order), dict(transaction)))
        return order

    def new_order(self, item: Record, quantity: int, *, buyer_index: int | None, paid: bool) -> Record:
        sequence = self.tx.next_value("order_seq", 1)
        order_id = f"26-{13455 + sequence:05d}-{(sequence * 7919) % 100000:05d}"
        transaction_id = str(self.tx.next_value("transaction_id", FIRST_TRANSACTION_ID))
        if buyer_index is None:
            buyer_index = self.tx.next_value("buyer_pick", 0)
        buyer = demo.BUYERS[buyer_index % len(demo.BUYERS)]
        price = Decimal(item["start_price"])
        subtotal = price * quantity
        shipping = self._shipping_cost(item)
        now = iso(self.now)
        return {
            "order_id": order_id,
            "status": "Completed" if paid else "Active",
            "created": now,
            "modified": now,
            "paid_time": now if paid else None,
            "shipped_time": None,
            "currency": item["currency"],
            "subtotal": money_text(subtotal),
            "shipping_cost": money_text(shipping),
            "total": money_text(subtotal + shipping),
            "shipping_service": (item.get("shipping") or {}).get("service") or "UK_OtherCourier24",
            "sales_record": self.tx.next_value("sales_record", FIRST_SALES_RECORD),
            "buyer_user_id": f"{buyer.first_name[0].lower()}***{buyer.last_name[-1].lower()}",
            "buyer": {"first_name": buyer.first_name, "last_name": buyer.last_name},
            "address": {
                "name": buyer.name,
                "street1": buyer.street_address,
                "city": buyer.locality,
                "region": buyer.region,
                "postal_code": buyer.postal_code,
                "country": buyer.country_code,
                "country_name": buyer.country_name,
            },
            "transactions": [
                {
                    "transaction_id": transaction_id,
                    "item_id": item["item_id"],
                    "sku": item.get("sku"),
                    "title": item["title"],
                    "condition_id": item["condition_id"],
                    "quantity": quantity,
                    "price": money_text(price),
                    "created": now,
                }
            ],
            "tracking": [],
        }

    def _shipping_cost(self, item: Record) -> Decimal:
        profile = (item.get("profiles") or {}).get("shipping")
        if profile in SHIPPING_PROFILE_COSTS:
            return Decimal(SHIPPING_PROFILE_COSTS[profile])
        cost = decimal((item.get("shipping") or {}).get("cost"))
        return cost if cost is not None else Decimal("0")

    def complete_sale(
        self,
        order: Record,
        *,
        shipped: bool,
        carrier: str | None,
        number: str | None,
        shipped_time: str | None,
    ) -> Record:
        if shipped and order["status"] != "Completed":
            raise EbayApiError(errors.order_not_paid(order["order_id"]))
        if carrier is not None and carrier not in CARRIERS:
            raise EbayApiError(errors.invalid_input("Shipment.ShipmentTrackingDetails.ShippingCarrierUsed"))
        if (carrier is None) != (number is None):
            raise EbayApiError(errors.invalid_input("Shipment.ShipmentTrackingDetails"))
        if carrier is not None and number is not None:
            order["tracking"] = [*order["tracking"], {"carrier": carrier, "number": number}]
        if shipped:
            order["shipped_time"] = shipped_time or iso(self.now)
        order["modified"] = iso(self.now)
        self.save_order(order)
        return order

    def update_order(self, order: Record, changes: Mapping[str, Any]) -> Record:
        """Buyer or eBay side changes (control API): pay, cancel."""
        status = changes.get("status")
        if status not in ("paid", "cancelled"):
            raise ControlError(422, "invalid_status", "status must be 'paid' or 'cancelled'")
        now = iso(self.now)
        if status == "paid" and order["status"] == "Active":
            order.update(status="Completed", paid_time=now)
            for transaction in order["transactions"]:
                item = self.item(transaction["item_id"])
                if item is not None:
                    self.events.append(
                        Event("AuctionCheckoutComplete", dict(item), dict(order), dict(transaction))
                    )
        elif status == "cancelled":
            order["status"] = "Cancelled"
        order["modified"] = now
        self.save_order(order)
        return order

    # Usage ---------------------------------------------------------------------------------------

    def settings(self) -> Record:
        return self.tx.get(CONTROL, "settings") or {}

    def count_call(self, call_name: str) -> tuple[int, int]:
        """Count one call today (UTC); returns (this call's count, all calls' count)."""
        day = self.now.date().isoformat()
        usage = self.tx.get(USAGE, day) or {}
        usage[call_name] = int(usage.get(call_name, 0)) + 1
        self.tx.put(USAGE, day, usage)
        return usage[call_name], sum(int(v) for v in usage.values())

    def usage_today(self) -> dict[str, int]:
        return {k: int(v) for k, v in (self.tx.get(USAGE, self.now.date().isoformat()) or {}).items()}

    def limits(self) -> tuple[int, dict[str, int]]:
        settings = self.settings()
        aggregate = settings.get("aggregate_daily_limit", self.options.aggregate_daily_limit)
        per_call = {**self.options.daily_call_limits, **(settings.get("daily_call_limits") or {})}
        return int(aggregate), {str(k): int(v) for k, v in per_call.items()}
