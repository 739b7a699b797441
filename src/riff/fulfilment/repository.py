"""All SQL of the fulfilment package: shipments, the alert outbox, and the order search behind
``GET /api/orders`` and its CSV export (filters the sync engine's ``OrderRepository.page`` does not have)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from riff.catalog.models import Product
from riff.core.db import is_postgres
from riff.core.repository import RepositoryBase
from riff.fulfilment.models import (
    TRACKED_STATUSES,
    Alert,
    AlertKind,
    AlertStatus,
    Shipment,
    ShipmentStatus,
)
from riff.orders.models import Order, OrderLine, OrderSource, OrderStatus


class ShipmentRepository(RepositoryBase[Shipment]):
    model = Shipment

    def get_for_update(self, shipment_id: int) -> Shipment | None:
        statement = (
            sa.select(Shipment)
            .where(Shipment.id == shipment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return self.session.execute(statement).scalars().one_or_none()

    def live_for_order(self, order_id: int, *, for_update: bool = False) -> Shipment | None:
        """The order's shipment that is not cancelled (at most one: ``uq_shipments_order_live``)."""
        statement = sa.select(Shipment).where(
            Shipment.order_id == order_id, Shipment.status != ShipmentStatus.CANCELLED
        )
        if for_update:
            statement = statement.with_for_update().execution_options(populate_existing=True)
        return self.session.execute(statement).scalars().first()

    def for_order(self, order_id: int) -> Sequence[Shipment]:
        return (
            self.session.execute(
                sa.select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id.desc())
            )
            .scalars()
            .all()
        )

    def for_orders(self, order_ids: Sequence[int]) -> dict[int, Shipment]:
        """The live shipment of each order (for list pages), in one query."""
        if not order_ids:
            return {}
        rows = self.session.execute(
            sa.select(Shipment).where(
                Shipment.order_id.in_(list(order_ids)), Shipment.status != ShipmentStatus.CANCELLED
            )
        ).scalars()
        return {row.order_id: row for row in rows}

    def to_track(self, *, checked_before: dt.datetime, limit: int = 100) -> Sequence[int]:
        """Shipments the carrier may still report on, least recently checked first."""
        statement = (
            sa.select(Shipment.id)
            .where(
                Shipment.status.in_(sorted(TRACKED_STATUSES)),
                Shipment.tracking_number.is_not(None),
                Shipment.label_created_at.is_not(None),
                sa.or_(Shipment.tracking_checked_at.is_(None), Shipment.tracking_checked_at < checked_before),
            )
            .order_by(Shipment.tracking_checked_at.asc().nulls_first(), Shipment.id)
            .limit(limit)
        )
        return self.session.execute(statement).scalars().all()

    def stuck_pending(self, *, updated_before: dt.datetime) -> Sequence[int]:
        """Label purchases with no answer for a while (a process died mid-call): the recovery job's list."""
        statement = sa.select(Shipment.id).where(
            Shipment.status == ShipmentStatus.LABEL_PENDING, Shipment.updated_at < updated_before
        )
        return self.session.execute(statement).scalars().all()


