"""Catalog services on both databases: stock movements, optimistic locking, decade, one-of-a-kind."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from riff.catalog import service
from riff.catalog.models import MovementReason, Product, StockMovement
from riff.catalog.schemas import ProductCreate, ProductUpdate
from riff.core.db import Database
from riff.core.errors import Conflict, ValidationFailed, VersionConflict

from .factories import create_guitar_categories, create_product


def movements(database: Database, sku: str) -> list[tuple[int, int, str, str]]:
    with database.read_session() as session:
        rows = session.execute(
            sa.select(
                StockMovement.delta, StockMovement.quantity_after, StockMovement.reason, StockMovement.actor
            )
            .join(Product, Product.id == StockMovement.product_id)
            .where(Product.sku == sku)
            .order_by(StockMovement.id)
        ).all()
    return [(r[0], r[1], str(r[2]), r[3]) for r in rows]


class TestCreateProduct:
    def test_initial_quantity_is_a_movement_and_decade_is_derived(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(
                session, sku="S-1", year=1965, quantity=3, is_stocked_item=True, actor="ann"
            )
            assert product.decade == "1960s"
        assert movements(database, "S-1") == [(3, 3, "initial", "ann")]

    def test_zero_quantity_records_nothing(self, database: Database) -> None:
        with database.session() as session:
            create_product(session, sku="S-0", quantity=0)
        assert movements(database, "S-0") == []

    def test_decade_must_match_year(self, database: Database) -> None:
        with database.session() as session, pytest.raises(ValidationFailed) as caught:
            create_product(session, year=1965, decade="1970s")
        assert caught.value.field == "decade"

    def test_one_of_a_kind_quantity(self, database: Database) -> None:
        with database.session() as session, pytest.raises(ValidationFailed) as caught:
            create_product(session, quantity=2, is_stocked_item=False)
        assert caught.value.field == "quantity"

    def test_duplicate_sku_is_conflict(self, database: Database) -> None:
        with database.session() as session:
            create_product(session, sku="DUP")
        with database.session() as session, pytest.raises(Conflict) as caught:
            create_product(session, sku="DUP")
        assert caught.value.field == "sku"

    def test_attributes_follow_the_category_tree(self, database: Database) -> None:
        with database.session() as session:
            create_guitar_categories(session)
            product = service.create_product(
                session,
                ProductCreate(
                    sku="G-1",
                    title="Gibson",
                    price=Decimal(1),
                    category="electric-guitars",
                    attributes={"handedness": "left", "serial_number": "123"},
                ),
                actor="t",
            )
            assert product.attributes == {"handedness": "left", "serial_number": "123"}
            with pytest.raises(ValidationFailed) as caught:
                service.create_product(
                    session,
                    ProductCreate(
                        sku="G-2",
                        title="x",
                        price=Decimal(1),
                        category="guitars",
                        attributes={"format": "lp"},
                    ),
                    actor="t",
                )
            assert caught.value.field == "attributes.format"


class TestAdjustStock:
    def test_records_every_change_and_never_goes_negative(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="STK", quantity=2, is_stocked_item=True)
            service.adjust_stock(session, product, -1, MovementReason.SALE, "reverb", "order 1")
            service.adjust_stock(session, product, 5, MovementReason.ADJUSTMENT, "ann")
            assert product.quantity == 6
            with pytest.raises(Conflict) as caught:
                service.adjust_stock(session, product, -7, MovementReason.SALE, "ebay")
            assert caught.value.code == "insufficient_stock"
            assert product.quantity == 6
        assert movements(database, "STK") == [
            (2, 2, "initial", "tests"),
            (-1, 1, "sale", "reverb"),
            (5, 6, "adjustment", "ann"),
        ]

    def test_one_of_a_kind_never_above_one(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="ONE", quantity=1)
            with pytest.raises(Conflict):
                service.adjust_stock(session, product, 1, MovementReason.RETURN, "ann")
            service.adjust_stock(session, product, -1, MovementReason.SALE, "reverb")
            service.adjust_stock(session, product, 1, MovementReason.RETURN, "reverb")
        assert [m[1] for m in movements(database, "ONE")] == [1, 0, 1]

    def test_bumps_version_so_stale_editors_conflict(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="VER", quantity=1)
            assert product.version == 1
            service.adjust_stock(session, product, -1, MovementReason.SALE, "reverb")
            assert product.version == 2
            with pytest.raises(VersionConflict) as caught:
                service.update_product(session, product, ProductUpdate(version=1, title="x"), actor="ann")
            assert caught.value.details == {"current_version": 2}
            # the identity map knows the new version, so a further edit at version 2 flushes cleanly
            assert service.update_product(
                session, product, ProductUpdate(version=2, title="y"), actor="ann"
            ) == ["title"]

    def test_concurrent_sales_of_the_last_unit_sell_it_once(self, database: Database) -> None:
        with database.session() as session:
            product_id = create_product(session, sku="LAST", quantity=1).id
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def sell(channel: str) -> None:
            barrier.wait()
            try:
                with database.session() as session:
                    product = session.get(Product, product_id)
                    assert product is not None
                    service.adjust_stock(session, product, -1, MovementReason.SALE, channel)
                outcomes.append("sold")
            except Conflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=sell, args=(c,)) for c in ("reverb", "ebay", "shopify", "discogs")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["refused", "refused", "refused", "sold"]
        assert [m[1] for m in movements(database, "LAST")] == [1, 0]


class TestUpdateProduct:
    def test_stale_version_is_a_conflict_with_the_current_version(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="U-1")
            service.update_product(session, product, ProductUpdate(version=1, title="Second"), actor="ann")
            with pytest.raises(VersionConflict) as caught:
                service.update_product(session, product, ProductUpdate(version=1, title="Third"), actor="bob")
            assert caught.value.details == {"current_version": 2}

    def test_concurrent_save_between_read_and_write_is_a_conflict(self, database: Database) -> None:
        """The race the version check cannot see: both read version 1, the other commits first."""
        with database.session() as session:
            product_id = create_product(session, sku="RACE").id
        stale_session = database.sessionmaker()
        try:
            stale = stale_session.get(Product, product_id)
            assert stale is not None
            stale_session.commit()  # end the read transaction; the object keeps version 1 in memory
            with database.session() as session:
                fresh = session.get(Product, product_id)
                assert fresh is not None
                service.update_product(session, fresh, ProductUpdate(version=1, title="Winner"), actor="ann")
            with pytest.raises(VersionConflict) as caught:
                service.update_product(
                    stale_session, stale, ProductUpdate(version=1, title="Loser"), actor="bob"
                )
            assert caught.value.details == {"current_version": 2}
        finally:
            stale_session.rollback()
            stale_session.close()
        with database.read_session() as session:
            assert session.get(Product, product_id).title == "Winner"  # type: ignore[union-attr]

    def test_quantity_change_is_a_movement(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="Q", quantity=1)
            changed = service.update_product(
                session, product, ProductUpdate(version=1, quantity=0), actor="ann"
            )
            assert changed == ["quantity"]
        assert movements(database, "Q")[-1] == (-1, 0, "adjustment", "ann")

    def test_year_change_rederives_decade_and_nothing_changed_is_empty(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="Y", year=1965)
            assert service.update_product(
                session, product, ProductUpdate(version=1, year=1972), actor="a"
            ) == [
                "year",
                "decade",
            ]
            assert product.decade == "1970s"
            assert (
                service.update_product(session, product, ProductUpdate(version=2, year=1972), actor="a") == []
            )
            assert product.version == 2

    def test_switching_to_one_of_a_kind_checks_quantity(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session, sku="K", quantity=3, is_stocked_item=True)
            with pytest.raises(ValidationFailed) as caught:
                service.update_product(
                    session, product, ProductUpdate(version=1, is_stocked_item=False), actor="a"
                )
            assert caught.value.field == "quantity"
            changed = service.update_product(
                session, product, ProductUpdate(version=1, is_stocked_item=False, quantity=1), actor="a"
            )
            assert set(changed) == {"is_stocked_item", "quantity"}

    def test_derive_decade(self) -> None:
        assert service.derive_decade(1965) == "1960s"
        assert service.derive_decade(2000) == "2000s"
        assert service.derive_decade(None) is None
