"""Migration 0003: seeded categories and price rules, and the search structures it keeps in step."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.catalog import pricing
from riff.catalog.categories import CategoryIndex
from riff.catalog.models import Category
from riff.catalog.repository import PriceRuleRepository
from riff.core import migrate
from riff.core.db import Database

from .factories import create_product


def test_seeds_default_categories_and_price_rules(database: Database) -> None:
    url = database.url
    database.dispose()
    migrate.downgrade(url, "0002")
    migrate.upgrade(url)
    with database.read_session() as session:
        categories = CategoryIndex.load(session)
        assert {"guitars", "electric-guitars", "amps", "effects", "records", "clothing"} <= set(
            categories.by_slug
        )
        electric = categories.by_slug["electric-guitars"]
        assert categories.by_id[electric.parent_id].slug == "guitars"  # type: ignore[index]
        assert {"handedness", "number_of_strings", "body_shape", "serial_number"} <= set(
            categories.schema_for(electric)
        )
        assert categories.schema_for(categories.by_slug["records"])["format"].required
        rules = {r.channel: r for r in PriceRuleRepository(session).all()}
        assert {c: (r.markup_percent, r.price_endings) for c, r in rules.items()} == {
            "reverb": (Decimal("5.00"), ""),
            "ebay": (Decimal("10.00"), "49,99"),
            "vintage_and_rare": (Decimal("5.00"), ""),
            "shopify": (Decimal("0.00"), ""),
            "discogs": (Decimal("0.00"), ""),
        }
        assert pricing.channel_prices(Decimal("1000"), rules.values()) == {
            "discogs": Decimal("1000.00"),
            "ebay": Decimal("1149.00"),
            "reverb": Decimal("1050.00"),
            "shopify": Decimal("1000.00"),
            "vintage_and_rare": Decimal("1050.00"),
        }
        assert session.execute(sa.select(sa.func.count()).select_from(Category)).scalar_one() >= 6


def test_search_index_follows_inserts_updates_and_deletes(
    owner_client: TestClient, database: Database
) -> None:
    if database.dialect == "sqlite":
        with database.engine.connect() as conn:
            triggers = {
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                ).fetchall()
            }
        # A later batch ALTER of products on SQLite drops these; this test is the tripwire.
        assert {"products_search_insert", "products_search_update", "products_search_delete"} <= triggers

    def found(q: str) -> list[str]:
        return [i["sku"] for i in owner_client.get("/api/products", params={"q": q}).json()["items"]]

    with database.session() as session:
        product = create_product(
            session, sku="SRCH-1", title="Gretsch Duo Jet", brand="Gretsch", model="6128"
        )
    assert found("duo jet") == ["SRCH-1"]
    patched = owner_client.patch(
        f"/api/products/{product.id}", json={"version": 1, "title": "Gretsch White Falcon"}
    )
    assert patched.status_code == 200
    assert found("duo") == []
    assert found("falcon") == ["SRCH-1"]
    # stock changes do not touch the search columns (and must not break the index)
    owner_client.post(f"/api/products/{product.id}/stock", json={"delta": -1, "reason": "sale"})
    assert found("falcon") == ["SRCH-1"]
    with database.session() as session:
        session.execute(sa.text("DELETE FROM stock_movements"))
        session.execute(sa.text("DELETE FROM products"))
    assert found("falcon") == []
