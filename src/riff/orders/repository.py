"""All SQL of the orders package."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from riff.core.db import is_postgres
from riff.core.repository import RepositoryBase
from riff.orders.models import Order, OrderLine, OrderSource, OrderStatus, StockState


class OrderRepository(RepositoryBase[Order]):
    model = Order

    def insert_if_new(self, values: dict[str, Any]) -> int | None:
        """INSERT ... ON CONFLICT (channel, remote_order_id) DO NOTHING: the new id, or None when the order
        is already there (a second delivery, or the poll after the webhook). Concurrent inserts of one
        order wait on the unique index on PostgreSQL (on the write lock on SQLite); exactly one wins."""
        insert = postgresql.insert if is_postgres(self.session) else sqlite.insert
        statement = (
            insert(Order)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["channel", "remote_order_id"])
            .returning(Order.id)
        )
        return self.session.execute(statement).scalar_one_or_none()

    def get_by_remote_id(
        self, channel: str, remote_order_id: str, *, for_update: bool = False
    ) -> Order | None:
        statement = sa.select(Order).where(Order.channel == channel, Order.remote_order_id == remote_order_id)
        if for_update:
            statement = statement.with_for_update(of=Order).execution_options(populate_existing=True)
        return self.session.execute(statement).scalars().one_or_none()

    def lines(self, order_id: int) -> Sequence[OrderLine]:
        return (
            self.session.execute(
                sa.select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position)
            )
            .scalars()
            .all()
        )

    def move_line_state(self, line_id: int, from_state: StockState, to_state: StockState) -> bool:
        """Conditional update: True for the one caller that moved the line (a restore happens once)."""
        result = self.session.execute(
            sa.update(OrderLine)
            .where(OrderLine.id == line_id, OrderLine.stock_state == from_state)
            .values(stock_state=to_state)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def inferred_lines_for_listing(self, listing_id: int) -> Sequence[OrderLine]:
        """Stock taken for a listing seen sold on its channel before its real order arrived."""
        statement = (
            sa.select(OrderLine)
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                OrderLine.listing_id == listing_id,
                OrderLine.stock_state == StockState.APPLIED,
                Order.source == OrderSource.INFERRED,
            )
            .order_by(OrderLine.id)
        )
        return self.session.execute(statement).scalars().all()

    def has_applied_line_for_listing(self, listing_id: int, since: dt.datetime | None = None) -> bool:
        statement = sa.select(OrderLine.id).where(
            OrderLine.listing_id == listing_id, OrderLine.stock_state == StockState.APPLIED
        )
        if since is not None:
            statement = statement.join(Order, Order.id == OrderLine.order_id).where(
                Order.received_at >= since
            )
        return self.session.execute(statement.limit(1)).first() is not None

    def page(
        self,
        *,
        channel: str | None = None,
        status: OrderStatus | None = None,
        oversold: bool | None = None,
        open_only: bool = False,
        include_inferred: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[Sequence[Order], int]:
        """Newest first. ``open_only``: oversells whose follow-up is not done; inferred placeholders (a
        listing seen sold before its order) only with ``include_inferred``."""
        statement = sa.select(Order).order_by(Order.received_at.desc(), Order.id.desc())
        if open_only:
            statement = statement.where(Order.followup.is_not(None))
        if not include_inferred:
            statement = statement.where(Order.source != OrderSource.INFERRED)
        if channel is not None:
            statement = statement.where(Order.channel == channel)
        if status is not None:
            statement = statement.where(Order.status == status)
        if oversold is not None:
            statement = statement.where(Order.oversold.is_(oversold))
        total = int(
            self.session.execute(
                sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())
            ).scalar_one()
        )
        items = self.session.execute(statement.limit(limit).offset(offset)).scalars().all()
        return items, total

    def count_open_oversells(self) -> int:
        return int(
            self.session.execute(
                sa.select(sa.func.count())
                .select_from(Order)
                .where(Order.oversold.is_(True), Order.followup.is_not(None))
            ).scalar_one()
        )
