"""Unified orders: record a channel's order once, whatever path it arrives by. Services never commit.

``record_order`` is idempotent by (channel, remote order id): the first sighting inserts the order and its
lines (``stock_state = pending``: the sync engine decides what they do to stock in the same transaction);
later sightings update the status and amounts, never going back to an older state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.repository import ProductRepository
from riff.channels import contract
from riff.channels.repository import ListingRepository
from riff.core.clock import utcnow
from riff.core.errors import NotFound
from riff.core.logging import get_logger
from riff.orders.models import (
    RELEASED_STATUSES,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
    StockState,
)
from riff.orders.repository import OrderRepository

log = get_logger(__name__)

_FROM_CHANNEL: dict[contract.OrderStatus, OrderStatus] = {
    contract.OrderStatus.UNPAID: OrderStatus.AWAITING_PAYMENT,
    contract.OrderStatus.PAID: OrderStatus.PAID,
    contract.OrderStatus.SHIPPED: OrderStatus.SHIPPED,
    contract.OrderStatus.DELIVERED: OrderStatus.DELIVERED,
    contract.OrderStatus.CANCELLED: OrderStatus.CANCELLED,
    contract.OrderStatus.REFUNDED: OrderStatus.REFUNDED,
}
# Without timestamps to compare, a status only moves forward: a stale poll never undoes a shipment.
_RANK = {
    OrderStatus.AWAITING_PAYMENT: 0,
    OrderStatus.PAID: 1,
    OrderStatus.AWAITING_SHIPMENT: 2,
    OrderStatus.SHIPPED: 3,
    OrderStatus.DELIVERED: 4,
    OrderStatus.CANCELLED: 5,
    OrderStatus.REFUNDED: 6,
}


def order_status(remote: contract.RemoteOrder, current: OrderStatus | None = None) -> OrderStatus:
    return _FROM_CHANNEL.get(remote.status, current or OrderStatus.AWAITING_PAYMENT)


@dataclasses.dataclass
class RecordedOrder:
    order: Order
    created: bool
    previous_status: OrderStatus | None

    @property
    def released_now(self) -> bool:
        """The order just moved into cancelled/refunded: what it took must be given back."""
        return (
            not self.created
            and self.previous_status not in RELEASED_STATUSES
            and self.order.status in RELEASED_STATUSES
        )


def _header(remote: contract.RemoteOrder, status: OrderStatus) -> dict[str, Any]:
    address = remote.shipping_address.model_dump(mode="json") if remote.shipping_address else None
    fees = remote.raw.get("fees") if isinstance(remote.raw, dict) else None
    return {
        "status": status,
        "remote_status": (remote.remote_status or str(remote.status))[:60],
        "buyer_name": remote.buyer_name,
        "buyer_email": remote.buyer_email,
        "shipping_address": address,
        "currency": remote.currency,
        "subtotal": remote.subtotal,
        "shipping": remote.shipping,
        "tax": remote.tax,
        "total": remote.total,
        "fees": _money(fees),
        "raw": remote.raw or {},
        "placed_at": remote.created_at,
        "paid_at": remote.paid_at,
        "remote_updated_at": remote.updated_at,
    }


def _money(value: Any) -> Decimal | None:
    if isinstance(value, int | float | str | Decimal) and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return None
    if isinstance(value, dict):
        return _money(value.get("amount"))
    return None


def record_order(
    session: Session,
    channel: str,
    remote: contract.RemoteOrder,
    *,
    source: OrderSource,
    received_at: dt.datetime | None = None,
    account_id: int | None = None,
) -> RecordedOrder:
    """Insert the order (and its lines) on first sight, else bring its status and amounts up to date."""
    repository = OrderRepository(session)
    now = utcnow()
    status = order_status(remote)
    values = {
        **_header(remote, status),
        "channel": channel,
        "account_id": account_id,
        "remote_order_id": remote.remote_id[:120],
        "source": source,
        "oversold": False,
        "received_at": received_at or now,
        "created_at": now,
        "updated_at": now,
    }
    order_id = repository.insert_if_new(values)
    if order_id is not None:
        order = repository.get(order_id)
        assert order is not None
        order.lines = _lines(session, channel, remote.lines)
        session.flush()
        log.info("orders.order.recorded", channel=channel, remote_order_id=remote.remote_id, status=status)
        return RecordedOrder(order=order, created=True, previous_status=None)

    order = repository.get_by_remote_id(channel, remote.remote_id[:120], for_update=True)
    if order is None:  # pragma: no cover - inserted by a transaction that then rolled back
        raise NotFound(f"{channel} order {remote.remote_id} vanished while recording it")
    previous = order.status
    if _is_newer(order, remote, status):
        for key, value in _header(remote, order_status(remote, order.status)).items():
            if value is not None:  # a sparser payload (a webhook body) never erases what a fuller one gave
                setattr(order, key, value)
        session.flush()
    if order.status != previous:
        log.info(
            "orders.order.status_changed", channel=channel, remote_order_id=order.remote_order_id,
            before=previous, after=order.status,
        )  # fmt: skip
    return RecordedOrder(order=order, created=False, previous_status=previous)


def _is_newer(order: Order, remote: contract.RemoteOrder, status: OrderStatus) -> bool:
    if remote.updated_at is not None and order.remote_updated_at is not None:
        return remote.updated_at >= order.remote_updated_at
    return _RANK[status] >= _RANK[order.status]


def _lines(session: Session, channel: str, remote_lines: Sequence[contract.OrderLine]) -> list[OrderLine]:
    listings = ListingRepository(session)
    products = ProductRepository(session)
    lines: list[OrderLine] = []
    for position, remote in enumerate(remote_lines):
        listing = (
            listings.by_remote_id(channel, remote.remote_listing_id) if remote.remote_listing_id else None
        )
        product_id = listing.product_id if listing is not None else None
        if product_id is None and remote.sku:
            product = products.get_by_sku(remote.sku)
            product_id = product.id if product is not None else None
        lines.append(
            OrderLine(
                position=position,
                product_id=product_id,
                listing_id=listing.id if listing is not None else None,
                sku=(remote.sku or None) and remote.sku[:64],
                remote_listing_id=remote.remote_listing_id,
                title=(remote.title or None) and remote.title[:300],
                quantity=max(1, remote.quantity),
                price=remote.price,
                currency=remote.currency,
                stock_state=StockState.PENDING,
            )
        )
    return lines


def get_order(session: Session, order_id: int) -> Order:
    order = OrderRepository(session).get(order_id)
    if order is None:
        raise NotFound(f"order {order_id} not found")
    return order


def clear_followup(session: Session, order: Order, *, actor: str) -> Order:
    """The user dealt with an oversell on the channel (cancelled and refunded): the follow-up is done."""
    if order.followup:
        order.followup = None
        session.flush()
        log.info("orders.followup.done", order_id=order.id, actor=actor)
    return order


# --- status moves RIFF makes itself (riff.fulfilment: label bought, delivered, cancelled by hand) -----

# target -> the statuses it may come from. Channel-reported changes go through ``record_order`` instead.
FULFILMENT_MOVES: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.AWAITING_SHIPMENT: frozenset({OrderStatus.PAID}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.PAID, OrderStatus.AWAITING_SHIPMENT}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.PAID, OrderStatus.AWAITING_SHIPMENT, OrderStatus.SHIPPED}),
    OrderStatus.CANCELLED: frozenset(
        {OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID, OrderStatus.AWAITING_SHIPMENT}
    ),
    OrderStatus.REFUNDED: frozenset(
        {
            OrderStatus.PAID,
            OrderStatus.AWAITING_SHIPMENT,
            OrderStatus.SHIPPED,
            OrderStatus.DELIVERED,
            OrderStatus.CANCELLED,
        }
    ),
}


def move_status(session: Session, order: Order, status: OrderStatus, *, actor: str, reason: str) -> bool:
    """Move ``order`` to ``status`` as fulfilment decides (``FULFILMENT_MOVES``). False when it is there
    already or has gone further (a late carrier event never undoes a channel's word); ``Conflict`` for a
    move that makes no sense (cancelling a shipped order)."""
    from riff.core.errors import Conflict

    if order.status == status:
        return False
    allowed = FULFILMENT_MOVES.get(status, frozenset())
    if order.status not in allowed:
        if _RANK[order.status] > _RANK[status] and status not in RELEASED_STATUSES:
            return False
        raise Conflict(
            f"order {order.id} is {order.status.value}: it cannot become {status.value}", field="status"
        )
    before = order.status
    order.status = status
    session.flush()
    log.info(
        "orders.order.status_moved",
        order_id=order.id,
        before=before,
        after=status,
        actor=actor,
        reason=reason,
    )
    return True
