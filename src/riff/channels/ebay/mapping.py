"""Pure functions: RIFF's normalized types <-> eBay Trading XML. No I/O here.

Every value that needs a table (condition, category, carrier, currency) is checked before a request is
built, so an unmapped value is a ``Rejected`` before any call is made (and counted against the quota).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from riff.channels.contract import (
    Address,
    OrderLine,
    OrderStatus,
    ProductSnapshot,
    RemoteListing,
    RemoteListingRef,
    RemoteOrder,
    RemoteState,
)
from riff.channels.ebay import consts
from riff.channels.ebay.trading import (
    Element,
    attribute,
    cdata,
    find,
    findall,
    iso,
    parse_timestamp,
    request_root,
    sub,
    text,
    to_dict,
)
from riff.channels.errors import Rejected
from riff.channels.mapping import load_table, money, require

DATA_PACKAGE = "riff.channels.ebay"


class EbayConfig(BaseModel):
    """Per-account settings (stored in ``channel_accounts.config``). The last three keys are kept by RIFF."""

    model_config = ConfigDict(coerce_numbers_to_str=True)

    site_id: int = Field(
        consts.SITE_ID_UK, title="Site id", description="X-EBAY-API-SITEID: 3 UK, 0 US, 77 DE"
    )
    currency: str = Field("GBP", title="Listing currency", description="The site's currency (ISO 4217)")
    country: str = Field("GB", title="Item country", description="Where the items are (ISO 3166)")
    location: str = Field("London", title="Item location")
    postal_code: str | None = Field(None, title="Item postal code")
    dispatch_time_max: int = Field(3, ge=0, le=30, title="Handling time (days)")
    shipping_profile_id: str | None = Field(None, title="Shipping business policy id")
    return_profile_id: str | None = Field(None, title="Return business policy id")
    payment_profile_id: str | None = Field(None, title="Payment business policy id")
    shipping_service: str = Field(
        "UK_OtherCourier24", title="Shipping service", description="Used only without business policies"
    )
    shipping_cost: Decimal | None = Field(
        None, ge=0, title="Flat shipping cost", description="Used only without a shipping business policy"
    )
    returns_within: str = Field("Days_30", title="Returns window", description="Without a return policy id")
    end_reason: str = Field(consts.END_REASON_NOT_AVAILABLE, title="EndingReason for ended listings")
    scopes: list[str] = Field(default_factory=lambda: list(consts.DEFAULT_SCOPES), title="OAuth scopes")
    compatibility_level: str = Field(consts.COMPATIBILITY_LEVEL, title="X-EBAY-API-COMPATIBILITY-LEVEL")
    selling_page_size: int = Field(consts.SELLING_PAGE_SIZE, ge=1, le=200)
    orders_page_size: int = Field(consts.ORDERS_PAGE_SIZE, ge=1, le=100)
    timeout_seconds: float = Field(consts.TIMEOUT.read or 60.0, gt=0, le=300, title="Request timeout")
    notification_max_age_seconds: float = Field(consts.NOTIFICATION_MAX_AGE_SECONDS, gt=0)
    # Kept by RIFF (not for the user to set): the access token's expiry, local call counts, the last
    # GetApiAccessRules answer.
    access_token_expires_at: str | None = Field(None, title="Access token expires at (kept by RIFF)")
    call_usage: dict[str, Any] | None = Field(None, title="Calls made today (kept by RIFF)")
    api_access_rules: dict[str, Any] | None = Field(None, title="Last GetApiAccessRules (kept by RIFF)")

    def token_expires_at(self) -> dt.datetime | None:
        return parse_timestamp(self.access_token_expires_at)


class EbaySecrets(BaseModel):
    """Write-only credentials (encrypted in ``channel_accounts.secrets_encrypted``)."""

    client_id: SecretStr | None = Field(
        None, title="App ID (Client ID)", description="developer.ebay.com keyset"
    )
    client_secret: SecretStr | None = Field(None, title="Cert ID (Client Secret)")
    dev_id: SecretStr | None = Field(None, title="Dev ID", description="Verifies notification signatures")
    refresh_token: SecretStr | None = Field(None, title="OAuth refresh token", description="~18 months")
    access_token: SecretStr | None = Field(None, title="OAuth access token (kept fresh by RIFF)")
    webhook_token: SecretStr | None = Field(
        None, title="Webhook path token", description="Secret part of /webhooks/ebay/{token}"
    )

    @model_validator(mode="after")
    def _usable(self) -> EbaySecrets:
        if self.refresh_token is None and self.access_token is None:
            raise ValueError("set refresh_token (with client_id and client_secret) or an access_token")
        if self.refresh_token is not None and (self.client_id is None or self.client_secret is None):
            raise ValueError("a refresh_token needs client_id and client_secret to be used")
        return self


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


# --- tables -------------------------------------------------------------------------------------------


def _conditions() -> dict[str, Any]:
    return load_table(DATA_PACKAGE, "conditions")["riff_to_ebay"]  # type: ignore[no-any-return]


def _categories() -> dict[str, Any]:
    return load_table(DATA_PACKAGE, "categories")


def _carriers() -> dict[str, str]:
    return load_table(DATA_PACKAGE, "carriers")["riff_to_ebay"]  # type: ignore[no-any-return]


def condition_id(condition: str) -> str:
    entry = require(_conditions(), condition, channel=consts.SLUG, what="condition", field="condition")
    return str(entry["id"])


def category_id(product: ProductSnapshot) -> str:
    """Mapping row (already on the snapshot) > data/categories.json by slug > default for no category."""
    if product.category_remote_ids:
        return str(product.category_remote_ids[0])
    table = _categories()
    if product.category_slug is None:
        return str(table["default"])
    return str(
        require(
            table["by_slug"], product.category_slug, channel=consts.SLUG, what="category", field="category"
        )
    )


def carrier_name(carrier: str) -> str:
    return str(
        require(_carriers(), carrier.strip().lower(), channel=consts.SLUG, what="carrier", field="carrier")
    )


# --- snapshot -> request ------------------------------------------------------------------------------


def listing_uuid(product: ProductSnapshot, *, relist_of: str | None = None) -> str:
    """``Item.UUID``: 32 upper-case hex digits, the same for every attempt to list this product, so eBay
    answers a retried AddFixedPriceItem (after a timeout) with error 488 and the existing ItemID instead of
    listing it twice (developer.ebay.com KB 52/74). A relist after an ended listing chains on that item."""
    key = f"riff:ebay:{product.product_id or ''}:{product.sku}:{relist_of or ''}"
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest().upper()


def title(product: ProductSnapshot) -> str:
    """eBay titles are at most 80 characters: cut at a word boundary (the full title stays in RIFF)."""
    value = " ".join(product.title.split())
    if len(value) <= consts.MAX_TITLE_CHARS:
        return value
    cut = value[: consts.MAX_TITLE_CHARS + 1].rsplit(" ", 1)[0]
    return (cut if len(cut) >= consts.MAX_TITLE_CHARS // 2 else value[: consts.MAX_TITLE_CHARS]).rstrip(" -,")


def price_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def quantity(product: ProductSnapshot) -> int:
    # One-of-a-kind items (the usual case) list a quantity of 1; stocked items their count.
    return max(product.quantity, 0) if product.is_stocked_item else 1


def pictures(product: ProductSnapshot) -> list[str]:
    urls = [i.url for i in sorted(product.images, key=lambda i: i.position) if i.url.startswith("http")]
    return urls[: consts.MAX_PICTURES]


def item_specifics(product: ProductSnapshot) -> list[tuple[str, str]]:
    """Brand, Model, Year and Body Colour (eBay's guitar aspects; the original RIFF always sent these)."""
    limit = consts.MAX_ITEM_SPECIFIC_VALUE_CHARS
    specifics = [("Brand", (product.brand or "Unbranded")[:limit])]
    if product.model:
        specifics.append(("Model", product.model[:limit]))
    year = str(product.year) if product.year is not None else product.decade
    if year:
        specifics.append(("Year", year[:limit]))
    if product.finish:
        specifics.append(("Body Colour", product.finish[:limit]))
    return specifics


def _check_currency(product: ProductSnapshot, config: EbayConfig) -> None:
    if product.currency.upper() != config.currency.upper():
        raise Rejected(
            f"product is priced in {product.currency} but the eBay account lists in {config.currency}",
            channel=consts.SLUG,
            field="currency",
        )


def check_publishable(product: ProductSnapshot, config: EbayConfig) -> None:
    """Everything that can be refused without a call (the preflight)."""
    _check_currency(product, config)
    if product.price <= 0:
        raise Rejected("price must be greater than 0", channel=consts.SLUG, field="price")
    if not product.title.strip():
        raise Rejected("eBay needs a title", channel=consts.SLUG, field="title")
    if not pictures(product):
        raise Rejected(
            "eBay needs at least one picture with a public http(s) URL", channel=consts.SLUG, field="images"
        )
    if not config.shipping_profile_id and config.shipping_cost is None:
        raise Rejected(
            "set shipping_profile_id (an eBay business policy) or shipping_cost in the eBay account config",
            channel=consts.SLUG,
            field="shipping_profile_id",
        )
    condition_id(product.condition)
    category_id(product)


def _add_description(item: Element, product: ProductSnapshot) -> None:
    sub(item, "Description", cdata(product.description or product.title))


def _add_pictures(item: Element, product: ProductSnapshot) -> None:
    details = sub(item, "PictureDetails")
    for url in pictures(product):
        sub(details, "PictureURL", url)


def _add_specifics(item: Element, product: ProductSnapshot) -> None:
    specifics = sub(item, "ItemSpecifics")
    for name, value in item_specifics(product):
        pair = sub(specifics, "NameValueList")
        sub(pair, "Name", name)
        sub(pair, "Value", value)


def _add_policies(item: Element, config: EbayConfig) -> None:
    if config.shipping_profile_id or config.return_profile_id or config.payment_profile_id:
        profiles = sub(item, "SellerProfiles")
        if config.shipping_profile_id:
            sub(sub(profiles, "SellerShippingProfile"), "ShippingProfileID", config.shipping_profile_id)
        if config.return_profile_id:
            sub(sub(profiles, "SellerReturnProfile"), "ReturnProfileID", config.return_profile_id)
        if config.payment_profile_id:
            sub(sub(profiles, "SellerPaymentProfile"), "PaymentProfileID", config.payment_profile_id)
    if not config.shipping_profile_id and config.shipping_cost is not None:
        shipping = sub(item, "ShippingDetails")
        sub(shipping, "ShippingType", "Flat")
        option = sub(shipping, "ShippingServiceOptions")
        sub(option, "ShippingServicePriority", 1)
        sub(option, "ShippingService", config.shipping_service)
        sub(option, "ShippingServiceCost", price_text(config.shipping_cost), currencyID=config.currency)
    if not config.return_profile_id:
        returns = sub(item, "ReturnPolicy")
        sub(returns, "ReturnsAcceptedOption", "ReturnsAccepted")
        sub(returns, "ReturnsWithinOption", config.returns_within)
        sub(returns, "ShippingCostPaidByOption", "Buyer")


def add_item_request(product: ProductSnapshot, config: EbayConfig, uuid: str) -> Element:
    """``AddFixedPriceItemRequest`` (api_samples/ebay/trading_AddFixedPriceItem_request.xml)."""
    check_publishable(product, config)
    root = request_root("AddFixedPriceItem")
    sub(root, "ErrorLanguage", "en_US")
    sub(root, "WarningLevel", "High")
    item = sub(root, "Item")
    sub(item, "Title", title(product))
    _add_description(item, product)
    sub(sub(item, "PrimaryCategory"), "CategoryID", category_id(product))
    sub(item, "StartPrice", price_text(product.price), currencyID=config.currency)
    sub(item, "ConditionID", condition_id(product.condition))
    sub(item, "Country", config.country)
    sub(item, "Currency", config.currency)
    sub(item, "Location", config.location)
    if config.postal_code:
        sub(item, "PostalCode", config.postal_code)
    sub(item, "DispatchTimeMax", config.dispatch_time_max)
    sub(item, "ListingDuration", consts.LISTING_DURATION)
    sub(item, "ListingType", consts.LISTING_TYPE)
    sub(item, "Quantity", quantity(product))
    sub(item, "SKU", product.sku)
    sub(item, "InventoryTrackingMethod", consts.INVENTORY_TRACKING)
    _add_pictures(item, product)
    _add_specifics(item, product)
    _add_policies(item, config)
    sub(item, "UUID", uuid)
    return root


# RIFF field name -> what ReviseFixedPriceItem sends for it.
_REVISE_FIELDS: dict[str, Any] = {
    "title": lambda item, p, c: sub(item, "Title", title(p)),
    "description": lambda item, p, c: _add_description(item, p),
    "condition": lambda item, p, c: sub(item, "ConditionID", condition_id(p.condition)),
    "category": lambda item, p, c: sub(sub(item, "PrimaryCategory"), "CategoryID", category_id(p)),
    "price": lambda item, p, c: sub(item, "StartPrice", price_text(p.price), currencyID=c.currency),
    "quantity": lambda item, p, c: sub(item, "Quantity", quantity(p)),
    "images": lambda item, p, c: _add_pictures(item, p),
    "specifics": lambda item, p, c: _add_specifics(item, p),
}
# Item specifics are replaced as a whole: any of these fields re-sends all of them.
_SPECIFIC_FIELDS = frozenset({"brand", "model", "year", "decade", "finish"})
UPDATABLE_FIELDS = frozenset(_REVISE_FIELDS) - {"specifics"} | _SPECIFIC_FIELDS | {"is_stocked_item"}


def check_update_fields(changed_fields: Iterable[str]) -> None:
    unknown = sorted(set(changed_fields) - UPDATABLE_FIELDS)
    if unknown:
        raise Rejected(
            f"eBay cannot update field(s): {', '.join(unknown)}", channel=consts.SLUG, field=unknown[0]
        )


def revise_item_request(
    item_id: str, product: ProductSnapshot, changed_fields: Iterable[str], config: EbayConfig
) -> Element:
    """``ReviseFixedPriceItemRequest`` carrying only the changed fields."""
    changed = set(changed_fields)
    check_update_fields(changed)
    if "price" in changed:
        _check_currency(product, config)
    names = {"quantity" if f == "is_stocked_item" else f for f in changed}
    if names & _SPECIFIC_FIELDS:
        names = (names - _SPECIFIC_FIELDS) | {"specifics"}
    if "images" in names and not pictures(product):
        raise Rejected("eBay needs at least one picture", channel=consts.SLUG, field="images")
    root = request_root("ReviseFixedPriceItem")
    sub(root, "ErrorLanguage", "en_US")
    sub(root, "WarningLevel", "High")
    item = sub(root, "Item")
    sub(item, "ItemID", item_id)
    for name in sorted(names):
        _REVISE_FIELDS[name](item, product, config)
    return root


def inventory_status(
    item_id: str, product: ProductSnapshot, fields: Iterable[str], config: EbayConfig
) -> dict[str, str]:
    """One ``InventoryStatus`` of ReviseInventoryStatus: ItemID, SKU and only the changed price/quantity."""
    fields = set(fields)
    values = {"ItemID": item_id, "SKU": product.sku}
    if "price" in fields:
        _check_currency(product, config)
        values["StartPrice"] = price_text(product.price)
    if fields & {"quantity", "is_stocked_item"}:
        values["Quantity"] = str(quantity(product))
    return values


def revise_inventory_request(statuses: Iterable[dict[str, str]]) -> Element:
    root = request_root("ReviseInventoryStatus")
    for values in statuses:
        status = sub(root, "InventoryStatus")
        for name in ("ItemID", "SKU", "StartPrice", "Quantity"):
            if name in values:
                sub(status, name, values[name])
    return root


def end_item_request(item_id: str, reason: str) -> Element:
    root = request_root("EndFixedPriceItem")
    sub(root, "ItemID", item_id)
    sub(root, "EndingReason", reason)
    return root


def complete_sale_request(order_id: str, carrier: str, tracking: str, shipped_at: dt.datetime) -> Element:
    """``CompleteSaleRequest`` (api_samples/ebay/trading_CompleteSale_request.xml)."""
    if not tracking.strip():
        raise Rejected("a tracking number is required", channel=consts.SLUG, field="tracking")
    root = request_root("CompleteSale")
    sub(root, "OrderID", order_id)
    sub(root, "Shipped", "true")
    shipment = sub(root, "Shipment")
    details = sub(shipment, "ShipmentTrackingDetails")
    sub(details, "ShippingCarrierUsed", carrier_name(carrier))
    sub(details, "ShipmentTrackingNumber", tracking.strip())
    sub(shipment, "ShippedTime", iso(shipped_at))
    return root


# --- response -> normalized ---------------------------------------------------------------------------

_LISTING_STATES = {"Active": RemoteState.LIVE, "Ended": RemoteState.ENDED}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def listing_state(item: Element, default: RemoteState = RemoteState.UNKNOWN) -> RemoteState:
    """``SellingStatus/ListingStatus`` (GetItem) or the list the item came from (GetMyeBaySelling)."""
    status = text(item, "SellingStatus/ListingStatus")
    if status == "Completed":
        sold = _int(text(item, "SellingStatus/QuantitySold")) or 0
        return RemoteState.SOLD if sold > 0 and (available(item) or 0) <= 0 else RemoteState.ENDED
    if status in _LISTING_STATES:
        return _LISTING_STATES[status]
    return default


def available(item: Element) -> int | None:
    quantity_available = _int(text(item, "QuantityAvailable"))
    if quantity_available is not None:
        return quantity_available
    total = _int(text(item, "Quantity"))
    sold = _int(text(item, "SellingStatus/QuantitySold")) or 0
    return None if total is None else max(total - sold, 0)


def _price_node(item: Element) -> tuple[str | None, str | None]:
    for path in ("SellingStatus/CurrentPrice", "StartPrice", "BuyItNowPrice"):
        value = text(item, path)
        if value is not None:
            return value, attribute(item, path, "currencyID")
    return None, None


def remote_listing(item: Element, default_state: RemoteState = RemoteState.UNKNOWN) -> RemoteListing:
    price, currency = _price_node(item)
    state = listing_state(item, default_state)
    ended = state in (RemoteState.ENDED, RemoteState.SOLD)
    updated = text(item, "ListingDetails/EndTime") if ended else text(item, "ListingDetails/StartTime")
    return RemoteListing(
        remote_id=text(item, "ItemID") or "",
        sku=text(item, "SKU"),
        title=text(item, "Title") or "",
        price=money(price),
        currency=currency,
        quantity=available(item),
        state=state,
        url=text(item, "ListingDetails/ViewItemURL"),
        updated_at=parse_timestamp(updated),
        raw=to_dict(item),
    )


def listing_ref(item: Element, default_state: RemoteState = RemoteState.LIVE) -> RemoteListingRef:
    return RemoteListingRef(
        id=text(item, "ItemID") or "",
        url=text(item, "ListingDetails/ViewItemURL"),
        state=listing_state(item, default_state),
    )


def _address(node: Element | None) -> Address | None:
    if node is None:
        return None
    return Address(
        name=text(node, "Name"),
        line1=text(node, "Street1"),
        line2=text(node, "Street2"),
        city=text(node, "CityName"),
        region=text(node, "StateOrProvince"),
        postal_code=text(node, "PostalCode"),
        country_code=text(node, "Country"),
        phone=_real(text(node, "Phone")),
    )


def _real(value: str | None) -> str | None:
    # eBay masks buyer data it will not share as the literal text "Invalid Request".
    return None if value in (None, "Invalid Request") else value


def order_status(order: Element) -> OrderStatus:
    status = text(order, "OrderStatus") or ""
    normalized = consts.ORDER_STATUSES.get(status, "unknown")
    if normalized == "paid" and text(order, "ShippedTime"):
        normalized = "shipped"
    if normalized == "unpaid" and text(order, "PaidTime"):
        normalized = "paid"
    return OrderStatus(normalized)


def order_modified(order: Element) -> str | None:
    return text(order, "CheckoutStatus/LastModifiedTime") or text(order, "CreatedTime")


def remote_order(order: Element) -> RemoteOrder:
    """One eBay order (api_samples/ebay/trading_GetOrders_response.xml): lines are its transactions."""
    lines = []
    buyer_email = None
    buyer_first_last = None
    for transaction in findall(order, "TransactionArray/Transaction"):
        buyer_email = buyer_email or _real(text(transaction, "Buyer/Email"))
        first, last = text(transaction, "Buyer/UserFirstName"), text(transaction, "Buyer/UserLastName")
        buyer_first_last = buyer_first_last or (" ".join(p for p in (first, last) if p) or None)
        lines.append(
            OrderLine(
                sku=text(transaction, "Item/SKU") or text(transaction, "Variation/SKU"),
                remote_listing_id=text(transaction, "Item/ItemID"),
                title=text(transaction, "Item/Title"),
                quantity=_int(text(transaction, "QuantityPurchased")) or 1,
                price=money(text(transaction, "TransactionPrice")),
                currency=attribute(transaction, "TransactionPrice", "currencyID"),
            )
        )
    address = _address(find(order, "ShippingAddress"))
    status = text(order, "OrderStatus")
    return RemoteOrder(
        remote_id=text(order, "OrderID") or "",
        status=order_status(order),
        remote_status=status,
        buyer_name=(address.name if address else None) or buyer_first_last or text(order, "BuyerUserID"),
        buyer_email=buyer_email,
        shipping_address=address,
        lines=lines,
        currency=attribute(order, "Total", "currencyID"),
        subtotal=money(text(order, "Subtotal")),
        shipping=money(text(order, "ShippingServiceSelected/ShippingServiceCost")),
        total=money(text(order, "Total")),
        created_at=parse_timestamp(text(order, "CreatedTime")),
        updated_at=parse_timestamp(order_modified(order)),
        paid_at=parse_timestamp(text(order, "PaidTime")),
        raw=to_dict(order),
    )


def order_dedupe_key(order: RemoteOrder) -> str:
    """The same order state seen twice (a notification then a poll, or two polls) has one key; paying or
    shipping changes it."""
    raw = order.raw or {}
    checkout = raw.get("CheckoutStatus") if isinstance(raw.get("CheckoutStatus"), dict) else {}
    modified = (checkout or {}).get("LastModifiedTime") or raw.get("CreatedTime") or ""
    return f"order:{order.remote_id}:{order.remote_status or ''}:{modified}:{raw.get('ShippedTime') or ''}"


# --- the daily call budget (for the UI) -----------------------------------------------------------------

AGGREGATE_RULE = "ApplicationAggregate"


def call_budget(config: EbayConfig, now: dt.datetime) -> dict[str, Any]:
    """Per call name: used / limit / remaining today (UTC). ``used`` is the larger of RIFF's own count and
    eBay's last GetApiAccessRules answer of the same day; a call without its own rule shares the
    application's aggregate limit (5,000 a day by default)."""
    today = now.date().isoformat()
    usage = config.call_usage or {}
    local_counts: dict[str, int] = dict(usage.get("counts") or {}) if usage.get("day") == today else {}
    snapshot = config.api_access_rules or {}
    fetched = parse_timestamp(snapshot.get("fetched_at"))
    rules = {
        str(rule.get("call_name")): rule
        for rule in (snapshot.get("rules") or [])
        if isinstance(rule, dict) and rule.get("call_name")
    }
    rules_today = fetched is not None and fetched.date() == now.date()
    aggregate = rules.get(AGGREGATE_RULE, {})
    aggregate_limit = aggregate.get("daily_hard_limit") or consts.DEFAULT_DAILY_CALL_LIMIT

    def row(name: str, used_locally: int) -> dict[str, Any]:
        rule = rules.get(name, {})
        reported = (rule.get("daily_usage") or 0) if rules_today else 0
        limit = rule.get("daily_hard_limit") or aggregate_limit
        used = max(used_locally, reported)
        return {
            "call_name": name,
            "used": used,
            "limit": limit,
            "remaining": max(limit - used, 0),
            "used_by_riff_today": used_locally,
            "reported_by_ebay": reported if rules_today else None,
        }

    names = sorted((set(local_counts) | set(rules)) - {AGGREGATE_RULE})
    calls = [row(name, local_counts.get(name, 0)) for name in names]
    total = row(AGGREGATE_RULE, sum(local_counts.values()))
    return {
        "day": today,
        "rules_fetched_at": snapshot.get("fetched_at"),
        "aggregate": total,
        "calls": calls,
    }
