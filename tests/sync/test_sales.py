"""Orders and stock: recorded once, stock taken once and never below zero, the others ended at once;
oversells flagged; cancellations give stock back once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from riff.catalog.models import Product, ProductStatus, StockMovement
from riff.channels.contract import OrderStatus, RemoteState
from riff.channels.models import Listing, ListingState
from riff.core.db import Database
from riff.jobs.consts import Priority
from riff.orders.models import Order, OrderLine, OrderSource, StockState
from riff.sync import pull, sales
from riff.sync.consts import EventKind

from .conftest import events, jobs
from .factories import create_product, list_on, remote_listing, remote_order


def _product(database: Database, product_id: int) -> Product:
    with database.read_session() as session:
        product = session.get(Product, product_id)
        assert product is not None
        session.expunge(product)
        return product


def _orders(database: Database) -> list[Order]:
    with database.read_session() as session:
        found = list(session.scalars(sa.select(Order).order_by(Order.id)))
        for order in found:
            _ = order.lines
            session.expunge(order)
        return found


def _setup(database: Database, **product: Any) -> tuple[int, dict[str, Listing]]:
    with database.session() as session:
        created = create_product(session, **product)
        listings = list_on(session, created)
        for listing in listings.values():
            session.expunge(listing)
        return created.id, listings


class TestSale:
    def test_a_sale_takes_the_last_unit_and_ends_every_other_listing_urgently(
        self, database: Database
    ) -> None:
        product_id, listings = _setup(database)
        with database.session() as session:
            result = sales.process_remote_order(
                session, "reverb", remote_order("R-1", listing=listings["reverb"]), source="webhook"
            )
        assert result.created and result.applied == [product_id] and len(result.ending) == 2
        product = _product(database, product_id)
        assert product.quantity == 0 and product.status == ProductStatus.SOLD
        ends = jobs(database)
        assert sorted(j.kind for j in ends) == ["ebay.end", "shopify.end"]
        assert {j.priority for j in ends} == {Priority.URGENT}
        assert {j.payload["reason"] for j in ends} == {"sold_elsewhere"}
        with database.read_session() as session:
            assert session.get(Listing, listings["reverb"].id).state == ListingState.SOLD  # type: ignore[union-attr]
            movement = session.scalars(sa.select(StockMovement).where(StockMovement.reason == "sale")).one()
            assert movement.delta == -1 and movement.reference == "reverb order R-1"
        (order,) = _orders(database)
        assert order.status == "paid" and order.source == OrderSource.WEBHOOK
        assert [line.stock_state for line in order.lines] == [StockState.APPLIED]
        (sale,) = events(database, EventKind.SALE)
        assert sale.before == {"quantity": 1} and sale.after["quantity"] == 0  # type: ignore[index]

    def test_the_same_order_delivered_twice_and_polled_is_recorded_once(self, database: Database) -> None:
        product_id, listings = _setup(database)
        order = remote_order("R-2", listing=listings["reverb"])
        for source in ("webhook", "webhook", "poll"):
            with database.session() as session:
                sales.process_remote_order(session, "reverb", order, source=source)
        assert len(_orders(database)) == 1
        assert _product(database, product_id).quantity == 0
        assert len(jobs(database)) == 2
        assert len(events(database, EventKind.SALE)) == 1
        assert events(database, EventKind.OVERSELL) == []

    def test_a_second_sale_of_a_sold_item_is_an_oversell_with_its_follow_up(self, database: Database) -> None:
        product_id, listings = _setup(database)
        with database.session() as session:
            sales.process_remote_order(
                session, "reverb", remote_order("R-3", listing=listings["reverb"]), source="poll"
            )
        with database.session() as session:
            result = sales.process_remote_order(
                session, "ebay", remote_order("E-3", listing=listings["ebay"]), source="poll"
            )
        assert result.oversold == [product_id] and result.applied == []
        assert _product(database, product_id).quantity == 0
        reverb_order, ebay_order = _orders(database)
        assert not reverb_order.oversold
        assert ebay_order.oversold and "Cancel and refund ebay order E-3" in (ebay_order.followup or "")
        assert [line.stock_state for line in ebay_order.lines] == [StockState.OVERSOLD]
        (oversell,) = events(database, EventKind.OVERSELL)
        assert oversell.outcome == "needs_action" and oversell.channel == "ebay"

    def test_a_cancelled_order_gives_stock_back_once_and_offers_a_relist(self, database: Database) -> None:
        product_id, listings = _setup(database)
        with database.session() as session:
            sales.process_remote_order(
                session, "reverb", remote_order("R-4", listing=listings["reverb"]), source="poll"
            )
        cancelled = remote_order("R-4", listing=listings["reverb"], status=OrderStatus.CANCELLED)
        for _ in range(2):
            with database.session() as session:
                sales.process_remote_order(session, "reverb", cancelled, source="webhook")
        product = _product(database, product_id)
        assert product.quantity == 1 and product.status == ProductStatus.ACTIVE
        with database.read_session() as session:
            reasons = list(session.scalars(sa.select(StockMovement.reason).order_by(StockMovement.id)))
        assert reasons == ["sale", "cancel"]
        (order,) = _orders(database)
        assert order.status == "cancelled" and order.lines[0].stock_state == StockState.RESTORED
        (offer,) = events(database, EventKind.RELIST_OFFERED)
        assert offer.outcome == "needs_action" and offer.after["channels"] == ["reverb"]  # type: ignore[index]

    def test_an_unknown_line_is_recorded_without_touching_stock(self, database: Database) -> None:
        with database.session() as session:
            sales.process_remote_order(session, "reverb", remote_order("R-5", sku="NOT-OURS"), source="poll")
        (order,) = _orders(database)
        assert order.lines[0].stock_state == StockState.UNMATCHED
        assert events(database, EventKind.ORDER_UNMATCHED)[0].outcome == "needs_action"


class TestStockedItems:
    def test_a_sale_pushes_the_new_absolute_quantity_and_recreates_single_unit_listings(
        self, database: Database
    ) -> None:
        with database.session() as session:
            product = create_product(session, quantity=3, is_stocked_item=True)
            listings = list_on(session, product, ["reverb", "ebay", "vintage_and_rare"])
            product_id = product.id
            vr_remote = listings["vintage_and_rare"].remote_id
            from .factories import create_account

            create_account(session, "vintage_and_rare", maintenance_window=None)
        with database.session() as session:
            vr = session.scalars(sa.select(Listing).where(Listing.remote_id == vr_remote)).one()
            sales.process_remote_order(
                session, "vintage_and_rare", remote_order("V-1", listing=vr), source="poll"
            )
        assert _product(database, product_id).quantity == 2
        kinds = sorted(j.kind for j in jobs(database))
        assert kinds == ["ebay.update", "reverb.update", "vintage_and_rare.publish"]
        assert all(
            j.payload == {"changed_fields": ["quantity"]}
            for j in jobs(database)
            if j.kind.endswith(".update")
        )


class TestInferredSale:
    def test_a_listing_seen_sold_ends_the_others_and_its_order_adopts_the_sale(
        self, database: Database
    ) -> None:
        product_id, listings = _setup(database)
        remote = remote_listing(listings["reverb"].remote_id or "", state=RemoteState.SOLD)
        with database.session() as session:
            assert pull.apply_remote_listing(session, "reverb", remote)
        assert _product(database, product_id).quantity == 0
        assert sorted(j.kind for j in jobs(database)) == ["ebay.end", "shopify.end"]
        with database.session() as session:
            result = sales.process_remote_order(
                session, "reverb", remote_order("R-6", listing=listings["reverb"]), source="webhook"
            )
        assert result.applied == [] and result.oversold == []
        assert _product(database, product_id).quantity == 0
        placeholder, real = _orders(database)
        assert (
            placeholder.source == OrderSource.INFERRED
            and placeholder.lines[0].stock_state == StockState.TRANSFERRED
        )
        assert real.lines[0].stock_state == StockState.APPLIED and not real.oversold
        assert events(database, EventKind.OVERSELL) == []


class TestLockDiscipline:
    def test_the_product_row_is_locked_before_stock_is_written(self, database: Database) -> None:
        if database.dialect != "postgresql":
            pytest.skip("SQLite takes the database write lock at BEGIN IMMEDIATE instead of row locks")
        _, listings = _setup(database)
        statements: list[str] = []

        def capture(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        sa.event.listen(database.engine, "before_cursor_execute", capture)
        try:
            with database.session() as session:
                sales.process_remote_order(
                    session, "reverb", remote_order("R-7", listing=listings["reverb"]), source="poll"
                )
        finally:
            sa.event.remove(database.engine, "before_cursor_execute", capture)
        lock = next(i for i, s in enumerate(statements) if "FOR NO KEY UPDATE" in s and "FROM products" in s)
        write = next(i for i, s in enumerate(statements) if s.lstrip().startswith("UPDATE products"))
        assert lock < write


class TestRace:
    ROUNDS = 50

    def test_two_channels_selling_the_last_unit_at_once_take_it_exactly_once(
        self, database: Database
    ) -> None:
        with database.session() as session:
            rounds = []
            for _ in range(self.ROUNDS):
                product = create_product(session)
                listings = list_on(session, product, ["reverb", "ebay"])
                rounds.append((product.id, listings["reverb"].remote_id, listings["ebay"].remote_id))
        for number, (product_id, reverb_remote, ebay_remote) in enumerate(rounds):
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def sell(
                channel: str,
                remote_id: str | None,
                order_id: str,
                barrier: threading.Barrier = barrier,
                errors: list[BaseException] = errors,
            ) -> None:
                try:
                    barrier.wait(5)
                    with database.session() as session:
                        listing = session.scalars(
                            sa.select(Listing).where(
                                Listing.channel == channel, Listing.remote_id == remote_id
                            )
                        ).one()
                        sales.process_remote_order(
                            session, channel, remote_order(order_id, listing=listing), source="webhook"
                        )
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)

            threads = [
                threading.Thread(target=sell, args=("reverb", reverb_remote, f"R-{number}")),
                threading.Thread(target=sell, args=("ebay", ebay_remote, f"E-{number}")),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert errors == []
            assert _product(database, product_id).quantity == 0
        with database.read_session() as session:
            states = list(
                session.execute(
                    sa.select(OrderLine.product_id, OrderLine.stock_state).order_by(OrderLine.product_id)
                )
            )
            assert session.scalar(sa.select(sa.func.min(Product.quantity))) == 0
            sales_taken = session.scalar(sa.select(sa.func.count()).where(StockMovement.reason == "sale"))
        per_product: dict[int, list[str]] = {}
        for product_id, state in states:
            per_product.setdefault(product_id, []).append(str(state))
        assert len(per_product) == self.ROUNDS
        assert all(sorted(s) == ["applied", "oversold"] for s in per_product.values())
        assert sales_taken == self.ROUNDS
        assert len(_orders(database)) == 2 * self.ROUNDS
        assert sum(o.oversold for o in _orders(database)) == self.ROUNDS


class TestEarlyDelist:
    def test_a_sale_delivery_ends_the_others_before_the_order_is_confirmed(self, database: Database) -> None:
        product_id, listings = _setup(database)
        body = {"order_number": "R-8", "product_id": listings["reverb"].remote_id, "status": "paid"}
        with database.session() as session:
            ending = sales.order_event_received(session, "reverb", "orders/create", body)
        assert len(ending) == 2 and sorted(j.kind for j in jobs(database)) == ["ebay.end", "shopify.end"]
        assert _product(database, product_id).quantity == 1  # stock waits for the confirmed order
        with database.session() as session:
            sales.process_remote_order(
                session, "reverb", remote_order("R-8", listing=listings["reverb"]), source="webhook"
            )
        assert _product(database, product_id).quantity == 0
        assert len(jobs(database)) == 2  # the confirmed order found the ends already queued
        with database.read_session() as session:
            (propagation,) = session.scalars(sa.select(sales.SalePropagation))
            assert propagation.order_id is not None and sorted(propagation.targets) == sorted(
                listing.id for channel, listing in listings.items() if channel != "reverb"
            )

    def test_updates_cancellations_and_unknown_items_are_left_alone(self, database: Database) -> None:
        _, listings = _setup(database)
        remote_id = listings["reverb"].remote_id
        with database.session() as session:
            assert (
                sales.order_event_received(session, "reverb", "orders/update", {"product_id": remote_id})
                == []
            )
            assert (
                sales.order_event_received(
                    session, "reverb", "orders/create", {"product_id": remote_id, "status": "cancelled"}
                )
                == []
            )
            assert (
                sales.order_event_received(session, "reverb", "orders/create", {"product_id": "nope"}) == []
            )
        assert jobs(database) == []
