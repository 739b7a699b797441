"""The sandbox's Admin GraphQL schema (strawberry), with Shopify's type, field and argument names.

Only what RIFF and the documented samples use is implemented; every name that exists here exists in the
real schema (shopify.dev GraphQL Admin reference, 2025-10 .. 2026-04). Records come from ``shop.py``;
ids are rendered as ``gid://shopify/<Type>/<number>``.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, NewType, Protocol, TypeAlias, TypeVar

import strawberry
from graphql import DirectiveLocation, GraphQLError
from strawberry.directive import DirectiveValue
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from riff_sandbox.shopify.consts import LOCATIONS, MAX_PAGE_SIZE, SHOP_CURRENCY, SHOP_NAME
from riff_sandbox.shopify.search import Getter, Page, SearchError, matches, paginate, parse_query
from riff_sandbox.shopify.shop import UNSET, Record, ShopifyShop, gid, parse_gid
from riff_sandbox.toolkit.timeutil import parse_datetime

T = TypeVar("T")

DateTime = NewType("DateTime", str)
Money = NewType("Money", str)
Decimal = NewType("Decimal", str)
URL = NewType("URL", str)
HTML = NewType("HTML", str)

SCALARS: dict[object, Any] = {
    DateTime: strawberry.scalar(name="DateTime", serialize=str, parse_value=str),
    Money: strawberry.scalar(name="Money", serialize=str, parse_value=str),
    Decimal: strawberry.scalar(name="Decimal", serialize=str, parse_value=str),
    URL: strawberry.scalar(name="URL", serialize=str, parse_value=str),
    HTML: strawberry.scalar(name="HTML", serialize=str, parse_value=str),
}


@dataclasses.dataclass
class Context:
    shop: ShopifyShop
    base_url: str
    idempotency_keys: dict[str, str] = dataclasses.field(default_factory=dict)


def ctx(info: Info) -> Context:
    context = info.context
    assert isinstance(context, Context)
    return context


def graphql_time(value: str | None) -> DateTime | None:
    if not value:
        return None
    return DateTime(parse_datetime(value).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _time(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


# Enums --------------------------------------------------------------------------------------------


@strawberry.enum
class ProductStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"


@strawberry.enum
class ProductSortKeys(enum.Enum):
    CREATED_AT = "CREATED_AT"
    ID = "ID"
    INVENTORY_TOTAL = "INVENTORY_TOTAL"
    PRODUCT_TYPE = "PRODUCT_TYPE"
    PUBLISHED_AT = "PUBLISHED_AT"
    RELEVANCE = "RELEVANCE"
    TITLE = "TITLE"
    UPDATED_AT = "UPDATED_AT"
    VENDOR = "VENDOR"


@strawberry.enum
class OrderSortKeys(enum.Enum):
    CREATED_AT = "CREATED_AT"
    ID = "ID"
    ORDER_NUMBER = "ORDER_NUMBER"
    PROCESSED_AT = "PROCESSED_AT"
    RELEVANCE = "RELEVANCE"
    TOTAL_PRICE = "TOTAL_PRICE"
    UPDATED_AT = "UPDATED_AT"


@strawberry.enum
class OrderDisplayFinancialStatus(enum.Enum):
    AUTHORIZED = "AUTHORIZED"
    EXPIRED = "EXPIRED"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    PENDING = "PENDING"
    REFUNDED = "REFUNDED"
    VOIDED = "VOIDED"


@strawberry.enum
class OrderDisplayFulfillmentStatus(enum.Enum):
    FULFILLED = "FULFILLED"
    IN_PROGRESS = "IN_PROGRESS"
    ON_HOLD = "ON_HOLD"
    OPEN = "OPEN"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    PENDING_FULFILLMENT = "PENDING_FULFILLMENT"
    RESTOCKED = "RESTOCKED"
    SCHEDULED = "SCHEDULED"
    UNFULFILLED = "UNFULFILLED"


@strawberry.enum
class FulfillmentOrderStatus(enum.Enum):
    CANCELLED = "CANCELLED"
    CLOSED = "CLOSED"
    INCOMPLETE = "INCOMPLETE"
    IN_PROGRESS = "IN_PROGRESS"
    ON_HOLD = "ON_HOLD"
    OPEN = "OPEN"
    SCHEDULED = "SCHEDULED"


@strawberry.enum
class FulfillmentStatus(enum.Enum):
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    FAILURE = "FAILURE"
    SUCCESS = "SUCCESS"


@strawberry.enum
class CurrencyCode(enum.Enum):
    AUD = "AUD"
    CAD = "CAD"
    CHF = "CHF"
    EUR = "EUR"
    GBP = "GBP"
    JPY = "JPY"
    USD = "USD"


_COUNTRY_CODES = (
    "AT AU BE BG CA CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT JP LT LU LV MT NL NO NZ PL PT RO SE SI SK US"
).split()
CountryCode = strawberry.enum(enum.Enum("CountryCode", {code: code for code in _COUNTRY_CODES}))  # type: ignore[call-overload,misc]


@strawberry.enum
class MediaContentType(enum.Enum):
    EXTERNAL_VIDEO = "EXTERNAL_VIDEO"
    IMAGE = "IMAGE"
    MODEL_3D = "MODEL_3D"
    VIDEO = "VIDEO"


@strawberry.enum
class MediaStatus(enum.Enum):
    FAILED = "FAILED"
    PROCESSING = "PROCESSING"
    READY = "READY"
    UPLOADED = "UPLOADED"


@strawberry.enum
class FileContentType(enum.Enum):
    EXTERNAL_VIDEO = "EXTERNAL_VIDEO"
    FILE = "FILE"
    IMAGE = "IMAGE"
    MODEL_3D = "MODEL_3D"
    VIDEO = "VIDEO"


@strawberry.enum
class ProductSetUserErrorCode(enum.Enum):
    BLANK = "BLANK"
    GREATER_THAN_OR_EQUAL_TO = "GREATER_THAN_OR_EQUAL_TO"
    INVALID = "INVALID"
    INVALID_LOCATION = "INVALID_LOCATION"
    INVALID_NAME = "INVALID_NAME"
    PRODUCT_DOES_NOT_EXIST = "PRODUCT_DOES_NOT_EXIST"
    PRODUCT_VARIANT_DOES_NOT_EXIST = "PRODUCT_VARIANT_DOES_NOT_EXIST"


@strawberry.enum
class ProductVariantsBulkUpdateUserErrorCode(enum.Enum):
    GREATER_THAN_OR_EQUAL_TO = "GREATER_THAN_OR_EQUAL_TO"
    PRODUCT_DOES_NOT_EXIST = "PRODUCT_DOES_NOT_EXIST"
    PRODUCT_VARIANT_DOES_NOT_EXIST = "PRODUCT_VARIANT_DOES_NOT_EXIST"


@strawberry.enum
class InventorySetQuantitiesUserErrorCode(enum.Enum):
    CHANGE_FROM_QUANTITY_REQUIRED = "CHANGE_FROM_QUANTITY_REQUIRED"
    CHANGE_FROM_QUANTITY_STALE = "CHANGE_FROM_QUANTITY_STALE"
    COMPARE_QUANTITY_REQUIRED = "COMPARE_QUANTITY_REQUIRED"
    COMPARE_QUANTITY_STALE = "COMPARE_QUANTITY_STALE"
    INVALID_INVENTORY_ITEM = "INVALID_INVENTORY_ITEM"
    INVALID_LOCATION = "INVALID_LOCATION"
    INVALID_NAME = "INVALID_NAME"
    INVALID_REASON = "INVALID_REASON"


@strawberry.enum
class InventoryAdjustQuantitiesUserErrorCode(enum.Enum):
    CHANGE_FROM_QUANTITY_REQUIRED = "CHANGE_FROM_QUANTITY_REQUIRED"
    CHANGE_FROM_QUANTITY_STALE = "CHANGE_FROM_QUANTITY_STALE"
    INVALID_INVENTORY_ITEM = "INVALID_INVENTORY_ITEM"
    INVALID_LOCATION = "INVALID_LOCATION"
    INVALID_QUANTITY_NAME = "INVALID_QUANTITY_NAME"
    INVALID_REASON = "INVALID_REASON"


# Shared objects -----------------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T]
    page_info: PageInfo


def make_connection(page: Page, wrap: Callable[[Record], T]) -> Connection[T]:
    nodes = [wrap(record) for record in page.items]
    return Connection(
        edges=[Edge(cursor=cursor, node=node) for cursor, node in zip(page.cursors, nodes, strict=True)],
        nodes=nodes,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
    )


def page_of(
    records: Sequence[Record],
    sort_value: Callable[[Record], Any],
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
    reverse: bool = False,
) -> Page:
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last", extensions={"code": "BAD_REQUEST"})
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise GraphQLError(
                f"The {name} argument must be between 0 and {MAX_PAGE_SIZE}",
                extensions={"code": "BAD_REQUEST"},
            )
    try:
        return paginate(
            records, sort_value, first=first, last=last, after=after, before=before, reverse=reverse
        )
    except SearchError as error:
        raise GraphQLError(str(error), extensions={"code": "BAD_REQUEST"}) from error


def connection(
    records: Sequence[Record],
    sort_value: Callable[[Record], Any],
    wrap: Callable[[Record], T],
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
    reverse: bool = False,
) -> Connection[T]:
    return make_connection(page_of(records, sort_value, first, last, after, before, reverse), wrap)


# Records of a connection, and how each becomes a node.
PageSource: TypeAlias = tuple[Sequence[Record], Callable[[Record], T]]


def _by_id(record: Record) -> Any:
    return record["id"]


def connection_field(
    node: type[T], *, sort_value: Getter = _by_id, reversible: bool = False
) -> Callable[[Callable[[Any, ShopifyShop], PageSource[T]]], Connection[T]]:
    """A ``Connection`` field with the paging arguments (``first``/``after``/``last``/``before``, plus
    ``reverse`` when ``reversible``); the decorated method gives the records and how each becomes a node."""

    def decorate(source: Callable[[Any, ShopifyShop], PageSource[T]]) -> Connection[T]:
        def resolve(
            root: Any,
            info: Info,
            first: int | None = None,
            after: str | None = None,
            last: int | None = None,
            before: str | None = None,
        ) -> Connection[T]:
            records, wrap = source(root, ctx(info).shop)
            return connection(records, sort_value, wrap, first, last, after, before)

        def resolve_reversible(
            root: Any,
            info: Info,
            first: int | None = None,
            after: str | None = None,
            last: int | None = None,
            before: str | None = None,
            reverse: bool = False,
        ) -> Connection[T]:
            records, wrap = source(root, ctx(info).shop)
            return connection(records, sort_value, wrap, first, last, after, before, reverse)

        resolver = resolve_reversible if reversible else resolve
        return strawberry.field(resolver=resolver, graphql_type=Connection[node])  # type: ignore[valid-type]

    return decorate


def node_field(node: type[T], find: Callable[[ShopifyShop, int | None], Record | None]) -> T | None:
    """A root lookup by global id (``gid://shopify/<Type>/<number>``, the type named like the node's class).

    An unknown id answers null, not an error, as Shopify does."""

    def resolve(info: Info, id: strawberry.ID) -> T | None:  # noqa: A002 - Shopify's name
        record = find(ctx(info).shop, parse_gid(id, node.__name__))
        return node(record=record) if record else None  # type: ignore[call-arg]

    return strawberry.field(resolver=resolve, graphql_type=node | None)


@strawberry.type
class MoneyV2:
    amount: Decimal
    currency_code: CurrencyCode


@strawberry.type
class MoneyBag:
    shop_money: MoneyV2
    presentment_money: MoneyV2


def money_bag(amount: str, currency: str) -> MoneyBag:
    value = MoneyV2(amount=Decimal(amount), currency_code=CurrencyCode(currency))
    return MoneyBag(shop_money=value, presentment_money=value)


# Fields read from the record behind an object ---------------------------------------------------------


class _RecordBacked(Protocol):
    record: Record


def record_field(graphql_type: Any, read: Callable[[Record], T]) -> T:
    """A field computed from the object's ``record`` alone, declared in the class body where it stands in
    the schema (``title = record_field(str, ...)``)."""

    def resolve(root: _RecordBacked) -> T:
        return read(root.record)

    return strawberry.field(resolver=resolve, graphql_type=graphql_type)


def node_id(kind: str) -> strawberry.ID:
    return record_field(strawberry.ID, lambda record: strawberry.ID(gid(kind, record["id"])))


def legacy_id() -> str:
    return record_field(str, lambda record: str(record["id"]))


def text(key: str) -> str:
    return record_field(str, lambda record: str(record[key]))


def optional_text(key: str) -> str | None:
    """Shopify answers null, never an empty string, for an unset SKU."""
    return record_field(str | None, lambda record: record[key] or None)


def integer(key: str) -> int:
    return record_field(int, lambda record: int(record[key]))


def timestamp(key: str) -> DateTime | None:
    return record_field(DateTime | None, lambda record: graphql_time(record.get(key)))


def required_timestamp(key: str) -> DateTime:
    def read(record: Record) -> DateTime:
        value = graphql_time(record[key])
        assert value is not None
        return value

    return record_field(DateTime, read)


def money_set(key: str) -> MoneyBag:
    """An amount of the record in its own currency (orders carry one currency)."""
    return record_field(MoneyBag, lambda record: money_bag(record[key], record["currency"]))


@strawberry.type
class MailingAddress:
    name: str | None
    address1: str | None
    address2: str | None
    city: str | None
    province: str | None
    province_code: str | None
    zip: str | None
    country: str | None
    country_code_v2: CountryCode | None  # type: ignore[valid-type]
    phone: str | None


@strawberry.type
class Shop:
    name: str
    myshopify_domain: str
    currency_code: CurrencyCode
    url: URL


@strawberry.type
class Location:
    record: strawberry.Private[Record]

    id = node_id("Location")
    legacy_resource_id = legacy_id()
    name = text("name")
    is_active = record_field(bool, lambda record: bool(record["isActive"]))


@strawberry.type
class InventoryQuantity:
    name: str
    quantity: int
    updated_at: DateTime | None


@strawberry.type
class InventoryLevel:
    item_record: strawberry.Private[Record]
    location_id: strawberry.Private[int]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(
            f"{gid('InventoryLevel', self.item_record['id'])}?inventory_item_id={self.item_record['id']}"
        )

    @strawberry.field
    def quantities(self, names: list[str]) -> list[InventoryQuantity]:
        level = self.item_record["levels"].get(str(self.location_id), {})
        return [
            InventoryQuantity(
                name=name,
                quantity=int(level.get(name, 0)),
                updated_at=graphql_time(self.item_record["updated_at"]),
            )
            for name in names
        ]

    @strawberry.field
    def location(self) -> Location:
        found = ShopifyShop.location(self.location_id)
        assert found is not None
        return Location(record=found)

    @strawberry.field
    def item(self) -> InventoryItem:
        return InventoryItem(record=self.item_record)

    @strawberry.field
    def updated_at(self) -> DateTime | None:
        return graphql_time(self.item_record["updated_at"])


@strawberry.type
class InventoryItem:
    record: strawberry.Private[Record]

    id = node_id("InventoryItem")
    legacy_resource_id = legacy_id()
    tracked = record_field(bool, lambda record: bool(record["tracked"]))

    @strawberry.field
    def sku(self, info: Info) -> str | None:
        variant = ctx(info).shop.variant(self.record["variant_id"])
        return (variant or {}).get("sku") or None

    @strawberry.field
    def variant(self, info: Info) -> ProductVariant:
        variant = ctx(info).shop.variant(self.record["variant_id"])
        assert variant is not None
        return ProductVariant(record=variant)

    @strawberry.field
    def inventory_level(self, location_id: strawberry.ID) -> InventoryLevel | None:
        number = parse_gid(location_id, "Location")
        if number is None or ShopifyShop.location(number) is None:
            return None
        if str(number) not in self.record["levels"]:
            return None
        return InventoryLevel(item_record=self.record, location_id=number)

    @connection_field(InventoryLevel)
    def inventory_levels(self, shop: ShopifyShop) -> PageSource[InventoryLevel]:
        records = [{"id": int(location), "location": int(location)} for location in self.record["levels"]]
        return records, lambda r: InventoryLevel(item_record=self.record, location_id=r["location"])

    created_at = timestamp("created_at")
    updated_at = timestamp("updated_at")


@strawberry.type
class ProductVariant:
    record: strawberry.Private[Record]

    id = node_id("ProductVariant")
    legacy_resource_id = legacy_id()
    title = text("title")
    sku = optional_text("sku")
    price = record_field(Money, lambda record: Money(record["price"]))
    compare_at_price = record_field(
        Money | None,
        lambda record: Money(record["compare_at_price"]) if record.get("compare_at_price") else None,
    )
    position = record_field(int, lambda record: int(record.get("position") or 1))

    @strawberry.field
    def inventory_quantity(self, info: Info) -> int | None:
        item = ctx(info).shop.inventory_item(self.record["inventory_item_id"])
        return ctx(info).shop.available(item) if item else None

    @strawberry.field
    def inventory_item(self, info: Info) -> InventoryItem:
        item = ctx(info).shop.inventory_item(self.record["inventory_item_id"])
        assert item is not None
        return InventoryItem(record=item)

    @strawberry.field
    def product(self, info: Info) -> Product:
        product = ctx(info).shop.product(self.record["product_id"])
        assert product is not None
        return Product(record=product)

    created_at = timestamp("created_at")
    updated_at = timestamp("updated_at")


@strawberry.type
class Image:
    id: strawberry.ID | None
    url: URL
    alt_text: str | None


@strawberry.interface
class Media:
    id: strawberry.ID
    alt: str | None
    media_content_type: MediaContentType
    status: MediaStatus


@strawberry.type
class MediaImage(Media):
    image: Image | None


def media_image(record: Record) -> MediaImage:
    media_id = strawberry.ID(gid("MediaImage", record["id"]))
    return MediaImage(
        id=media_id,
        alt=record.get("alt") or None,
        media_content_type=MediaContentType.IMAGE,
        status=MediaStatus(record.get("status") or "READY"),
        image=Image(
            id=strawberry.ID(gid("ImageSource", record["id"])),
            url=URL(record["url"]),
            alt_text=record.get("alt"),
        ),
    )


@strawberry.type
class TaxonomyCategory:
    id: strawberry.ID


def _position(record: Record) -> Any:
    return record.get("position") or 0


@strawberry.type
class Product:
    record: strawberry.Private[Record]

    id = node_id("Product")
    legacy_resource_id = legacy_id()
    title = text("title")
    handle = text("handle")
    description_html = record_field(HTML, lambda record: HTML(record["description_html"] or ""))
    description = record_field(
        str, lambda record: re.sub(r"<[^>]+>", " ", record["description_html"] or "").strip()
    )
    vendor = record_field(str, lambda record: str(record["vendor"] or ""))
    product_type = record_field(str, lambda record: str(record["product_type"] or ""))
    tags = record_field(list[str], lambda record: list(record["tags"]))
    status = record_field(ProductStatus, lambda record: ProductStatus(record["status"]))
    category = record_field(
        TaxonomyCategory | None,
        lambda record: (
            TaxonomyCategory(id=strawberry.ID(record["category"])) if record.get("category") else None
        ),
    )
    created_at = required_timestamp("created_at")
    updated_at = required_timestamp("updated_at")
    published_at = timestamp("published_at")

    @strawberry.field
    def online_store_url(self, info: Info) -> URL | None:
        if self.record["status"] != "ACTIVE" or not self.record.get("published_at"):
            return None
        return URL(f"{ctx(info).base_url}/products/{self.record['handle']}")

    @strawberry.field
    def total_inventory(self, info: Info) -> int:
        return ctx(info).shop.total_inventory(self.record)

    @strawberry.field
    def tracks_inventory(self, info: Info) -> bool:
        shop = ctx(info).shop
        items = [shop.inventory_item(v["inventory_item_id"]) for v in shop.variants_of(self.record)]
        return any(item is not None and item["tracked"] for item in items)

    @connection_field(ProductVariant, sort_value=_position, reversible=True)
    def variants(self, shop: ShopifyShop) -> PageSource[ProductVariant]:
        return shop.variants_of(self.record), lambda r: ProductVariant(record=r)

    @connection_field(Media, sort_value=_position, reversible=True)
    def media(self, shop: ShopifyShop) -> PageSource[Media]:
        return [{**m, "position": i} for i, m in enumerate(self.record["media"])], media_image


@strawberry.type
class LineItem:
    record: strawberry.Private[Record]
    currency: strawberry.Private[str]

    id = node_id("LineItem")
    sku = optional_text("sku")
    title = text("title")
    name = text("title")
    quantity = integer("quantity")
    current_quantity = integer("quantity")

    @strawberry.field
    def original_unit_price_set(self) -> MoneyBag:
        return money_bag(self.record["price"], self.currency)

    @strawberry.field
    def variant(self, info: Info) -> ProductVariant | None:
        variant = ctx(info).shop.variant(self.record["variant_id"])
        return ProductVariant(record=variant) if variant else None

    @strawberry.field
    def product(self, info: Info) -> Product | None:
        product = ctx(info).shop.product(self.record["product_id"])
        return Product(record=product) if product else None


@strawberry.type
class FulfillmentOrderLineItem:
    record: strawberry.Private[Record]
    order: strawberry.Private[Record]

    id = node_id("FulfillmentOrderLineItem")
    total_quantity = integer("total_quantity")
    remaining_quantity = integer("remaining_quantity")

    @strawberry.field
    def line_item(self) -> LineItem:
        line = next(li for li in self.order["line_items"] if li["id"] == self.record["line_item_id"])
        return LineItem(record=line, currency=self.order["currency"])


@strawberry.type
class FulfillmentOrder:
    record: strawberry.Private[Record]

    id = node_id("FulfillmentOrder")
    status = record_field(FulfillmentOrderStatus, lambda record: FulfillmentOrderStatus(record["status"]))
    created_at = timestamp("created_at")
    updated_at = timestamp("updated_at")

    @connection_field(FulfillmentOrderLineItem)
    def line_items(self, shop: ShopifyShop) -> PageSource[FulfillmentOrderLineItem]:
        order = shop.order(self.record["order_id"])
        assert order is not None
        return self.record["line_items"], lambda r: FulfillmentOrderLineItem(record=r, order=order)

    @strawberry.field
    def order(self, info: Info) -> Order:
        order = ctx(info).shop.order(self.record["order_id"])
        assert order is not None
        return Order(record=order)


@strawberry.type
class FulfillmentTrackingInfo:
    company: str | None
    number: str | None
    url: URL | None


@strawberry.type
class Fulfillment:
    record: strawberry.Private[Record]

    id = node_id("Fulfillment")
    status = record_field(FulfillmentStatus, lambda record: FulfillmentStatus(record["status"]))

    @strawberry.field
    def tracking_info(self, first: int | None = None) -> list[FulfillmentTrackingInfo]:
        infos = [
            FulfillmentTrackingInfo(
                company=t["company"], number=t["number"], url=URL(t["url"]) if t["url"] else None
            )
            for t in self.record["tracking_info"]
        ]
        return infos[:first] if first is not None else infos

    created_at = timestamp("created_at")
    updated_at = timestamp("updated_at")


@strawberry.type
class Order:
    record: strawberry.Private[Record]

    id = node_id("Order")
    legacy_resource_id = legacy_id()
    name = text("name")
    email = record_field(str | None, lambda record: record.get("email"))
    created_at = required_timestamp("created_at")
    updated_at = required_timestamp("updated_at")
    processed_at = timestamp("processed_at")
    cancelled_at = timestamp("cancelled_at")
    closed_at = timestamp("closed_at")
    display_financial_status = record_field(
        OrderDisplayFinancialStatus | None,
        lambda record: OrderDisplayFinancialStatus(record["financial_status"]),
    )

    @strawberry.field
    def display_fulfillment_status(self, info: Info) -> OrderDisplayFulfillmentStatus:
        return OrderDisplayFulfillmentStatus(ctx(info).shop.display_fulfillment_status(self.record))

    currency_code = record_field(CurrencyCode, lambda record: CurrencyCode(record["currency"]))
    current_total_price_set = money_set("total")
    total_price_set = money_set("total")
    current_subtotal_price_set = money_set("subtotal")
    subtotal_price_set = money_set("subtotal")
    total_shipping_price_set = money_set("shipping")
    total_tax_set = money_set("tax")
    current_total_tax_set = money_set("tax")

    @strawberry.field
    def shipping_address(self) -> MailingAddress | None:
        address = self.record.get("shipping_address")
        if not address:
            return None
        return MailingAddress(
            name=address["name"],
            address1=address["address1"],
            address2=address["address2"],
            city=address["city"],
            province=address["province"],
            province_code=address["province_code"],
            zip=address["zip"],
            country=address["country"],
            country_code_v2=CountryCode(address["country_code"]),
            phone=address["phone"],
        )

    @connection_field(LineItem)
    def line_items(self, shop: ShopifyShop) -> PageSource[LineItem]:
        return self.record["line_items"], lambda r: LineItem(record=r, currency=self.record["currency"])

    @connection_field(FulfillmentOrder)
    def fulfillment_orders(self, shop: ShopifyShop) -> PageSource[FulfillmentOrder]:
        found = (shop.fulfillment_order(i) for i in self.record["fulfillment_order_ids"])
        return [fo for fo in found if fo], lambda r: FulfillmentOrder(record=r)

    @strawberry.field
    def fulfillments(self, info: Info, first: int | None = None) -> list[Fulfillment]:
        shop = ctx(info).shop
        found = [
            Fulfillment(record=f) for f in (shop.fulfillment(i) for i in self.record["fulfillment_ids"]) if f
        ]
        return found[:first] if first is not None else found


# Search ---------------------------------------------------------------------------------------------


def _variant_skus(shop: ShopifyShop, product: Record) -> list[str]:
    return [v["sku"] for v in shop.variants_of(product) if v["sku"]]


def product_fields(shop: ShopifyShop) -> dict[str, Getter]:
    return {
        "title": lambda p: p["title"],
        "status": lambda p: p["status"].lower(),
        "sku": lambda p: _variant_skus(shop, p),
        "vendor": lambda p: p["vendor"],
        "product_type": lambda p: p["product_type"],
        "tag": lambda p: p["tags"],
        "handle": lambda p: p["handle"],
        "id": lambda p: int(p["id"]),
        "created_at": lambda p: _time(p["created_at"]),
        "updated_at": lambda p: _time(p["updated_at"]),
        "published_at": lambda p: _time(p.get("published_at")),
        "inventory_total": lambda p: shop.total_inventory(p),
    }


def order_fields(shop: ShopifyShop) -> dict[str, Getter]:
    def status(order: Record) -> str:
        if order.get("cancelled_at"):
            return "cancelled"
        return "closed" if order.get("closed_at") else "open"

    def fulfillment(order: Record) -> str:
        return {"FULFILLED": "shipped", "PARTIALLY_FULFILLED": "partial"}.get(
            shop.display_fulfillment_status(order), "unshipped"
        )

    return {
        "name": lambda o: o["name"],
        "email": lambda o: o.get("email"),
        "id": lambda o: int(o["id"]),
        "status": status,
        "financial_status": lambda o: o["financial_status"].lower(),
        "fulfillment_status": fulfillment,
        "sku": lambda o: [li["sku"] for li in o["line_items"]],
        "created_at": lambda o: _time(o["created_at"]),
        "updated_at": lambda o: _time(o["updated_at"]),
        "processed_at": lambda o: _time(o.get("processed_at")),
    }


@dataclasses.dataclass(frozen=True)
class Search(Generic[T]):
    """A root list filtered by Shopify's search syntax; a sort key with no field sorts by id."""

    records: Callable[[ShopifyShop], Sequence[Record]]
    fields: Callable[[ShopifyShop], dict[str, Getter]]
    default_field: str
    sort_fields: dict[Any, str]
    wrap: Callable[[Record], T]

    def connection(
        self,
        shop: ShopifyShop,
        query: str | None,
        sort_key: enum.Enum,
        first: int | None,
        last: int | None,
        after: str | None,
        before: str | None,
        reverse: bool,
    ) -> Connection[T]:
        fields = self.fields(shop)
        terms = parse_query(query)
        found = [
            record for record in self.records(shop) if matches(record, terms, fields, self.default_field)
        ]
        getter = fields.get(self.sort_fields.get(sort_key, "id"), fields["id"])
        return connection(found, getter, self.wrap, first, last, after, before, reverse)


PRODUCT_SEARCH = Search(
    records=ShopifyShop.products,
    fields=product_fields,
    default_field="title",
    sort_fields={
        ProductSortKeys.CREATED_AT: "created_at",
        ProductSortKeys.UPDATED_AT: "updated_at",
        ProductSortKeys.PUBLISHED_AT: "published_at",
        ProductSortKeys.TITLE: "title",
        ProductSortKeys.VENDOR: "vendor",
        ProductSortKeys.PRODUCT_TYPE: "product_type",
        ProductSortKeys.INVENTORY_TOTAL: "inventory_total",
    },
    wrap=lambda r: Product(record=r),
)
ORDER_SEARCH = Search(
    records=ShopifyShop.orders,
    fields=order_fields,
    default_field="name",
    sort_fields={
        OrderSortKeys.CREATED_AT: "created_at",
        OrderSortKeys.UPDATED_AT: "updated_at",
        OrderSortKeys.PROCESSED_AT: "processed_at",
    },
    wrap=lambda r: Order(record=r),
)


# Inputs ---------------------------------------------------------------------------------------------


@strawberry.input
class ProductSetIdentifiers:
    id: strawberry.ID | None = strawberry.UNSET
    handle: str | None = strawberry.UNSET


@strawberry.input
class OptionValueSetInput:
    name: str | None = strawberry.UNSET


@strawberry.input
class OptionSetInput:
    name: str | None = strawberry.UNSET
    values: list[OptionValueSetInput] | None = strawberry.UNSET


@strawberry.input
class VariantOptionValueInput:
    option_name: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET


@strawberry.input
class InventoryItemInput:
    sku: str | None = strawberry.UNSET
    tracked: bool | None = strawberry.UNSET
    cost: Decimal | None = strawberry.UNSET


@strawberry.input
class ProductSetInventoryInput:
    location_id: strawberry.ID
    name: str
    quantity: int


@strawberry.input
class ProductVariantSetInput:
    id: strawberry.ID | None = strawberry.UNSET
    option_values: list[VariantOptionValueInput] | None = strawberry.UNSET
    sku: str | None = strawberry.UNSET
    price: Money | None = strawberry.UNSET
    compare_at_price: Money | None = strawberry.UNSET
    inventory_item: InventoryItemInput | None = strawberry.UNSET
    inventory_quantities: list[ProductSetInventoryInput] | None = strawberry.UNSET


@strawberry.input
class FileSetInput:
    original_source: str | None = strawberry.UNSET
    alt: str | None = strawberry.UNSET
    content_type: FileContentType | None = strawberry.UNSET
    filename: str | None = strawberry.UNSET
    id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class ProductUpdateInput:
    id: strawberry.ID | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    description_html: str | None = strawberry.UNSET
    handle: str | None = strawberry.UNSET
    vendor: str | None = strawberry.UNSET
    product_type: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    status: ProductStatus | None = strawberry.UNSET


@strawberry.input
class ProductSetInput(ProductUpdateInput):
    # productSet takes every productUpdate field, in the same order, then the lists it replaces.

    category: strawberry.ID | None = strawberry.UNSET
    product_options: list[OptionSetInput] | None = strawberry.UNSET
    variants: list[ProductVariantSetInput] | None = strawberry.UNSET
    files: list[FileSetInput] | None = strawberry.UNSET


@strawberry.input
class ProductVariantsBulkInput:
    id: strawberry.ID | None = strawberry.UNSET
    price: Money | None = strawberry.UNSET
    compare_at_price: Money | None = strawberry.UNSET
    inventory_item: InventoryItemInput | None = strawberry.UNSET


@strawberry.input
class InventoryQuantityInput:
    inventory_item_id: strawberry.ID
    location_id: strawberry.ID
    quantity: int
    compare_quantity: int | None = strawberry.UNSET
    change_from_quantity: int | None = strawberry.UNSET


@strawberry.input
class InventorySetQuantitiesInput:
    name: str
    reason: str
    quantities: list[InventoryQuantityInput]
    reference_document_uri: str | None = strawberry.UNSET
    ignore_compare_quantity: bool | None = False


@strawberry.input
class InventoryChangeInput:
    delta: int
    inventory_item_id: strawberry.ID
    location_id: strawberry.ID
    ledger_document_uri: str | None = strawberry.UNSET
    change_from_quantity: int | None = strawberry.UNSET


@strawberry.input
class InventoryAdjustQuantitiesInput:
    name: str
    reason: str
    changes: list[InventoryChangeInput]
    reference_document_uri: str | None = strawberry.UNSET


@strawberry.input
class FulfillmentOrderLineItemInput:
    id: strawberry.ID
    quantity: int


@strawberry.input
class FulfillmentOrderLineItemsInput:
    fulfillment_order_id: strawberry.ID
    fulfillment_order_line_items: list[FulfillmentOrderLineItemInput] | None = strawberry.UNSET


@strawberry.input
class FulfillmentTrackingInput:
    company: str | None = strawberry.UNSET
    number: str | None = strawberry.UNSET
    numbers: list[str] | None = strawberry.UNSET
    url: URL | None = strawberry.UNSET
    urls: list[URL] | None = strawberry.UNSET


@strawberry.input
class FulfillmentInput:
    line_items_by_fulfillment_order: list[FulfillmentOrderLineItemsInput]
    tracking_info: FulfillmentTrackingInput | None = strawberry.UNSET
    notify_customer: bool | None = False


def plain(value: Any) -> Any:
    """A strawberry input as a plain dict (snake_case keys); fields never sent are left out, not None."""
    if value is strawberry.UNSET:
        return UNSET
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if getattr(value, field.name) is not strawberry.UNSET
        }
    return value