class AlertRepository(RepositoryBase[Alert]):
    model = Alert

    def insert_if_new(self, values: dict[str, Any]) -> int | None:
        """One alert per ``dedupe_key``, ever: a second sighting of the same event inserts nothing."""
        insert = postgresql.insert if is_postgres(self.session) else sqlite.insert
        statement = (
            insert(Alert)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Alert.id)
        )
        return self.session.execute(statement).scalar_one_or_none()

    def pending(self, limit: int = 50) -> Sequence[Alert]:
        statement = (
            sa.select(Alert)
            .where(Alert.status == AlertStatus.PENDING)
            .order_by(Alert.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self.session.execute(statement).scalars().all()

    def recent(self, limit: int = 50) -> Sequence[Alert]:
        return self.session.execute(sa.select(Alert).order_by(Alert.id.desc()).limit(limit)).scalars().all()

    def orders_without_alert(
        self, kind: AlertKind, *, since: dt.datetime, oversold_only: bool = False, limit: int = 200
    ) -> Sequence[Order]:
        """Orders received since ``since`` with no ``kind`` alert yet (real orders, not inferred ones)."""
        key = sa.literal(f"{kind.value}:") + sa.cast(Order.id, sa.String)
        statement = (
            sa.select(Order)
            .where(
                Order.received_at >= since,
                Order.source != OrderSource.INFERRED,
                ~sa.exists().where(Alert.dedupe_key == key),
            )
            .order_by(Order.id)
            .limit(limit)
            .options(selectinload(Order.lines))
        )
        if oversold_only:
            statement = statement.where(Order.oversold.is_(True))
        return self.session.execute(statement).scalars().all()


def latest_push_error(session: Session, product_id: int, channel: str) -> str | None:
    """The sync engine's last word on a failed publish of this product there (why a relist did not start)."""
    from riff.sync.models import SyncEvent

    return session.execute(
        sa.select(SyncEvent.message)
        .where(SyncEvent.product_id == product_id, SyncEvent.channel == channel, SyncEvent.outcome == "error")
        .order_by(SyncEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()


class OrderSearch:
    """``GET /api/orders``: channel, status, free text (order id, buyer, e-mail, SKU, title), received
    date range; newest first."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _statement(
        self,
        *,
        channel: str | None,
        status: OrderStatus | None,
        q: str | None,
        date_from: dt.datetime | None,
        date_to: dt.datetime | None,
        oversold: bool | None,
    ) -> sa.Select[Order]:
        statement = sa.select(Order).where(Order.source != OrderSource.INFERRED)
        if channel:
            statement = statement.where(Order.channel == channel)
        if status is not None:
            statement = statement.where(Order.status == status)
        if oversold is not None:
            statement = statement.where(Order.oversold.is_(oversold))
        if date_from is not None:
            statement = statement.where(Order.received_at >= date_from)
        if date_to is not None:
            statement = statement.where(Order.received_at < date_to)
        if q:
            pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            line_match = (
                sa.select(OrderLine.id)
                .outerjoin(Product, Product.id == OrderLine.product_id)
                .where(
                    OrderLine.order_id == Order.id,
                    sa.or_(
                        sa.func.lower(OrderLine.sku).like(pattern, escape="\\"),
                        sa.func.lower(OrderLine.title).like(pattern, escape="\\"),
                        sa.func.lower(Product.sku).like(pattern, escape="\\"),
                    ),
                )
                .exists()
            )
            statement = statement.where(
                sa.or_(
                    sa.func.lower(Order.remote_order_id).like(pattern, escape="\\"),
                    sa.func.lower(Order.buyer_name).like(pattern, escape="\\"),
                    sa.func.lower(Order.buyer_email).like(pattern, escape="\\"),
                    line_match,
                )
            )
        return statement

    def page(self, *, limit: int, offset: int, **filters: Any) -> tuple[Sequence[Order], int]:
        statement = self._statement(**filters)
        total = int(
            self.session.execute(
                sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
            ).scalar_one()
        )
        items = (
            self.session.execute(
                statement.order_by(Order.received_at.desc(), Order.id.desc())
                .limit(limit)
                .offset(offset)
                .options(selectinload(Order.lines))
            )
            .scalars()
            .all()
        )
        return items, total

    def product_skus(self, orders: Sequence[Order]) -> dict[int, str]:
        """SKU of every product the orders' lines point at (a line from a listing carries no SKU itself)."""
        ids = {line.product_id for order in orders for line in order.lines if line.product_id}
        if not ids:
            return {}
        rows = self.session.execute(sa.select(Product.id, Product.sku).where(Product.id.in_(sorted(ids))))
        return {int(row.id): str(row.sku) for row in rows}

    def iterate(self, batch_size: int = 500, **filters: Any) -> Iterator[Order]:
        """Every matching order, oldest first, in keyset batches (the CSV export streams these)."""
        last_id = 0
        while True:
            batch = (
                self.session.execute(
                    self._statement(**filters)
                    .where(Order.id > last_id)
                    .order_by(Order.id)
                    .limit(batch_size)
                    .options(selectinload(Order.lines))
                )
                .scalars()
                .all()
            )
            if not batch:
                return
            yield from batch
            last_id = batch[-1].id
            self.session.expunge_all()
