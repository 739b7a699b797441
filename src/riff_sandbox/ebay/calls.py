"""One function per Trading API call: read the request XML, change the shop, build the response body.

Each returns an ``Outcome`` (the body elements after Version/Build, plus warnings); a refused call raises
``EbayApiError`` and the whole transaction is rolled back.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from riff_sandbox.ebay import errors
from riff_sandbox.ebay.consts import (
    MAX_INVENTORY_STATUS,
    MAX_ORDERS_PAGE,
    MAX_SELLING_PAGE,
    NOTIFICATION_EVENTS,
)
from riff_sandbox.ebay.render import full_item, order_node, summary_item
from riff_sandbox.ebay.shop import EbayShop, Record, available
from riff_sandbox.ebay.xml import (
    EbayApiError,
    Element,
    Issue,
    el,
    find,
    findall,
    iso,
    money,
    parse_time,
    raw_text,
    sub,
    text,
)

FEES = ("InsertionFee", "ListingFee", "SubtitleFee", "GalleryFee", "BoldFee")


@dataclasses.dataclass
class Outcome:
    body: list[Element] = dataclasses.field(default_factory=list)
    warnings: list[Issue] = dataclasses.field(default_factory=list)
    errors: list[Issue] = dataclasses.field(default_factory=list)  # item errors of a PartialFailure
    build: str = "other"

    @property
    def ack(self) -> str:
        if self.errors:
            return "PartialFailure"
        return "Warning" if self.warnings else "Success"


@dataclasses.dataclass(frozen=True)
class CallContext:
    shop: EbayShop
    base_url: str
    now: datetime
    register_notifications: Callable[[str, list[str]], None]


Handler = Callable[[CallContext, Element], Outcome]


# --- reading Item fields -----------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return -1


def item_fields(item: Element) -> dict[str, Any]:
    """The Item fields present in a request (a revise sends only the changed ones)."""
    fields: dict[str, Any] = {}
    simple = {
        "Title": "title",
        "SKU": "sku",
        "Country": "country",
        "Currency": "currency",
        "Location": "location",
        "PostalCode": "postal_code",
        "DispatchTimeMax": "dispatch_time_max",
        "ListingDuration": "listing_duration",
        "ListingType": "listing_type",
        "ConditionID": "condition_id",
        "StartPrice": "start_price",
        "UUID": "uuid",
        "InventoryTrackingMethod": "tracking_method",
    }
    for tag, key in simple.items():
        if find(item, tag) is not None:
            fields[key] = text(item, tag)
    if find(item, "Description") is not None:
        fields["description"] = raw_text(item, "Description")
    if find(item, "PrimaryCategory") is not None:
        fields["category_id"] = text(item, "PrimaryCategory/CategoryID")
    if find(item, "Quantity") is not None:
        fields["quantity"] = _int(text(item, "Quantity"))
    if find(item, "PictureDetails") is not None:
        fields["pictures"] = [
            node.text.strip() for node in findall(item, "PictureDetails/PictureURL") if node.text
        ]
    if find(item, "ItemSpecifics") is not None:
        fields["specifics"] = [
            (text(pair, "Name") or "", [v.text.strip() for v in findall(pair, "Value") if v.text])
            for pair in findall(item, "ItemSpecifics/NameValueList")
        ]
    if find(item, "SellerProfiles") is not None:
        fields["profiles"] = {
            key: value
            for key, value in {
                "shipping": text(item, "SellerProfiles/SellerShippingProfile/ShippingProfileID"),
                "return": text(item, "SellerProfiles/SellerReturnProfile/ReturnProfileID"),
                "payment": text(item, "SellerProfiles/SellerPaymentProfile/PaymentProfileID"),
            }.items()
            if value
        }
    if find(item, "ShippingDetails") is not None:
        fields["shipping"] = {
            "service": text(item, "ShippingDetails/ShippingServiceOptions/ShippingService"),
            "cost": text(item, "ShippingDetails/ShippingServiceOptions/ShippingServiceCost"),
        }
    if find(item, "ReturnPolicy") is not None:
        fields["return_policy"] = {
            "accepted": text(item, "ReturnPolicy/ReturnsAcceptedOption"),
            "within": text(item, "ReturnPolicy/ReturnsWithinOption"),
        }
    return fields


def _require_item_element(request: Element) -> Element:
    item = find(request, "Item")
    if item is None:
        raise EbayApiError(errors.invalid_input("Item"))
    return item


def _fees(currency: str) -> Element:
    fees = el("Fees")
    for name in FEES:
        fee = sub(fees, "Fee")
        sub(fee, "Name", name)
        money(fee, "Fee", "0.0", currency)
    return fees


def _listing_answer(record: Record) -> list[Element]:
    body = [el("ItemID", record["item_id"])]
    if record.get("sku"):
        body.append(el("SKU", record["sku"]))
    body += [
        el("StartTime", record["start_time"]),
        el("EndTime", record["end_time"]),
        _fees(record["currency"]),
    ]
    return body


# --- listings ----------------------------------------------------------------------------------------


def add_fixed_price_item(ctx: CallContext, request: Element) -> Outcome:
    record, warnings = ctx.shop.add_item(item_fields(_require_item_element(request)))
    return Outcome(_listing_answer(record), warnings=warnings, build="listing")


def verify_add_fixed_price_item(ctx: CallContext, request: Element) -> Outcome:
    fields = item_fields(_require_item_element(request))
    problems = ctx.shop.validate_listing(fields, creating=True)
    if problems:
        raise EbayApiError(*problems)
    return Outcome([_fees(ctx.shop.currency)], build="listing")


def revise_fixed_price_item(ctx: CallContext, request: Element) -> Outcome:
    item = _require_item_element(request)
    record = ctx.shop.require_item(text(item, "ItemID"), text(item, "SKU"))
    fields = item_fields(item)
    if not text(item, "ItemID"):
        fields.pop("sku", None)  # the SKU identified the item; it is not a change
    record, warnings = ctx.shop.revise_item(record, fields)
    return Outcome(_listing_answer(record), warnings=warnings, build="listing")


def revise_inventory_status(ctx: CallContext, request: Element) -> Outcome:
    statuses = findall(request, "InventoryStatus")
    if not statuses:
        raise EbayApiError(errors.invalid_input("InventoryStatus"))
    if len(statuses) > MAX_INVENTORY_STATUS:
        raise errors.too_many_statuses()
    outcome = Outcome(build="listing")
    echoed: list[Record] = []
    for status in statuses:
        item_id, sku = text(status, "ItemID"), text(status, "SKU")
        try:
            record, warnings = ctx.shop.revise_inventory(
                item_id, sku, text(status, "StartPrice"), text(status, "Quantity")
            )
        except EbayApiError as error:
            outcome.errors += [
                dataclasses.replace(i, parameters=(*i.parameters, *(p for p in (item_id, sku) if p)))
                for i in error.issues
            ]
            continue
        outcome.warnings += warnings
        echoed.append(record)
    if not echoed:
        raise EbayApiError(*outcome.errors)
    for record in echoed:
        node = el("InventoryStatus")
        if record.get("sku"):
            sub(node, "SKU", record["sku"])
        sub(node, "ItemID", record["item_id"])
        money(node, "StartPrice", record["start_price"], record["currency"])
        sub(node, "Quantity", available(record))
        outcome.body.append(node)
    for record in echoed:
        fees = el("Fees")
        sub(fees, "ItemID", record["item_id"])
        fee = sub(fees, "Fee")
        sub(fee, "Name", "ListingFee")
        money(fee, "Fee", "0.0", record["currency"])
        outcome.body.append(fees)
    return outcome


def end_fixed_price_item(ctx: CallContext, request: Element) -> Outcome:
    record = ctx.shop.require_item(text(request, "ItemID"), text(request, "SKU"))
    record = ctx.shop.end_item(record, text(request, "EndingReason"))
    body = [el("EndTime", record["end_time"])]
    if record.get("sku") and text(request, "SKU"):
        body.append(el("SKU", record["sku"]))
    return Outcome(body, build="listing")


def get_item(ctx: CallContext, request: Element) -> Outcome:
    record = ctx.shop.require_item(text(request, "ItemID"), text(request, "SKU"))
    return Outcome([full_item(record, ctx.base_url, ctx.now)], build="listing")


# --- GetMyeBaySelling --------------------------------------------------------------------------------


def _page(container: Element | None, default_size: int, maximum: int) -> tuple[int, int]:
    size = _int(text(container, "Pagination/EntriesPerPage")) or default_size
    number = _int(text(container, "Pagination/PageNumber")) or 1
    if size < 1 or size > maximum:
        raise EbayApiError(errors.invalid_input("Pagination.EntriesPerPage"))
    if number < 1:
        raise EbayApiError(errors.invalid_input("Pagination.PageNumber"))
    return size, number


def _pagination(total: int, size: int) -> Element:
    node = el("PaginationResult")
    sub(node, "TotalNumberOfPages", math.ceil(total / size) if total else 0)
    sub(node, "TotalNumberOfEntries", total)
    return node


def _included(request: Element, name: str) -> Element | None:
    container = find(request, name)
    if container is None or text(container, "Include") == "false":
        return None
    return container


def _duration(container: Element) -> timedelta:
    days = _int(text(container, "DurationInDays"))
    if days is None:
        return timedelta(days=31)
    if not 0 <= days <= 60:
        raise EbayApiError(errors.invalid_input("DurationInDays"))
    return timedelta(days=days)


def get_my_ebay_selling(ctx: CallContext, request: Element) -> Outcome:
    outcome = Outcome(build="selling")
    lists = [
        name for name in ("ActiveList", "SoldList", "UnsoldList") if _included(request, name) is not None
    ]
    if not any(find(request, name) is not None for name in ("ActiveList", "SoldList", "UnsoldList")):
        lists = ["ActiveList"]
    items = sorted(ctx.shop.items(), key=lambda r: (r["start_time"], r["item_id"]))
    for name in lists:
        container = find(request, name)
        size, number = _page(container, 25, MAX_SELLING_PAGE)
        node = el(name)
        if name == "SoldList":
            since = iso(ctx.now - _duration(container)) if container is not None else ""
            sold = _sold_transactions(ctx.shop, since)
            page = sold[(number - 1) * size : number * size]
            array = sub(node, "OrderTransactionArray")
            for order, transaction in page:
                wrapper = sub(array, "OrderTransaction")
                wrapper.append(_sold_transaction(ctx, order, transaction))
            node.append(_pagination(len(sold), size))
        else:
            if name == "ActiveList":
                selected = [r for r in items if r["status"] == "Active"]
            else:
                since = iso(ctx.now - _duration(container)) if container is not None else ""
                selected = [r for r in items if r["status"] == "Ended" and (r.get("ended_at") or "") >= since]
            page_items = selected[(number - 1) * size : number * size]
            array = sub(node, "ItemArray")
            for record in page_items:
                array.append(summary_item(record, ctx.base_url, ctx.now))
            node.append(_pagination(len(selected), size))
        outcome.body.append(node)
    return outcome


def _sold_transactions(shop: EbayShop, since: str) -> list[tuple[Record, Record]]:
    found = [
        (order, transaction)
        for order in shop.orders()
        for transaction in order["transactions"]
        if transaction["created"] >= since and order["status"] != "Cancelled"
    ]
    found.sort(key=lambda pair: (pair[1]["created"], pair[1]["transaction_id"]))
    return found


def _sold_transaction(ctx: CallContext, order: Record, transaction: Record) -> Element:
    node = el("Transaction")
    sub(sub(node, "Buyer"), "UserID", order["buyer_user_id"])
    if order.get("shipped_time"):
        sub(node, "ShippedTime", order["shipped_time"])
    money(node, "TotalPrice", transaction["price"], order["currency"])
    record = ctx.shop.item(transaction["item_id"])
    if record is not None:
        node.append(summary_item(record, ctx.base_url, ctx.now))
    sub(node, "QuantityPurchased", transaction["quantity"])
    sub(node, "TransactionID", transaction["transaction_id"])
    sub(node, "OrderLineItemID", f"{transaction['item_id']}-{transaction['transaction_id']}")
    sub(node, "CreatedDate", transaction["created"])
    return node


# --- orders ------------------------------------------------------------------------------------------

_ORDER_STATUS_FILTERS = {"All", "Active", "Completed", "Cancelled", "CancelPending", "Inactive", "Shipped"}


def get_orders(ctx: CallContext, request: Element) -> Outcome:
    size, number = _page(request, MAX_ORDERS_PAGE, MAX_ORDERS_PAGE)
    status_filter = text(request, "OrderStatus") or "All"
    if status_filter not in _ORDER_STATUS_FILTERS:
        raise EbayApiError(errors.invalid_input("OrderStatus"))
    orders = ctx.shop.orders()
    ids = [node.text.strip() for node in findall(request, "OrderIDArray/OrderID") if node.text]
    if ids:
        wanted = set(ids)
        orders = [o for o in orders if o["order_id"] in wanted]
    else:
        orders = [o for o in orders if _in_window(ctx, request, o)]
    if status_filter == "Shipped":
        orders = [o for o in orders if o.get("shipped_time")]
    elif status_filter != "All":
        orders = [o for o in orders if o["status"] == status_filter]
    orders.sort(key=lambda o: (o["created"], o["order_id"]))
    total = len(orders)
    page = orders[(number - 1) * size : number * size]
    array = el("OrderArray")
    for order in page:
        array.append(order_node(order))
    has_more = number * size < total
    body = [
        _pagination(total, size),
        el("HasMoreOrders", "true" if has_more else "false"),
        array,
        el("OrdersPerPage", size),
        el("PageNumber", number),
        el("ReturnedOrderCountActual", len(page)),
    ]
    return Outcome(body, build="orders")


def _in_window(ctx: CallContext, request: Element, order: Record) -> bool:
    """ModTimeFrom/To, CreateTimeFrom/To or NumberOfDays; one of them (or OrderIDArray) is required."""
    mod_from, mod_to = text(request, "ModTimeFrom"), text(request, "ModTimeTo")
    create_from, create_to = text(request, "CreateTimeFrom"), text(request, "CreateTimeTo")
    days = _int(text(request, "NumberOfDays"))
    if days is not None:
        if not 1 <= days <= 30:
            raise EbayApiError(errors.invalid_input("NumberOfDays"))
        return order["modified"] >= iso(ctx.now - timedelta(days=days))
    if mod_from or mod_to:
        return _between(order["modified"], mod_from, mod_to, "ModTimeFrom", ctx.now)
    if create_from or create_to:
        return _between(order["created"], create_from, create_to, "CreateTimeFrom", ctx.now)
    raise EbayApiError(errors.invalid_input("CreateTimeFrom"))


def _between(value: str, start: str | None, end: str | None, tag: str, now: datetime) -> bool:
    lower = parse_time(start) if start else None
    upper = parse_time(end) if end else now
    if (start and lower is None) or upper is None or (lower is not None and lower > upper):
        raise EbayApiError(errors.invalid_input(tag))
    moment = parse_time(value)
    assert moment is not None
    return (lower is None or moment >= lower) and moment <= upper


def complete_sale(ctx: CallContext, request: Element) -> Outcome:
    reference = text(request, "OrderID") or text(request, "OrderLineItemID")
    if not reference and text(request, "ItemID") and text(request, "TransactionID"):
        reference = f"{text(request, 'ItemID')}-{text(request, 'TransactionID')}"
    if not reference:
        raise EbayApiError(errors.invalid_input("OrderID"))
    order = ctx.shop.order_for_line(reference)
    if order is None:
        raise EbayApiError(errors.order_not_found(reference))
    shipped_time = text(request, "Shipment/ShippedTime")
    moment = parse_time(shipped_time) if shipped_time else None
    if shipped_time and (moment is None or moment > ctx.now + timedelta(days=3)):
        raise EbayApiError(errors.invalid_input("Shipment.ShippedTime"))  # at most 3 days ahead
    ctx.shop.complete_sale(
        order,
        shipped=text(request, "Shipped") == "true" or find(request, "Shipment") is not None,
        carrier=text(request, "Shipment/ShipmentTrackingDetails/ShippingCarrierUsed"),
        number=text(request, "Shipment/ShipmentTrackingDetails/ShipmentTrackingNumber"),
        shipped_time=iso(moment) if moment else None,
    )
    return Outcome(build="orders")


# --- account -----------------------------------------------------------------------------------------


def get_api_access_rules(ctx: CallContext, request: Element) -> Outcome:
    aggregate, per_call = ctx.shop.limits()
    usage = ctx.shop.usage_today()
    outcome = Outcome()

    def rule(name: str, used: int, limit: int, counts: bool) -> Element:
        node = el("ApiAccessRule")
        sub(node, "CallName", name)
        sub(node, "CountsTowardAggregate", "true" if counts else "false")
        sub(node, "DailyHardLimit", limit)
        sub(node, "DailySoftLimit", limit)
        sub(node, "DailyUsage", used)
        sub(node, "HourlyHardLimit", limit)
        sub(node, "HourlySoftLimit", limit)
        sub(node, "HourlyUsage", used)
        sub(node, "Period", "Daily")
        sub(node, "PeriodicHardLimit", limit)
        sub(node, "PeriodicSoftLimit", limit)
        sub(node, "PeriodicUsage", used)
        sub(node, "PeriodicStartDate", iso(ctx.now.replace(hour=0, minute=0, second=0, microsecond=0)))
        sub(node, "ModTime", iso(ctx.now))
        sub(node, "RuleCurrentStatus", "NotSet" if used < limit else "DailyLimitExceeded")
        sub(node, "RuleStatus", "RuleOn")
        return node

    outcome.body.append(rule("ApplicationAggregate", sum(usage.values()), aggregate, True))
    for name in sorted(set(usage) | set(per_call)):
        outcome.body.append(rule(name, usage.get(name, 0), per_call.get(name, aggregate), True))
    return outcome


def get_ebay_official_time(ctx: CallContext, request: Element) -> Outcome:
    return Outcome()


def set_notification_preferences(ctx: CallContext, request: Element) -> Outcome:
    url = text(request, "ApplicationDeliveryPreferences/ApplicationURL")
    enabled = [
        text(node, "EventType") or ""
        for node in findall(request, "UserDeliveryPreferenceArray/NotificationEnable")
        if text(node, "EventEnable") == "Enable"
    ]
    unknown = [event for event in enabled if event not in NOTIFICATION_EVENTS]
    if unknown:
        raise EbayApiError(errors.invalid_input("NotificationEnable.EventType"))
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise EbayApiError(errors.invalid_input("ApplicationDeliveryPreferences.ApplicationURL"))
        ctx.register_notifications(url, enabled)
    return Outcome()


HANDLERS: dict[str, Handler] = {
    "AddFixedPriceItem": add_fixed_price_item,
    "VerifyAddFixedPriceItem": verify_add_fixed_price_item,
    "ReviseFixedPriceItem": revise_fixed_price_item,
    "ReviseInventoryStatus": revise_inventory_status,
    "EndFixedPriceItem": end_fixed_price_item,
    "GetItem": get_item,
    "GetMyeBaySelling": get_my_ebay_selling,
    "GetOrders": get_orders,
    "CompleteSale": complete_sale,
    "GetApiAccessRules": get_api_access_rules,
    "GeteBayOfficialTime": get_ebay_official_time,
    "SetNotificationPreferences": set_notification_preferences,
}
# Calls that do not count against the daily quota (eBay's usage report itself).
UNCOUNTED_CALLS = frozenset({"GetApiAccessRules"})
