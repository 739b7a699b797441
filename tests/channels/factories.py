"""Keyword-only factories for channel tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.models import Category, Condition, Product, ProductImage, ProductStatus
from riff.channels import service
from riff.channels.contract import ImageRef, ProductSnapshot
from riff.channels.models import ChannelAccount, ChannelCategoryMapping
from riff.channels.schemas import AccountCreate
from riff.core.security import SecretBox

TEST_TOKEN = "reverb-personal-token-0123456789abcdef"
WEBHOOK_TOKEN = "hook-path-token-abcdefghijklmnopqrstuvwxyz"
SHIPPING_PROFILE_ID = "15655"


def create_product(
    session: Session,
    *,
    sku: str = "RIFF-10000001",
    title: str = "Fender Stratocaster 1965 Sunburst",
    brand: str | None = "Fender",
    model: str | None = "Stratocaster",
    year: int | None = 1965,
    finish: str | None = "Sunburst",
    condition: Condition = Condition.EXCELLENT,
    base_price: Decimal = Decimal("12500.00"),
    currency: str = "GBP",
    quantity: int = 1,
    category: Category | None = None,
    images: int = 2,
) -> Product:
    product = Product(
        sku=sku,
        title=title,
        brand=brand,
        model=model,
        year=year,
        finish=finish,
        condition=condition,
        base_price=base_price,
        currency=currency,
        quantity=quantity,
        status=ProductStatus.ACTIVE,
        description="A lovely guitar.",
        attributes={},
        category=category,
    )
    for position in range(images):
        product.images.append(
            ProductImage(position=position, source_url=f"https://img.example.com/{sku}/{position}.jpg")
        )
    session.add(product)
    session.flush()
    return product


def create_category(
    session: Session, *, slug: str = "electric-guitars", name: str = "Electric guitars"
) -> Category:
    category = Category(slug=slug, name=name, attribute_schema=[])
    session.add(category)
    session.flush()
    return category


def create_product_mapped_to(session: Session, *, channel: str, remote_id: str) -> Product:
    """A product whose category is mapped to ``remote_id`` on ``channel`` (a category the platform refuses,
    in the tests that need one)."""
    category = create_category(session, slug="oddities")
    session.add(
        ChannelCategoryMapping(
            category_id=category.id, channel=channel, remote_ids=[remote_id], remote_names=["Nowhere"]
        )
    )
    return create_product(session, category=category)


def product_snapshot(sku: str = "RIFF-T-0001", **overrides: Any) -> ProductSnapshot:
    """The product as an adapter is handed it (no database): a 1965 Stratocaster with two pictures."""
    values: dict[str, Any] = {
        "sku": sku,
        "title": "Fender Stratocaster 1965 Sunburst",
        "brand": "Fender",
        "model": "Stratocaster",
        "year": 1965,
        "finish": "Sunburst",
        "condition": "excellent",
        "description": "Refretted in 1990; original pickups.",
        "price": Decimal("12500.00"),
        "currency": "GBP",
        "images": [ImageRef(url=f"https://img.example.com/{sku}/{i}.jpg", position=i) for i in range(2)],
    }
    return ProductSnapshot(**(values | overrides))


def create_reverb_account(
    session: Session,
    master_key: bytes,
    *,
    base_url: str | None = None,
    token: str = TEST_TOKEN,
    name: str = "default",
    config: dict[str, Any] | None = None,
    webhook_token: str | None = WEBHOOK_TOKEN,
) -> ChannelAccount:
    secrets = {"token": token}
    if webhook_token:
        secrets["webhook_token"] = webhook_token
    return service.create_account(
        session,
        SecretBox(master_key),
        AccountCreate(
            channel="reverb",
            name=name,
            base_url=base_url,
            is_sandbox=base_url is not None,
            config={"currency": "GBP", "shipping_profile_id": SHIPPING_PROFILE_ID, **(config or {})},
            secrets=secrets,
        ),
    )
