"""Keyword-only factories for V&R tests: products whose images live on the local image server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.models import Category, Condition, Product, ProductImage, ProductStatus
from riff.channels.contract import ImageRef, ProductSnapshot


def snapshot(
    *,
    sku: str = "RIFF-20000001",
    brand: str | None = "Fender",
    model: str | None = "Stratocaster",
    year: int | None = 1965,
    finish: str | None = "Sunburst",
    price: Decimal = Decimal("12500.00"),
    description: str = "<p>A <b>lovely</b> guitar &amp; case.</p>",
    category_slug: str | None = "electric-guitars",
    category_remote_ids: list[str] | None = None,
    image_urls: list[str] | None = None,
    **extra: Any,
) -> ProductSnapshot:
    return ProductSnapshot(
        sku=sku,
        title=f"{brand} {model} {year}",
        brand=brand,
        model=model,
        year=year,
        finish=finish,
        condition="excellent",
        description=description,
        price=price,
        currency="GBP",
        category_slug=category_slug,
        category_remote_ids=category_remote_ids or [],
        images=[ImageRef(url=url, position=n) for n, url in enumerate(image_urls or [])],
        **extra,
    )


def create_product(
    session: Session,
    *,
    sku: str = "RIFF-20000001",
    brand: str | None = "Fender",
    model: str | None = "Stratocaster",
    year: int | None = 1965,
    finish: str | None = "Sunburst",
    base_price: Decimal = Decimal("12500.00"),
    category: Category | None = None,
    image_urls: list[str] | None = None,
) -> Product:
    product = Product(
        sku=sku,
        title=f"{brand} {model} {year} {finish}",
        brand=brand,
        model=model,
        year=year,
        finish=finish,
        condition=Condition.EXCELLENT,
        base_price=base_price,
        currency="GBP",
        quantity=1,
        status=ProductStatus.ACTIVE,
        description="<p>A <b>lovely</b> guitar.</p>",
        attributes={},
        category=category,
    )
    for position, url in enumerate(image_urls or []):
        product.images.append(ProductImage(position=position, source_url=url))
    session.add(product)
    session.flush()
    return product