# Payloads -------------------------------------------------------------------------------------------


@strawberry.type
class UserError:
    field: list[str] | None
    message: str


@strawberry.type
class ProductSetUserError(UserError):
    code: ProductSetUserErrorCode | None


@strawberry.type
class ProductVariantsBulkUpdateUserError(UserError):
    code: ProductVariantsBulkUpdateUserErrorCode | None


@strawberry.type
class InventorySetQuantitiesUserError(UserError):
    code: InventorySetQuantitiesUserErrorCode | None


@strawberry.type
class InventoryAdjustQuantitiesUserError(UserError):
    code: InventoryAdjustQuantitiesUserErrorCode | None


def _errors(errors: list[Record], cls: type[Any], codes: type[enum.Enum] | None) -> list[Any]:
    made = []
    for error in errors:
        values: dict[str, Any] = {"field": error["field"], "message": error["message"]}
        if codes is not None:
            values["code"] = codes(error["code"]) if error.get("code") else None
        made.append(cls(**values))
    return made


@strawberry.type
class ProductSetPayload:
    product: Product | None
    user_errors: list[ProductSetUserError]


@strawberry.type
class ProductUpdatePayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class ProductVariantsBulkUpdatePayload:
    product: Product | None
    product_variants: list[ProductVariant] | None
    user_errors: list[ProductVariantsBulkUpdateUserError]


