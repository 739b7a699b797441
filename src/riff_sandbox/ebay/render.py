"""Records -> eBay XML (items, orders, transactions) and Platform Notifications (SOAP).

Shapes follow api_samples/ebay/trading_GetMyeBaySelling_response.xml and trading_GetOrders_response.xml.
Links (ViewItemURL) point at the sandbox's own host, which serves a small item page.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

from riff_sandbox.ebay.consts import (
    CATEGORIES,
    CONDITIONS,
    EIAS_TOKEN,
    NAMESPACE,
    PAYMENT_PROFILES,
    RETURN_PROFILES,
    SELLER_USER_ID,
    SHIPPING_PROFILE_COSTS,
    SHIPPING_PROFILES,
    SOAP_NAMESPACE,
)
from riff_sandbox.ebay.shop import Record, available, slug
from riff_sandbox.ebay.xml import Element, el, envelope, iso, money, parse_time, sub


def view_url(item: Record, base_url: str) -> str:
    return f"{base_url}/itm/{slug(item['title'])}-/{item['item_id']}"


def time_left(item: Record, now: datetime) -> str:
    """ISO 8601 duration until EndTime (``P24DT15H58M46S``); PT0S once ended."""
    end = parse_time(item["end_time"])
    seconds = max(int((end - now).total_seconds()), 0) if end and item["status"] == "Active" else 0
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"P{days}DT{hours}H{minutes}M{seconds}S"


def _listing_details(parent: Element, item: Record, base_url: str, *, end_time: bool = True) -> None:
    details = sub(parent, "ListingDetails")
    sub(details, "StartTime", item["start_time"])
    if end_time:
        sub(details, "EndTime", item["end_time"])
    sub(details, "ViewItemURL", view_url(item, base_url))
    sub(
        details,
        "ViewItemURLForNaturalSearch",
        f"{base_url}/itm/{slug(item['title'])}?item={item['item_id']}&category={item['category_id']}&cmd=ViewItem",
    )


def _profiles(parent: Element, item: Record) -> None:
    profiles = item.get("profiles") or {}
    if not profiles:
        return
    node = sub(parent, "SellerProfiles")
    tables = (
        ("shipping", "SellerShippingProfile", "ShippingProfile", SHIPPING_PROFILES),
        ("return", "SellerReturnProfile", "ReturnProfile", RETURN_PROFILES),
        ("payment", "SellerPaymentProfile", "PaymentProfile", PAYMENT_PROFILES),
    )
    for key, container, prefix, names in tables:
        if profiles.get(key):
            child = sub(node, container)
            sub(child, f"{prefix}ID", profiles[key])
            sub(child, f"{prefix}Name", names.get(profiles[key], f"Policy ({profiles[key]})"))


def _shipping(parent: Element, item: Record) -> None:
    shipping = item.get("shipping")
    cost = (shipping or {}).get("cost")
    if cost is None:
        profile = (item.get("profiles") or {}).get("shipping")
        cost = SHIPPING_PROFILE_COSTS.get(profile or "")
    if cost is None:
        return
    details = sub(parent, "ShippingDetails")
    options = sub(details, "ShippingServiceOptions")
    money(options, "ShippingServiceCost", str(Decimal(cost).normalize()), item["currency"])
    sub(details, "ShippingType", "Flat")


def _price(item: Record) -> str:
    # eBay prints prices as doubles: 31999.0, 11499.5
    value = Decimal(item["start_price"])
    return f"{value:.1f}" if value == value.quantize(Decimal("0.1")) else f"{value}"


def summary_item(item: Record, base_url: str, now: datetime) -> Element:
    """An ``Item`` as GetMyeBaySelling's ActiveList/UnsoldList shows it (the real sample's fields + SKU)."""
    node = el("Item")
    money(node, "BuyItNowPrice", _price(item), item["currency"])
    sub(node, "ItemID", item["item_id"])
    # The ActiveList shows no EndTime (a GTC listing renews); ended items carry it.
    _listing_details(node, item, base_url, end_time=item["status"] != "Active")
    sub(node, "ListingDuration", item["listing_duration"])
    sub(node, "ListingType", item["listing_type"])
    sub(node, "Quantity", item["quantity"])
    status = sub(node, "SellingStatus")
    money(status, "CurrentPrice", _price(item), item["currency"])
    if item["quantity_sold"]:
        sub(status, "QuantitySold", item["quantity_sold"])
    _shipping(node, item)
    sub(node, "TimeLeft", time_left(item, now))
    sub(node, "Title", item["title"])
    sub(node, "WatchCount", item["watch_count"])
    sub(node, "QuantityAvailable", available(item))
    if item.get("sku"):
        sub(node, "SKU", item["sku"])
    if item["pictures"]:
        sub(sub(node, "PictureDetails"), "GalleryURL", item["pictures"][0])
    money(node, "ClassifiedAdPayPerLeadFee", "0.0", item["currency"])
    _profiles(node, item)
    return node


def full_item(item: Record, base_url: str, now: datetime) -> Element:
    """An ``Item`` as GetItem returns it (DetailLevel ReturnAll, IncludeItemSpecifics)."""
    node = el("Item")
    sub(node, "AutoPay", "true")
    money(node, "BuyItNowPrice", "0.0", item["currency"])
    sub(node, "Country", item["country"])
    sub(node, "Currency", item["currency"])
    sub(node, "Description", item["description"])
    sub(node, "ItemID", item["item_id"])
    _listing_details(node, item, base_url)
    sub(node, "ListingDuration", item["listing_duration"])
    sub(node, "ListingType", item["listing_type"])
    sub(node, "Location", item["location"])
    category = sub(node, "PrimaryCategory")
    sub(category, "CategoryID", item["category_id"])
    sub(
        category,
        "CategoryName",
        f"Musical Instruments & DJ Equipment:{CATEGORIES.get(item['category_id'], '')}",
    )
    sub(node, "Quantity", item["quantity"])
    seller = sub(node, "Seller")
    sub(seller, "UserID", SELLER_USER_ID)
    status = sub(node, "SellingStatus")
    money(status, "CurrentPrice", _price(item), item["currency"])
    sub(status, "QuantitySold", item["quantity_sold"])
    sub(status, "ListingStatus", item["status"])
    _shipping(node, item)
    sub(node, "Site", "UK")
    money(node, "StartPrice", _price(item), item["currency"])
    sub(node, "TimeLeft", time_left(item, now))
    sub(node, "Title", item["title"])
    sub(node, "WatchCount", item["watch_count"])
    if item.get("sku"):
        sub(node, "SKU", item["sku"])
    if item.get("postal_code"):
        sub(node, "PostalCode", item["postal_code"])
    pictures = sub(node, "PictureDetails")
    if item["pictures"]:
        sub(pictures, "GalleryURL", item["pictures"][0])
    for url in item["pictures"]:
        sub(pictures, "PictureURL", url)
    sub(node, "DispatchTimeMax", item["dispatch_time_max"])
    if item["specifics"]:
        specifics = sub(node, "ItemSpecifics")
        for name, values in item["specifics"]:
            pair = sub(specifics, "NameValueList")
            sub(pair, "Name", name)
            for value in values:
                sub(pair, "Value", value)
    sub(node, "ConditionID", item["condition_id"])
    sub(node, "ConditionDisplayName", CONDITIONS.get(item["condition_id"], "Used"))
    _profiles(node, item)
    if item.get("uuid"):
        sub(node, "UUID", item["uuid"])
    return node


def _address(parent: Element, order: Record) -> None:
    address = order["address"]
    node = sub(parent, "ShippingAddress")
    sub(node, "Name", address["name"])
    sub(node, "Street1", address["street1"])
    sub(node, "Street2", "")
    sub(node, "CityName", address["city"])
    sub(node, "StateOrProvince", address["region"])
    sub(node, "Country", address["country"])
    sub(node, "CountryName", address["country_name"])
    sub(node, "Phone", "Invalid Request")  # eBay masks it
    sub(node, "PostalCode", address["postal_code"])
    sub(node, "AddressID", address.get("address_id") or "1234567890012")
    sub(node, "AddressOwner", "eBay")


def transaction_node(order: Record, transaction: Record, *, with_item: bool = True) -> Element:
    node = el("Transaction")
    buyer = sub(node, "Buyer")
    sub(buyer, "Email", "Invalid Request")
    sub(buyer, "UserFirstName", order["buyer"]["first_name"])
    sub(buyer, "UserLastName", order["buyer"]["last_name"])
    shipping = sub(node, "ShippingDetails")
    sub(shipping, "SellingManagerSalesRecordNumber", order["sales_record"])
    for tracking in order["tracking"]:
        shipment = sub(shipping, "ShipmentTrackingDetails")
        sub(shipment, "ShippingCarrierUsed", tracking["carrier"])
        sub(shipment, "ShipmentTrackingNumber", tracking["number"])
    sub(node, "CreatedDate", transaction["created"])
    if with_item:
        item = sub(node, "Item")
        sub(item, "ItemID", transaction["item_id"])
        sub(item, "Site", "UK")
        sub(item, "Title", transaction["title"])
        if transaction.get("sku"):
            sub(item, "SKU", transaction["sku"])
        sub(item, "ConditionID", transaction["condition_id"])
        sub(item, "ConditionDisplayName", CONDITIONS.get(transaction["condition_id"], "Used"))
    sub(node, "QuantityPurchased", transaction["quantity"])
    status = sub(node, "Status")
    sub(status, "PaymentHoldStatus", "None")
    sub(status, "InquiryStatus", "NotApplicable")
    sub(status, "ReturnStatus", "NotApplicable")
    sub(node, "TransactionID", transaction["transaction_id"])
    money(node, "TransactionPrice", transaction["price"], order["currency"])
    created = parse_time(transaction["created"])
    if created is not None:
        package = sub(sub(node, "ShippingServiceSelected"), "ShippingPackageInfo")
        sub(package, "EstimatedDeliveryTimeMin", iso(created + timedelta(days=2)))
        sub(package, "EstimatedDeliveryTimeMax", iso(created + timedelta(days=5)))
    if order.get("shipped_time"):
        sub(node, "ShippedTime", order["shipped_time"])
    sub(node, "OrderLineItemID", f"{transaction['item_id']}-{transaction['transaction_id']}")
    return node


def order_node(order: Record) -> Element:
    """One ``Order`` (api_samples/ebay/trading_GetOrders_response.xml)."""
    node = el("Order")
    currency = order["currency"]
    sub(node, "OrderID", order["order_id"])
    sub(node, "OrderStatus", order["status"])
    money(node, "AdjustmentAmount", "0.0", currency)
    money(node, "AmountPaid", order["total"] if order.get("paid_time") else "0.0", currency)
    money(node, "AmountSaved", "0.0", currency)
    checkout = sub(node, "CheckoutStatus")
    sub(checkout, "eBayPaymentStatus", "NoPaymentFailure")
    sub(checkout, "LastModifiedTime", order["modified"])
    sub(checkout, "PaymentMethod", "CCAccepted")
    sub(checkout, "Status", "Complete" if order.get("paid_time") else "Incomplete")
    sub(checkout, "IntegratedMerchantCreditCardEnabled", "false")
    sub(checkout, "PaymentInstrument", "CreditCard")
    sub(sub(node, "ShippingDetails"), "SellingManagerSalesRecordNumber", order["sales_record"])
    sub(node, "CreatingUserRole", "Buyer")
    sub(node, "CreatedTime", order["created"])
    sub(node, "PaymentMethods", "CCAccepted")
    _address(node, order)
    selected = sub(node, "ShippingServiceSelected")
    sub(selected, "ShippingService", order["shipping_service"])
    money(selected, "ShippingServiceCost", order["shipping_cost"], currency)
    money(node, "Subtotal", order["subtotal"], currency)
    money(node, "Total", order["total"], currency)
    transactions = sub(node, "TransactionArray")
    for transaction in order["transactions"]:
        transactions.append(transaction_node(order, transaction))
    sub(node, "BuyerUserID", order["buyer_user_id"])
    if order.get("paid_time"):
        sub(node, "PaidTime", order["paid_time"])
    if order.get("shipped_time"):
        sub(node, "ShippedTime", order["shipped_time"])
    sub(node, "IntegratedMerchantCreditCardEnabled", "false")
    sub(node, "EIASToken", EIAS_TOKEN)
    sub(node, "ContainseBayPlusTransaction", "false")
    return node


# --- Platform Notifications ---------------------------------------------------------------------------


def notification_signature(timestamp: str, dev_id: str, app_id: str, cert_id: str) -> str:
    """base64(MD5(Timestamp + DevID + AppID + CertID)) (developer.ebay.com KB 1201)."""
    digest = hashlib.md5(f"{timestamp}{dev_id}{app_id}{cert_id}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def notification(
    topic: str,
    item: Record,
    order: Record | None,
    transaction: Record | None,
    *,
    base_url: str,
    now: datetime,
    keyset: tuple[str, str, str],
    correlation_id: str,
) -> str:
    """The SOAP envelope eBay POSTs for ``topic``: a GetItemTransactionsResponse for transaction events,
    a GetItemResponse for item events, signed in the SOAP Header."""
    head = [
        el("NotificationEventName", topic),
        el("RecipientUserID", SELLER_USER_ID),
        el("EIASToken", EIAS_TOKEN),
    ]
    body: list[Element] = []
    if (
        transaction is not None
        and order is not None
        and topic in ("FixedPriceTransaction", "AuctionCheckoutComplete")
    ):
        call = "GetItemTransactions"
        pagination = el("PaginationResult")
        sub(pagination, "TotalNumberOfPages", 1)
        sub(pagination, "TotalNumberOfEntries", 1)
        body += [
            pagination,
            el("HasMoreTransactions", "false"),
            el("TransactionsPerPage", 100),
            el("PageNumber", 1),
        ]
        body.append(el("ReturnedTransactionCountActual", 1))
        body.append(full_item(item, base_url, now))
        transactions = el("TransactionArray")
        node = transaction_node(order, transaction, with_item=False)
        containing = sub(node, "ContainingOrder")
        sub(containing, "OrderID", order["order_id"])
        sub(containing, "OrderStatus", order["status"])
        transactions.append(node)
        body.append(transactions)
    else:
        call = "GetItem"
        body.append(full_item(item, base_url, now))
    response = envelope(call, now, body=body, extra_head=[el("CorrelationID", correlation_id)])
    # eBay puts the notification fields after Build; keep the envelope order Timestamp, Ack, ..., Build.
    build = response.find(f"{{{NAMESPACE}}}Build")
    position = list(response).index(build) + 1
    for offset, node in enumerate(head):
        response.insert(position + offset, node)
    timestamp = iso(now)
    soap = etree.Element(
        f"{{{SOAP_NAMESPACE}}}Envelope",
        nsmap={
            "soapenv": SOAP_NAMESPACE,
            "xsd": "http://www.w3.org/2001/XMLSchema",
            "xsi": "http://www.w3.org/2001/XMLSchema-instance",
        },
    )
    header = etree.SubElement(soap, f"{{{SOAP_NAMESPACE}}}Header")
    credentials = etree.SubElement(
        header,
        f"{{{NAMESPACE}}}RequesterCredentials",
        attrib={f"{{{SOAP_NAMESPACE}}}mustUnderstand": "0"},
        nsmap={"ebl": NAMESPACE},
    )
    signature = etree.SubElement(credentials, f"{{{NAMESPACE}}}NotificationSignature")
    signature.text = notification_signature(timestamp, *keyset)
    soap_body = etree.SubElement(soap, f"{{{SOAP_NAMESPACE}}}Body")
    soap_body.append(response)
    return etree.tostring(soap, xml_declaration=True, encoding="UTF-8").decode()


def json_item(item: Record, base_url: str) -> dict[str, Any]:
    """A compact JSON view for the control API."""
    return {
        "item_id": item["item_id"],
        "sku": item.get("sku"),
        "title": item["title"],
        "status": item["status"],
        "price": item["start_price"],
        "currency": item["currency"],
        "quantity": item["quantity"],
        "quantity_sold": item["quantity_sold"],
        "quantity_available": available(item),
        "view_item_url": view_url(item, base_url),
    }


def json_order(order: Record) -> dict[str, Any]:
    return {
        "order_id": order["order_id"],
        "status": order["status"],
        "total": order["total"],
        "currency": order["currency"],
        "created": order["created"],
        "paid_time": order.get("paid_time"),
        "shipped_time": order.get("shipped_time"),
        "tracking": order["tracking"],
        "transactions": [
            {
                "transaction_id": t["transaction_id"],
                "item_id": t["item_id"],
                "sku": t.get("sku"),
                "quantity": t["quantity"],
                "order_line_item_id": f"{t['item_id']}-{t['transaction_id']}",
            }
            for t in order["transactions"]
        ],
    }
