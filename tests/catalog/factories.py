"""Keyword-only factories for catalog rows. They go through the services, so stock movements, decade
derivation and attribute validation behave as in production."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog import service
from riff.catalog.models import Category, Condition, Product, ProductStatus
from riff.catalog.schemas import ProductCreate
from riff.channels.models import ChannelPriceRule, Listing, ListingState

_sequence = itertools.count(1)

GUITAR_SCHEMA: list[dict[str, Any]] = [
    {"name": "handedness", "type": "choice", "choices": ["right", "left", "ambidextrous"], "required": False},
    {"name": "number_of_strings", "type": "int", "required": False},
    {"name": "body_shape", "type": "str", "required": False},
]
RECORD_SCHEMA: list[dict[str, Any]] = [
    {"name": "format", "type": "choice", "choices": ["lp", "ep", "single"], "required": True},
    {"name": "artist", "type": "str", "required": False},
]


def create_category(
    session: Session,
    *,
    slug: str = "guitars",
    name: str | None = None,
    parent: Category | None = None,
    attribute_schema: list[dict[str, Any]] | None = None,
) -> Category:
    category = Category(
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        parent_id=parent.id if parent else None,
        attribute_schema=attribute_schema if attribute_schema is not None else [],
    )
    session.add(category)
    session.flush()
    return category


def create_guitar_categories(session: Session) -> dict[str, Category]:
    guitars = create_category(session, slug="guitars", attribute_schema=GUITAR_SCHEMA)
    electric = create_category(session, slug="electric-guitars", parent=guitars)
    records = create_category(session, slug="records", attribute_schema=RECORD_SCHEMA)
    return {"guitars": guitars, "electric-guitars": electric, "records": records}


def create_product(
    session: Session,
    *,
    sku: str | None = None,
    title: str = "Fender Telecaster 1965 Sunburst",
    brand: str | None = "Fender",
    model: str | None = "Telecaster",
    year: int | None = 1965,
    decade: str | None = None,
    finish: str | None = "Sunburst",
    condition: Condition = Condition.VERY_GOOD,
    category: str | None = None,
    description: str = "",
    price: Decimal | str = Decimal("1000.00"),
    currency: str = "GBP",
    cost: Decimal | str | None = None,
    quantity: int = 1,
    is_stocked_item: bool = False,
    status: ProductStatus = ProductStatus.ACTIVE,
    attributes: dict[str, Any] | None = None,
    notes: str = "",
    actor: str = "tests",
) -> Product:
    data = ProductCreate(
        sku=sku or f"SKU-{next(_sequence):05d}",
        title=title,
        brand=brand,
        model=model,
        year=year,
        decade=decade,
        finish=finish,
        condition=condition,
        category=category,
        description=description,
        price=Decimal(price),
        currency=currency,
        cost=None if cost is None else Decimal(cost),
        quantity=quantity,
        is_stocked_item=is_stocked_item,
        status=status,
        attributes=attributes or {},
        notes=notes,
    )
    return service.create_product(session, data, actor=actor)


def create_price_rule(
    session: Session, *, channel: str, markup_percent: Decimal | str = "0", price_endings: str = ""
) -> ChannelPriceRule:
    rule = ChannelPriceRule(
        channel=channel, markup_percent=Decimal(markup_percent), price_endings=price_endings
    )
    session.add(rule)
    session.flush()
    return rule


def create_listing(
    session: Session,
    *,
    product: Product,
    channel: str = "reverb",
    state: ListingState = ListingState.LIVE,
    price_override: Decimal | str | None = None,
    remote_id: str | None = None,
) -> Listing:
    listing = Listing(
        product_id=product.id,
        channel=channel,
        state=state,
        remote_id=remote_id or f"{channel}-{next(_sequence)}",
        price_override=None if price_override is None else Decimal(price_override),
        extras={},
    )
    session.add(listing)
    session.flush()
    return listing