@strawberry.type
class InventoryChange:
    record: strawberry.Private[Record]

    name = text("name")
    delta = integer("delta")
    quantity_after_change = record_field(int | None, lambda record: record.get("quantity_after_change"))

    @strawberry.field
    def item(self, info: Info) -> InventoryItem | None:
        item = ctx(info).shop.inventory_item(self.record.get("item_id"))
        return InventoryItem(record=item) if item else None


@strawberry.type
class InventoryAdjustmentGroup:
    record: strawberry.Private[Record]

    id = node_id("InventoryAdjustmentGroup")
    created_at = required_timestamp("created_at")
    reason = text("reason")
    reference_document_uri = record_field(str | None, lambda record: record.get("reference_document_uri"))

    @strawberry.field
    def changes(self, quantity_names: list[str] | None = None) -> list[InventoryChange]:
        return [
            InventoryChange(record=change)
            for change in self.record["changes"]
            if quantity_names is None or change["name"] in quantity_names
        ]


@strawberry.type
class InventorySetQuantitiesPayload:
    inventory_adjustment_group: InventoryAdjustmentGroup | None
    user_errors: list[InventorySetQuantitiesUserError]


@strawberry.type
class InventoryAdjustQuantitiesPayload:
    inventory_adjustment_group: InventoryAdjustmentGroup | None
    user_errors: list[InventoryAdjustQuantitiesUserError]


