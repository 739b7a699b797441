"""Unified orders: one row per (channel, remote order id), lines tied to products, status never regresses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from riff.channels.contract import Address, OrderLine, OrderStatus, RemoteOrder
from riff.channels.models import Listing
from riff.core.db import Database
from riff.orders import service
from riff.orders.models import Order, OrderSource
from riff.orders.models import OrderStatus as Status
from sync.factories import create_product, list_on

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def _order(
    status: OrderStatus = OrderStatus.PAID, *, updated: dt.datetime | None = T0, **lines: str
) -> RemoteOrder:
    return RemoteOrder(
        remote_id="R-100",
        status=status,
        remote_status=str(status),
        buyer_name="Ada Buyer",
        buyer_email="ada@example.com",
        shipping_address=Address(name="Ada Buyer", line1="1 High St", city="London", country_code="GB"),
        currency="GBP",
        subtotal=Decimal("1000.00"),
        shipping=Decimal("50.00"),
        total=Decimal("1050.00"),
        lines=[
            OrderLine(
                sku=lines.get("sku"),
                remote_listing_id=lines.get("listing"),
                quantity=1,
                price=Decimal("1000"),
            )
        ],
        created_at=T0,
        updated_at=updated,
        paid_at=T0 if status == OrderStatus.PAID else None,
        raw={"order_number": "R-100", "fees": {"amount": "52.50"}},
    )


def _stored(database: Database) -> Order:
    with database.read_session() as session:
        order = session.scalars(sa.select(Order)).one()
        _ = order.lines
        session.expunge(order)
        return order


def test_first_sighting_inserts_the_order_and_its_lines(database: Database) -> None:
    with database.session() as session:
        product = create_product(session, sku="RIFF-ORD-1")
        listing: Listing = list_on(session, product, ["reverb"])["reverb"]
        recorded = service.record_order(
            session,
            "reverb",
            _order(listing=listing.remote_id or ""),
            source=OrderSource.WEBHOOK,
            received_at=T0,
        )
        assert recorded.created and recorded.previous_status is None
        product_id, listing_id = product.id, listing.id
    order = _stored(database)
    assert (order.status, order.source, order.received_at, order.fees) == (
        Status.PAID,
        "webhook",
        T0,
        Decimal("52.50"),
    )
    assert order.shipping_address and order.shipping_address["city"] == "London"
    (line,) = order.lines
    assert (line.product_id, line.listing_id, line.stock_state) == (product_id, listing_id, "pending")


def test_a_second_sighting_updates_and_never_goes_back(database: Database) -> None:
    with database.session() as session:
        create_product(session, sku="RIFF-ORD-2")
        service.record_order(session, "reverb", _order(sku="RIFF-ORD-2"), source=OrderSource.POLL)
    later = T0 + dt.timedelta(hours=1)
    with database.session() as session:
        shipped = service.record_order(
            session,
            "reverb",
            _order(OrderStatus.SHIPPED, updated=later, sku="RIFF-ORD-2"),
            source=OrderSource.WEBHOOK,
        )
        assert not shipped.created and shipped.previous_status == Status.PAID and not shipped.released_now
    with database.session() as session:  # a stale poll of the paid state
        stale = service.record_order(session, "reverb", _order(sku="RIFF-ORD-2"), source=OrderSource.POLL)
        assert stale.order.status == Status.SHIPPED
    with database.session() as session:
        cancelled = service.record_order(
            session, "reverb", _order(OrderStatus.CANCELLED, updated=later + dt.timedelta(hours=1), sku="RIFF-ORD-2"),
            source=OrderSource.POLL,
        )  # fmt: skip
        assert cancelled.released_now
    order = _stored(database)
    assert order.status == Status.CANCELLED and order.source == "poll" and order.lines[0].sku == "RIFF-ORD-2"
