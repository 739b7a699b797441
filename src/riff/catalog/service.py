"""Catalog domain logic: products, stock, bulk edits, price rules. Services flush, never commit.

The read side (filters, pages, export) is in ``queries``; categories and schemas in ``categories``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from riff.catalog import pricing, queries
from riff.catalog.attributes import validate_attributes
from riff.catalog.categories import CategoryIndex
from riff.catalog.models import Category, MovementReason, Product, ProductStatus, StockMovement
from riff.catalog.repository import (
    PriceRuleRepository,
    ProductRepository,
)
from riff.catalog.schemas import (
    BulkItem,
    BulkItemResult,
    BulkResult,
    PriceRuleIn,
    PriceRuleOut,
    ProductCreate,
    ProductUpdate,
)
from riff.channels.models import ChannelPriceRule
from riff.core.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from riff.core.logging import get_logger

log = get_logger(__name__)

# The read side lives in queries; re-exported so riff.catalog.service stays the one entry point.
check_channel = queries.check_channel
parse_filters = queries.parse_filters
list_products = queries.list_products
products_out = queries.products_out
product_out = queries.product_out
export_csv = queries.export_csv
count_products = queries.count_products

MAX_BULK_ITEMS = 1000
# Fields a PATCH may not set to null: they have no "empty" value.
NOT_NULLABLE = frozenset(
    {"sku", "title", "price", "currency", "condition", "quantity", "is_stocked_item", "status", "attributes"}
)


def derive_decade(year: int | None) -> str | None:
    return None if year is None else f"{year // 10 * 10}s"


# -- stock --------------------------------------------------------------------------------------


def _check_quantity_kind(quantity: int, is_stocked_item: bool) -> None:
    if not is_stocked_item and quantity > 1:
        raise ValidationFailed(
            "a one-of-a-kind item (is_stocked_item=false) has quantity 0 or 1", field="quantity"
        )


def adjust_stock(
    session: Session,
    product: Product,
    delta: int,
    reason: MovementReason,
    actor: str,
    reference: str | None = None,
    *,
    expected_version: int | None = None,
    sync: bool = True,
) -> StockMovement | None:
    """Add ``delta`` to the product's quantity with one conditional UPDATE and record the movement.

    Never read-modify-write: two concurrent sales of the last unit cannot both succeed, because the
    second UPDATE's ``quantity + delta >= 0`` no longer holds. Raises Conflict (``insufficient_stock``)
    when the change would go below zero or above one for a one-of-a-kind item, and VersionConflict when
    ``expected_version`` is given and no longer current. Returns None for a zero delta. With ``sync`` the
    sync engine pushes the new quantity to the channels in this transaction (the sale path passes False:
    it decides itself which listings to end).
    """
    if delta == 0:
        return None
    repo = ProductRepository(session)
    # Pending ORM changes must reach the row before the UPDATE that reads it.
    _flush(session, product)
    result = repo.add_to_quantity(product, delta, expected_version=expected_version)
    if result is None:
        current = repo.current_stock(product.id)
        if current is None:
            raise NotFound(f"product {product.id} no longer exists")
        quantity, version, is_stocked_item = current
        if expected_version is not None and version != expected_version:
            raise VersionConflict(
                "the product changed since you read it; reload and try again",
                field="version",
                details={"current_version": version},
            )
        if quantity + delta < 0:
            message = f"cannot remove {-delta} from stock of {quantity} for {product.sku}"
        else:
            message = f"{product.sku} is one-of-a-kind: quantity {quantity + delta} is more than 1"
        raise Conflict(message, field="quantity", code="insufficient_stock", details={"quantity": quantity})
    quantity, version, updated_at = result
    # The UPDATE bypassed the unit of work; tell the identity map what the row now holds so a later
    # flush of this product does not trip its own version check.
    set_committed_value(product, "quantity", quantity)
    set_committed_value(product, "version", version)
    set_committed_value(product, "updated_at", updated_at)
    movement = repo.add_movement(
        product_id=product.id,
        delta=delta,
        quantity_after=quantity,
        reason=reason,
        actor=actor,
        reference=reference,
    )
    session.flush()
    log.info("catalog.stock.adjust.success", sku=product.sku, delta=delta, quantity=quantity, reason=reason)
    if sync:
        _push_to_channels(session, product, ["quantity"], actor)
    return movement


def set_quantity(
    session: Session,
    product: Product,
    quantity: int,
    reason: MovementReason,
    actor: str,
    reference: str | None = None,
    *,
    expected_version: int | None = None,
    sync: bool = True,
) -> StockMovement | None:
    """Move stock to an absolute count, as a delta from what this transaction read."""
    return adjust_stock(
        session,
        product,
        quantity - product.quantity,
        reason,
        actor,
        reference,
        expected_version=expected_version,
        sync=sync,
    )


def _push_to_channels(session: Session, product: Product, changed: Sequence[str], actor: str) -> None:
    """Hand a change to the sync engine: in this transaction, one coalesced job per affected listing."""
    from riff.sync import push  # late: riff.sync builds on the catalog

    push.product_changed(session, product, changed, actor=actor)


def _flush(session: Session, product: Product | None) -> None:
    try:
        session.flush()
    except StaleDataError:
        # Another transaction saved this product between our read and our write. The failed flush
        # leaves the session unusable, so roll it back (the boundary would anyway) to read the version.
        session.rollback()
        current = ProductRepository(session).current_version(product.id) if product is not None else None
        raise VersionConflict(
            "the product was changed by someone else while saving; reload and try again",
            field="version",
            details={"current_version": current},
        ) from None
    except IntegrityError as exc:
        session.rollback()
        if "sku" in str(exc.orig).lower():
            which = f"SKU {product.sku!r}" if product is not None else "one of these SKUs"
            raise Conflict(f"{which} already exists", field="sku", code="duplicate_sku") from None
        raise Conflict("the change conflicts with existing data", code="integrity_error") from None


# -- products -----------------------------------------------------------------------------------


def prepare_create(session: Session, data: ProductCreate, *, categories: CategoryIndex) -> dict[str, Any]:
    """Validate a new product as a whole (category, attributes, decade, quantity) without writing."""
    category = categories.resolve(data.category)
    attributes = validate_attributes(data.attributes, categories.schema_for(category))
    _check_quantity_kind(data.quantity, data.is_stocked_item)
    return {
        "sku": data.sku,
        "title": data.title,
        "brand": data.brand,
        "model": data.model,
        "year": data.year,
        "decade": _decade(data.year, data.decade),
        "finish": data.finish,
        "condition": data.condition,
        "category": category,
        "description": data.description or "",
        "base_price": data.price,
        "currency": data.currency,
        "cost": data.cost,
        "quantity": data.quantity,
        "is_stocked_item": data.is_stocked_item,
        "status": data.status,
        "attributes": attributes,
        "notes": data.notes or "",
    }


def create_product(
    session: Session,
    data: ProductCreate,
    *,
    actor: str,
    reason: MovementReason = MovementReason.INITIAL,
    reference: str | None = None,
    categories: CategoryIndex | None = None,
) -> Product:
    """Insert a product; an initial quantity is recorded as a stock movement (``reason``)."""
    if ProductRepository(session).sku_taken(data.sku):
        raise Conflict(f"SKU {data.sku!r} already exists", field="sku", code="duplicate_sku")
    return create_products(session, [(data, reference)], actor=actor, reason=reason, categories=categories)[0]


def create_products(
    session: Session,
    items: Sequence[tuple[ProductCreate, str | None]],
    *,
    actor: str,
    reason: MovementReason,
    categories: CategoryIndex | None = None,
) -> list[Product]:
    """Insert many new products in one flush (imports); each non-zero quantity gets a movement.

    SKUs are expected to be free (the caller checked); a concurrent insert of the same SKU surfaces as
    Conflict from the unique constraint.
    """
    categories = categories or CategoryIndex.load(session)
    products = [Product(**prepare_create(session, data, categories=categories)) for data, _ in items]
    session.add_all(products)
    _flush(session, products[0] if len(products) == 1 else None)
    repo = ProductRepository(session)
    for product, (_, reference) in zip(products, items, strict=True):
        if product.quantity:
            repo.add_movement(
                product_id=product.id,
                delta=product.quantity,
                quantity_after=product.quantity,
                reason=reason,
                actor=actor,
                reference=reference,
            )
    session.flush()
    if len(products) == 1:
        log.info("catalog.product.create.success", sku=products[0].sku, actor=actor, reason=reason)
    else:
        log.info("catalog.product.create.success", count=len(products), actor=actor, reason=reason)
    return products


def _decade(year: int | None, decade: str | None) -> str | None:
    if decade is None:
        return derive_decade(year)
    if year is not None and derive_decade(year) != decade:
        raise ValidationFailed(f"decade {decade} does not match year {year}", field="decade")
    return decade


def update_product(
    session: Session,
    product: Product,
    changes: ProductUpdate,
    *,
    actor: str,
    categories: CategoryIndex | None = None,
) -> list[str]:
    """Apply the fields the client sent; returns the names of the fields that actually changed.

    The client's ``version`` must be the current one, else VersionConflict with the current version.
    """
    if changes.version != product.version:
        raise VersionConflict(
            f"version {changes.version} is stale: the product is at version {product.version}",
            field="version",
            details={"current_version": product.version},
        )
    sent = {name: getattr(changes, name) for name in changes.model_fields_set if name != "version"}
    prepared = prepare_changes(session, product, sent, categories=categories)
    return write_changes(session, product, prepared, actor=actor, reason=MovementReason.ADJUSTMENT)


@dataclass
class PreparedChanges:
    """A validated edit: ORM attribute values that differ, and the new quantity when it differs."""

    values: dict[str, Any]
    quantity: int | None

    @property
    def changed(self) -> list[str]:
        names = [_api_name(name) for name in self.values]
        return [*names, "quantity"] if self.quantity is not None else names


def prepare_changes(
    session: Session,
    product: Product,
    sent: Mapping[str, Any],
    *,
    categories: CategoryIndex | None = None,
) -> PreparedChanges:
    """Validate the product's resulting state as a whole and work out what differs, without writing.

    ``sent`` uses API names (``price``, ``category`` slug); ``attributes`` is merged into the current
    ones, a None value removing that attribute.
    """
    for name in NOT_NULLABLE & sent.keys():
        if sent[name] is None:
            raise ValidationFailed(f"{name} may not be null", field=name)
    values: dict[str, Any] = {}
    for name in ("title", "brand", "model", "finish", "condition", "currency", "cost", "status", "year"):
        if name in sent:
            values[name] = sent[name]
    for name in ("description", "notes"):
        if name in sent:
            values[name] = sent[name] or ""
    if "price" in sent:
        values["base_price"] = sent["price"]
    if "is_stocked_item" in sent:
        values["is_stocked_item"] = sent["is_stocked_item"]
    if "sku" in sent and sent["sku"] != product.sku:
        if ProductRepository(session).sku_taken(sent["sku"], except_id=product.id):
            raise Conflict(f"SKU {sent['sku']!r} already exists", field="sku", code="duplicate_sku")
        values["sku"] = sent["sku"]

    year = sent["year"] if "year" in sent else product.year
    if "decade" in sent:
        values["decade"] = _decade(year, sent["decade"])
    elif "year" in sent:
        values["decade"] = derive_decade(year) if year is not None else product.decade

    if "category" in sent or "attributes" in sent:
        categories = categories or CategoryIndex.load(session)
        category = product.category
        if "category" in sent:
            category = categories.resolve(sent["category"])
            values["category"] = category
        attributes = dict(product.attributes or {})
        attributes.update(sent.get("attributes") or {})
        values["attributes"] = validate_attributes(attributes, categories.schema_for(category))

    quantity = sent["quantity"] if "quantity" in sent else product.quantity
    _check_quantity_kind(quantity, values.get("is_stocked_item", product.is_stocked_item))
    return PreparedChanges(
        values={name: value for name, value in values.items() if _differs(getattr(product, name), value)},
        quantity=quantity if quantity != product.quantity else None,
    )


def write_changes(
    session: Session,
    product: Product,
    prepared: PreparedChanges,
    *,
    actor: str,
    reason: MovementReason,
    reference: str | None = None,
) -> list[str]:
    """Write a prepared edit; a quantity change goes through ``set_quantity`` (a movement, never an
    overwrite) and must still find the version this transaction just wrote."""
    for name, value in prepared.values.items():
        setattr(product, name, value)
    _flush(session, product)
    if prepared.quantity is not None:
        set_quantity(
            session,
            product,
            prepared.quantity,
            reason,
            actor,
            reference,
            expected_version=product.version,
            sync=False,
        )
    changed = prepared.changed
    if changed:
        log.info("catalog.product.update.success", sku=product.sku, fields=changed, actor=actor)
        _push_to_channels(session, product, changed, actor)
    return changed


def _differs(current: Any, new: Any) -> bool:
    if isinstance(current, Category) or isinstance(new, Category):
        return (current.id if current else None) != (new.id if new else None)
    if isinstance(current, Decimal) and isinstance(new, Decimal):
        return current.compare(new) != 0
    return bool(current != new)


def _api_name(attribute: str) -> str:
    return "price" if attribute == "base_price" else attribute


def archive_product(session: Session, product: Product, *, actor: str) -> Product:
    if product.status is not ProductStatus.ARCHIVED:
        product.status = ProductStatus.ARCHIVED
        _flush(session, product)
        log.info("catalog.product.archive.success", sku=product.sku, actor=actor)
        _push_to_channels(session, product, ["status"], actor)
    return product


def get_product(session: Session, product_id: int) -> Product:
    product = ProductRepository(session).get(product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def get_product_for_update(session: Session, product_id: int) -> Product:
    product = ProductRepository(session).get_for_update(product_id)
    if product is None:
        raise NotFound(f"no product with id {product_id}")
    return product


def get_product_by_sku(session: Session, sku: str) -> Product:
    product = ProductRepository(session).get_by_sku(sku)
    if product is None:
        raise NotFound(f"no product with SKU {sku!r}", field="sku")
    return product


def stock_movements(session: Session, product: Product) -> Sequence[StockMovement]:
    return ProductRepository(session).movements(product.id)


# -- bulk -----------------------------------------------------------------------------------------


def bulk_update(session: Session, raw_items: Any, *, actor: str) -> BulkResult:
    """All-or-nothing: every item is validated first; any invalid item means nothing is written and
    ValidationFailed lists every problem as ``{index, sku, field, message}``."""
    if isinstance(raw_items, Mapping) and "items" in raw_items:
        raw_items = raw_items["items"]
    if not isinstance(raw_items, list) or not raw_items:
        raise ValidationFailed("send a non-empty list of {sku, price?, quantity?, status?}", field="items")
    if len(raw_items) > MAX_BULK_ITEMS:
        raise ValidationFailed(f"at most {MAX_BULK_ITEMS} items per request", field="items")

    errors: list[dict[str, Any]] = []
    items: list[tuple[int, BulkItem]] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        sku = raw.get("sku") if isinstance(raw, Mapping) else None
        try:
            item = BulkItem.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"]) or "item"
                errors.append({"index": index, "sku": sku, "field": field, "message": error["msg"]})
            continue
        if item.sku in seen:
            errors.append(
                {"index": index, "sku": item.sku, "field": "sku", "message": f"also in item {seen[item.sku]}"}
            )
            continue
        seen[item.sku] = index
        items.append((index, item))

    products = ProductRepository(session).get_by_skus(item.sku for _, item in items)
    prepared: list[tuple[Product, PreparedChanges]] = []
    for index, item in items:
        product = products.get(item.sku)
        if product is None:
            errors.append({"index": index, "sku": item.sku, "field": "sku", "message": "unknown SKU"})
            continue
        sent = {k: v for k, v in item.model_dump(exclude={"sku"}).items() if v is not None}
        try:
            prepared.append((product, prepare_changes(session, product, sent)))
        except ValidationFailed as exc:
            errors.append({"index": index, "sku": item.sku, "field": exc.field, "message": exc.message})
    if errors:
        errors.sort(key=lambda e: e["index"])
        first = errors[0]
        raise ValidationFailed(
            f"{len({e['index'] for e in errors})} of {len(raw_items)} items are invalid; nothing was changed",
            field=f"items[{first['index']}].{first['field']}",
            details=errors,
        )

    results: list[BulkItemResult] = []
    for product, changes in prepared:
        changed = write_changes(
            session, product, changes, actor=actor, reason=MovementReason.ADJUSTMENT, reference="bulk"
        )
        results.append(BulkItemResult(sku=product.sku, changed=changed, version=product.version))
    updated = sum(1 for r in results if r.changed)
    return BulkResult(updated=updated, unchanged=len(results) - updated, items=results)


# -- price rules ----------------------------------------------------------------------------------


def _rule_out(rule: ChannelPriceRule) -> PriceRuleOut:
    return PriceRuleOut(
        channel=rule.channel,
        markup_percent=Decimal(rule.markup_percent).quantize(pricing.CENT),
        price_endings=rule.price_endings,
    )


def list_price_rules(session: Session) -> list[PriceRuleOut]:
    return [_rule_out(rule) for rule in PriceRuleRepository(session).all()]


def get_price_rule(session: Session, channel: str) -> PriceRuleOut:
    channel = check_channel(channel) or ""
    rule = PriceRuleRepository(session).get_by_channel(channel)
    if rule is None:
        raise NotFound(f"no price rule for {channel}", field="channel")
    return _rule_out(rule)


def put_price_rule(session: Session, channel: str, data: PriceRuleIn, *, actor: str) -> PriceRuleOut:
    channel = check_channel(channel) or ""
    markup = pricing.validate_markup(data.markup_percent)
    endings = pricing.format_endings(pricing.parse_endings(data.price_endings))
    repo = PriceRuleRepository(session)
    rule = repo.get_by_channel(channel)
    if rule is None:
        rule = repo.create(ChannelPriceRule(channel=channel, markup_percent=markup, price_endings=endings))
    else:
        repo.update(rule, {"markup_percent": markup, "price_endings": endings})
    log.info(
        "catalog.price_rule.update.success", channel=channel, markup=str(markup), endings=endings, actor=actor
    )
    from riff.sync import push  # late: riff.sync builds on the catalog

    push.price_rule_changed(session, channel, actor=actor)  # every live listing there gets the new price
    return _rule_out(rule)
