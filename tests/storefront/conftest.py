"""Storefront tests: the public feed over the app (no login), on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from riff.catalog.models import Category, Condition, Product, ProductImage, ProductStatus
from riff.channels.models import Listing, ListingState
from riff.core.db import Database
from riff.records import service as records
from riff.records.schemas import RecordCreate
from riff.storefront.config import StorefrontSettings

ALLOWED_ORIGIN = "https://shop.example"
SECRET_NOTE = "bought from a pawn shop for 50"
SECRET_COST = Decimal("777.77")


@dataclass
class Shop:
    record_ids: list[int]
    guitar_id: int
    amp_id: int
    draft_id: int
    sold_id: int
    discogs_listing_id: str


@pytest.fixture
def public(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app.state.storefront_settings = StorefrontSettings(
        cors_origins=f"{ALLOWED_ORIGIN}, https://www.shop.example"
    )
    with TestClient(app) as client:
        yield client


def _gear(
    session, *, sku: str, title: str, brand: str, category: Category, status: ProductStatus, **extra
) -> Product:  # type: ignore[no-untyped-def]
    product = Product(
        sku=sku,
        title=title,
        brand=brand,
        model=extra.pop("model", None),
        year=extra.pop("year", None),
        condition=Condition.EXCELLENT,
        base_price=extra.pop("price", Decimal("1500.00")),
        currency="GBP",
        quantity=extra.pop("quantity", 1),
        status=status,
        description="Played in, plays great.",
        attributes={"serial_number": "SECRET-SERIAL-123"},
        cost=SECRET_COST,
        notes=SECRET_NOTE,
        category=category,
    )
    product.images.append(ProductImage(position=0, source_url=f"https://img.example/{sku}.jpg"))
    session.add(product)
    session.flush()
    return product


@pytest.fixture
def shop(database: Database) -> Shop:
    with database.session() as session:
        guitars = Category(slug="electric-guitars", name="Electric guitars", attribute_schema=[])
        amps = Category(slug="amps", name="Amplifiers", attribute_schema=[])
        session.add_all([guitars, amps])
        session.flush()
        guitar = _gear(session, sku="G-1", title="Fender Stratocaster 1965", brand="Fender", model="Stratocaster",
                       category=guitars, status=ProductStatus.ACTIVE, year=1965)  # fmt: skip
        amp = _gear(
            session, sku="A-1", title="Vox AC30 1964", brand="Vox", category=amps, status=ProductStatus.ACTIVE
        )
        draft = _gear(
            session,
            sku="G-2",
            title="Gibson draft",
            brand="Gibson",
            category=guitars,
            status=ProductStatus.DRAFT,
        )
        sold = _gear(
            session,
            sku="G-3",
            title="Gibson sold",
            brand="Gibson",
            category=guitars,
            status=ProductStatus.SOLD,
            quantity=0,
        )
        session.add(
            Listing(product_id=guitar.id, channel="reverb", remote_id="91980001", state=ListingState.LIVE,
                    remote_url="https://reverb.com/item/91980001", extras={})
        )  # fmt: skip
        record_ids = []
        for n, (artist, title, genres, fmt) in enumerate(
            [
                ("Miles Harbor Quintet", "Kind Of Indigo", ["Jazz"], "LP, Album"),
                ("Kraftwerker", "Autobahnen", ["Electronic"], "CD, Album"),
                ("Nina Crowe", "Wild Is The Night", ["Jazz", "Blues"], '7", Single'),
            ]
        ):
            product = records.create_record(
                session,
                RecordCreate(
                    sku=f"DISCOGS-15090000{n}",
                    artist=artist,
                    title=title,
                    genres=genres,
                    format_text=fmt,
                    price=Decimal("20.00") + n,
                    currency="USD",
                    status=ProductStatus.ACTIVE,
                    media_condition="VG+",
                    cost=SECRET_COST,
                    notes=SECRET_NOTE,
                    cover_image_url=f"https://img.example/cover-{n}.jpg",
                ),
                actor="test",
            )
            record_ids.append(product.id)
            session.add(
                Listing(product_id=product.id, channel="discogs", remote_id=f"15090000{n}", state=ListingState.LIVE,
                        remote_url=f"https://www.discogs.com/sell/item/15090000{n}", extras={})
            )  # fmt: skip
        session.flush()
        return Shop(record_ids, guitar.id, amp.id, draft.id, sold.id, "150900000")