@strawberry.type
class FulfillmentCreatePayload:
    fulfillment: Fulfillment | None
    user_errors: list[UserError]


# Roots ----------------------------------------------------------------------------------------------


@strawberry.directive(
    locations=[DirectiveLocation.FIELD],
    description="Makes the mutation idempotent for this key (shopify.dev/docs/api/usage/idempotent-requests).",
)
def idempotent(key: str, value: DirectiveValue[Any]) -> Any:
    return value


@strawberry.type(name="QueryRoot")
class Query:
    @strawberry.field
    def shop(self, info: Info) -> Shop:
        options = ctx(info).shop.options
        return Shop(
            name=SHOP_NAME,
            myshopify_domain=options.shop_domain,
            currency_code=CurrencyCode(SHOP_CURRENCY),
            url=URL(ctx(info).base_url),
        )

    product = node_field(Product, ShopifyShop.product)

    @strawberry.field
    def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        query: str | None = None,
        sort_key: ProductSortKeys = ProductSortKeys.ID,
        reverse: bool = False,
    ) -> Connection[Product]:
        return PRODUCT_SEARCH.connection(ctx(info).shop, query, sort_key, first, last, after, before, reverse)

    product_variant = node_field(ProductVariant, ShopifyShop.variant)
    inventory_item = node_field(InventoryItem, ShopifyShop.inventory_item)
    location = node_field(Location, lambda _shop, number: ShopifyShop.location(number))

    @connection_field(Location)
    def locations(self, shop: ShopifyShop) -> PageSource[Location]:
        return [dict(loc) for loc in LOCATIONS], lambda r: Location(record=r)

    order = node_field(Order, ShopifyShop.order)

    @strawberry.field
    def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        query: str | None = None,
        sort_key: OrderSortKeys = OrderSortKeys.PROCESSED_AT,
        reverse: bool = False,
    ) -> Connection[Order]:
        return ORDER_SEARCH.connection(ctx(info).shop, query, sort_key, first, last, after, before, reverse)

    fulfillment_order = node_field(FulfillmentOrder, ShopifyShop.fulfillment_order)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def product_set(
        self,
        info: Info,
        input: ProductSetInput,  # noqa: A002 - Shopify's name
        identifier: ProductSetIdentifiers | None = None,
        synchronous: bool = True,
    ) -> ProductSetPayload:
        product, errors = ctx(info).shop.product_set(plain(input), plain(identifier) if identifier else None)
        return ProductSetPayload(
            product=Product(record=product) if product else None,
            user_errors=_errors(errors, ProductSetUserError, ProductSetUserErrorCode),
        )

    @strawberry.mutation
    def product_update(
        self,
        info: Info,
        product: ProductUpdateInput | None = None,
        identifier: ProductSetIdentifiers | None = None,
    ) -> ProductUpdatePayload:
        record, errors = ctx(info).shop.product_update(
            plain(product) if product else {}, plain(identifier) if identifier else None
        )
        return ProductUpdatePayload(
            product=Product(record=record) if record else None,
            user_errors=_errors(errors, UserError, None),
        )

    @strawberry.mutation
    def product_variants_bulk_update(
        self,
        info: Info,
        product_id: strawberry.ID,
        variants: list[ProductVariantsBulkInput],
        allow_partial_updates: bool = False,
    ) -> ProductVariantsBulkUpdatePayload:
        product, changed, errors = ctx(info).shop.variants_bulk_update(product_id, plain(variants))
        return ProductVariantsBulkUpdatePayload(
            product=Product(record=product) if product else None,
            product_variants=[ProductVariant(record=v) for v in changed] if not errors else None,
            user_errors=_errors(
                errors, ProductVariantsBulkUpdateUserError, ProductVariantsBulkUpdateUserErrorCode
            ),
        )

    @strawberry.mutation
    def inventory_set_quantities(
        self,
        info: Info,
        input: InventorySetQuantitiesInput,  # noqa: A002
    ) -> InventorySetQuantitiesPayload:
        group, errors = ctx(info).shop.inventory_set(plain(input))
        return InventorySetQuantitiesPayload(
            inventory_adjustment_group=InventoryAdjustmentGroup(record=group) if group else None,
            user_errors=_errors(errors, InventorySetQuantitiesUserError, InventorySetQuantitiesUserErrorCode),
        )

    @strawberry.mutation
    def inventory_adjust_quantities(
        self,
        info: Info,
        input: InventoryAdjustQuantitiesInput,  # noqa: A002
    ) -> InventoryAdjustQuantitiesPayload:
        context = ctx(info)
        shop = context.shop
        key = context.idempotency_keys.get(info.path.key if isinstance(info.path.key, str) else "")
        payload = plain(input)
        if key is None and shop.version_requires_idempotency:
            raise GraphQLError(
                "The @idempotent directive is required for this mutation.",
                extensions={"code": "IDEMPOTENCY_KEY_REQUIRED"},
            )
        result: Record | None = None
        if key is not None:
            stored, mismatch = shop.idempotent(key, payload)
            if mismatch:
                raise GraphQLError(
                    "The idempotency key was already used with different parameters.",
                    extensions={"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"},
                )
            result = stored
        if result is None:
            group, errors = shop.inventory_adjust(payload)
            result = {"group": group, "errors": errors}
            if key is not None and not errors:
                shop.remember(key, payload, result)
        return InventoryAdjustQuantitiesPayload(
            inventory_adjustment_group=InventoryAdjustmentGroup(record=result["group"])
            if result["group"]
            else None,
            user_errors=_errors(
                result["errors"], InventoryAdjustQuantitiesUserError, InventoryAdjustQuantitiesUserErrorCode
            ),
        )

    @strawberry.mutation
    def fulfillment_create(
        self,
        info: Info,
        fulfillment: FulfillmentInput,
        message: str | None = None,
    ) -> FulfillmentCreatePayload:
        record, errors = ctx(info).shop.fulfillment_create(plain(fulfillment))
        return FulfillmentCreatePayload(
            fulfillment=Fulfillment(record=record) if record else None,
            user_errors=_errors(errors, UserError, None),
        )


class ShopifySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Errors are the client's business: they are in the response, not the sandbox's log."""


schema = ShopifySchema(
    query=Query,
    mutation=Mutation,
    directives=[idempotent],
    types=[MediaImage],
    config=StrawberryConfig(scalar_map=SCALARS),
)
