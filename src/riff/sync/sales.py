"""Orders and stock: a sale takes stock once, and the moment stock reaches zero every other listing ends.

Every path an order takes (webhook, poll, the answer to mark-shipped) ends in ``process_remote_order``,
in the caller's transaction:

1. the order is recorded once per (channel, remote order id) (``riff.orders.service.record_order``);
2. on first sight, the products of its lines are locked (``locks.lock_products``: id order) and each line
   takes its quantity with a conditional UPDATE that never goes below zero. A line that finds nothing left
   is an **oversell**: the order is flagged with the follow-up (cancel and refund on that channel) and a
   ``sync_event`` of kind ``oversell`` is written;
3. stock at zero: every other live listing of the product gets an ``<channel>.end`` job at URGENT priority
   (the listing where it sold is marked sold). Stock left (a stocked item): the new absolute quantity is
   pushed to every channel that holds quantities, and a single-unit channel's listing that just sold is
   created again;
4. an order that later moves to cancelled/refunded gives its stock back (once), and RIFF offers to relist
   (a stocked item is pushed and re-created at once).

A listing seen sold on its channel before its order arrives (a listing webhook or a pull) is treated as a
sale at once (an *inferred* order); the real order adopts that sale instead of taking stock again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from riff.catalog import service as catalog
from riff.catalog.models import MovementReason, Product, ProductStatus
from riff.channels.contract import EndReason, RemoteListing, RemoteOrder
from riff.channels.models import ChannelEvent, Listing, ListingState
from riff.core.clock import utcnow
from riff.core.errors import Conflict
from riff.core.logging import get_logger
from riff.orders import service as orders
from riff.orders.models import (
    RELEASED_STATUSES,
    Order,
    OrderLine,
    OrderSource,
    OrderStatus,
    StockState,
)
from riff.orders.repository import OrderRepository
from riff.sync import push
from riff.sync.consts import EventKind, Outcome
from riff.sync.locks import lock_products
from riff.sync.models import SalePropagation
from riff.sync.repository import SyncRepository

log = get_logger(__name__)

_SOURCES = {s.value: s for s in OrderSource}
DONE_STATES = (ListingState.ENDED, ListingState.SOLD)

# Webhook topics that announce a new sale, per channel: the early delist acts on these only (never on
# updates, which may be cancellations).
SALE_TOPICS: dict[str, frozenset[str]] = {
    "reverb": frozenset({"orders/create", "orders/paid", "orders/update"}),
    "shopify": frozenset({"orders/create", "orders/paid"}),
    "ebay": frozenset({"FixedPriceTransaction", "AuctionCheckoutComplete", "ItemSold"}),
}
# Topics that may also carry a later state (Reverb sends no topic header: every order delivery is read as
# "orders/update"): acted on only when the body's status says a sale is open.
STATUS_CHECKED_TOPICS = frozenset({("reverb", "orders/update")})
SALE_STATUSES = frozenset(
    {"paid", "unpaid", "pending_review", "payment_pending", "partially_paid", "ordered"}
)
# Where an order delivery names what was sold: the channel's listing id, or the SKU.
LISTING_ID_KEYS = frozenset({"product_id", "item_id", "listing_id", "ItemID", "ItemId"})
SKU_KEYS = frozenset({"sku", "SKU", "seller_sku", "SellerSKU"})
NOT_A_SALE = frozenset({"cancelled", "canceled", "refunded", "voided", "declined"})
PROVISIONAL_WINDOW = dt.timedelta(hours=1)


@dataclasses.dataclass
class SaleResult:
    order_id: int
    created: bool
    applied: list[int] = dataclasses.field(default_factory=list)  # product ids whose stock was taken
    oversold: list[int] = dataclasses.field(default_factory=list)  # product ids already gone
    restored: list[int] = dataclasses.field(default_factory=list)
    ending: list[int] = dataclasses.field(default_factory=list)  # listing ids being ended


def first_received(session: Session, channel: str, remote_order_id: str) -> dt.datetime | None:
    """When the inbox first heard of this order (the webhook's arrival), if it did."""
    value = session.execute(
        sa.select(sa.func.min(ChannelEvent.received_at)).where(
            ChannelEvent.channel == channel, ChannelEvent.object_id == remote_order_id
        )
    ).scalar_one_or_none()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def process_remote_order(
    session: Session,
    channel: str,
    remote: RemoteOrder,
    *,
    source: str,
    received_at: dt.datetime | None = None,
    account_id: int | None = None,
) -> SaleResult:
    """Record a channel's order and apply it to stock (idempotent: a second delivery changes nothing)."""
    order_source = _SOURCES.get(source, OrderSource.POLL)
    received = received_at or first_received(session, channel, remote.remote_id) or utcnow()
    recorded = orders.record_order(
        session, channel, remote, source=order_source, received_at=received, account_id=account_id
    )
    actor = f"{channel}:{order_source.value}"
    if recorded.created:
        return apply_order(session, recorded.order, actor=actor)
    result = SaleResult(order_id=recorded.order.id, created=False)
    if recorded.released_now:
        release_order(session, recorded.order, actor=actor, result=result)
    return result


def apply_order(session: Session, order: Order, *, actor: str) -> SaleResult:
    """Take the stock of a newly recorded order's lines (or flag the oversell)."""
    result = SaleResult(order_id=order.id, created=True)
    repository = SyncRepository(session)
    if order.status in RELEASED_STATUSES:
        for line in order.lines:
            line.stock_state = StockState.NONE
        session.flush()
        return result
    products = lock_products(session, (line.product_id for line in order.lines if line.product_id))
    sold: list[tuple[Product, OrderLine]] = []
    oversold: list[tuple[Product, OrderLine]] = []
    for line in order.lines:
        product = products.get(line.product_id) if line.product_id else None
        if product is None:
            line.stock_state = StockState.UNMATCHED
            repository.add_event(
                channel=order.channel,
                kind=EventKind.ORDER_UNMATCHED,
                outcome=Outcome.NEEDS_ACTION,
                after={"order_id": order.id, "remote_order_id": order.remote_order_id, "sku": line.sku,
                       "remote_listing_id": line.remote_listing_id, "title": line.title},
                message=f"{order.channel} order {order.remote_order_id}: no product for "
                f"{line.sku or line.remote_listing_id or line.title!r}; its stock was not changed",
                actor=actor,
            )  # fmt: skip
            continue
        if _adopt_inferred(session, order, line):
            continue
        before = product.quantity
        try:
            catalog.adjust_stock(
                session,
                product,
                -line.quantity,
                MovementReason.SALE,
                actor,
                f"{order.channel} order {order.remote_order_id}",
                sync=False,
            )
        except Conflict:
            line.stock_state = StockState.OVERSOLD
            oversold.append((product, line))
            continue
        line.stock_state = StockState.APPLIED
        sold.append((product, line))
        result.applied.append(product.id)
        log.info(
            "sync.sale.applied", channel=order.channel, order=order.remote_order_id, sku=product.sku,
            quantity_before=before, quantity=product.quantity,
        )  # fmt: skip
    session.flush()
    for product, line in sold:
        result.ending.extend(_after_stock_taken(session, product, line, order, actor=actor))
    if oversold:
        _flag_oversell(session, order, oversold, actor=actor)
        result.oversold.extend(p.id for p, _ in oversold)
    session.flush()
    return result


def _adopt_inferred(session: Session, order: Order, line: OrderLine) -> bool:
    """The listing was already seen sold (and stock taken) before this order arrived: take that over."""
    if line.listing_id is None:
        return False
    repository = OrderRepository(session)
    for inferred in repository.inferred_lines_for_listing(line.listing_id):
        if inferred.order_id == order.id:
            continue
        if repository.move_line_state(inferred.id, StockState.APPLIED, StockState.TRANSFERRED):
            set_committed_value(inferred, "stock_state", StockState.TRANSFERRED)
            line.stock_state = StockState.APPLIED
            placeholder = repository.get(inferred.order_id)
            if placeholder is not None:
                placeholder.remote_status = f"superseded by order {order.remote_order_id}"[:60]
                placeholder.status = OrderStatus.CANCELLED
            log.info("sync.sale.adopted", channel=order.channel, order=order.remote_order_id)
            return True
    return False


def _after_stock_taken(
    session: Session, product: Product, line: OrderLine, order: Order, *, actor: str
) -> list[int]:
    """Stock was taken for ``line``: end or update the product's other listings. Returns ids being ended."""
    repository = SyncRepository(session)
    listings = repository.listings_for_product(product.id)
    origin = next((li for li in listings if li.id == line.listing_id), None)
    repository.touch_fields(product.id, ["quantity"], utcnow())
    targets: list[int] = []
    updated: list[int] = []
    if product.quantity == 0:
        if product.status == ProductStatus.ACTIVE:
            product.status = ProductStatus.SOLD
        if origin is not None and origin.state in (ListingState.LIVE, ListingState.PENDING):
            origin.state = ListingState.SOLD
        others = [li for li in listings if origin is None or li.id != origin.id]
        targets = push.end_listings(
            session, product, others, EndReason.SOLD_ELSEWHERE, for_stock=product.is_stocked_item
        )
    else:
        for listing in listings:
            if (
                listing.state == ListingState.LIVE
                and listing.remote_id
                and push.holds_quantity(listing.channel)
            ):
                push.enqueue_update(session, listing, {"quantity"})
                updated.append(listing.id)
        if origin is not None and not push.holds_quantity(origin.channel):
            # A single-unit channel sold its one unit while stock is left: list it there again.
            origin.state = ListingState.SOLD
            push.republish(session, product, origin, actor=actor)
    session.flush()
    now = utcnow()
    early = repository.early_propagation(product.id, order.channel, since=now - PROVISIONAL_WINDOW)
    if early is not None:
        # The delivery already ended the others (``order_event_received``): this order confirms that sale.
        early.order_id = order.id
        if early.completed_at is None:
            early.targets = sorted({*(early.targets or []), *targets})
        targets = list(early.targets or [])
    else:
        repository.add_propagation(
            order_id=order.id,
            product_id=product.id,
            channel=order.channel,
            received_at=order.received_at,
            targets=targets,
            completed_at=None if targets else now,
            created_at=now,
        )
    repository.add_event(
        channel=order.channel,
        product_id=product.id,
        listing_id=origin.id if origin is not None else None,
        kind=EventKind.SALE,
        before={"quantity": product.quantity + line.quantity},
        after={"quantity": product.quantity, "status": str(product.status), "order_id": order.id,
               "remote_order_id": order.remote_order_id, "ending": targets, "quantity_pushed_to": updated},
        message=f"{product.sku} sold on {order.channel} (order {order.remote_order_id}); stock "
        f"{product.quantity + line.quantity} -> {product.quantity}"
        + (f"; ending {len(targets)} other listing(s)" if targets else ""),
        actor=actor,
    )  # fmt: skip
    return targets


def _flag_oversell(
    session: Session, order: Order, lines: Sequence[tuple[Product, OrderLine]], *, actor: str
) -> None:
    skus = ", ".join(product.sku for product, _ in lines)
    order.oversold = True
    order.followup = (
        f"Cancel and refund {order.channel} order {order.remote_order_id}: {skus} had already sold "
        f"elsewhere, then mark it done (POST /api/sync/oversells/{order.id}/done)."
    )
    repository = SyncRepository(session)
    for product, line in lines:
        if line.listing_id is not None:
            listing = repository.listing(line.listing_id)
            if listing is not None and listing.state in (ListingState.LIVE, ListingState.PENDING):
                listing.state = ListingState.SOLD  # the channel sold it: nothing left to end there
        repository.add_event(
            channel=order.channel,
            product_id=product.id,
            listing_id=line.listing_id,
            kind=EventKind.OVERSELL,
            outcome=Outcome.NEEDS_ACTION,
            before={"quantity": product.quantity},
            after={"order_id": order.id, "remote_order_id": order.remote_order_id, "quantity": line.quantity,
                   "followup": order.followup},
            message=order.followup,
            actor=actor,
        )  # fmt: skip
    log.warning("sync.sale.oversell", channel=order.channel, order=order.remote_order_id, skus=skus)


def release_order(
    session: Session, order: Order, *, actor: str, result: SaleResult | None = None
) -> SaleResult:
    """A cancelled/refunded order gives back what it took, once; RIFF then offers to relist."""
    result = result or SaleResult(order_id=order.id, created=False)
    repository = OrderRepository(session)
    lines = list(repository.lines(order.id))
    products = lock_products(
        session, (li.product_id for li in lines if li.product_id and li.stock_state == StockState.APPLIED)
    )
    restored: dict[int, Product] = {}
    for line in lines:
        product = products.get(line.product_id) if line.product_id else None
        if product is None or line.stock_state != StockState.APPLIED:
            continue
        if not repository.move_line_state(line.id, StockState.APPLIED, StockState.RESTORED):
            continue  # another transaction restored it
        set_committed_value(line, "stock_state", StockState.RESTORED)
        reason = MovementReason.RETURN if order.status == OrderStatus.REFUNDED else MovementReason.CANCEL
        catalog.adjust_stock(
            session,
            product,
            line.quantity,
            reason,
            actor,
            f"{order.channel} order {order.remote_order_id} {order.status}",
            sync=False,
        )
        restored[product.id] = product
    if order.oversold and order.followup:
        order.followup = None  # the oversold order was cancelled: nothing left to do on the channel
    session.flush()
    for product in restored.values():
        given_back = sum(
            li.quantity
            for li in lines
            if li.product_id == product.id and li.stock_state == StockState.RESTORED
        )
        _after_restore(session, product, order, given_back, actor=actor)
        result.restored.append(product.id)
    session.flush()
    return result


def _after_restore(session: Session, product: Product, order: Order, given_back: int, *, actor: str) -> None:
    repository = SyncRepository(session)
    was_sold = product.status == ProductStatus.SOLD
    if was_sold and product.quantity > 0:
        product.status = ProductStatus.ACTIVE
    session.flush()
    ended = [li for li in repository.listings_for_product(product.id) if li.state in DONE_STATES]
    repository.add_event(
        channel=order.channel,
        product_id=product.id,
        kind=EventKind.STOCK_RESTORED,
        before={"quantity": product.quantity - given_back},
        after={"quantity": product.quantity, "order_id": order.id, "status": str(order.status)},
        message=f"{order.channel} order {order.remote_order_id} {order.status}: stock of {product.sku} "
        f"back to {product.quantity}",
        actor=actor,
    )
    if product.is_stocked_item:
        push.product_changed(session, product, ["quantity", "status"], actor=actor)
    elif ended:
        repository.add_event(
            product_id=product.id,
            kind=EventKind.RELIST_OFFERED,
            outcome=Outcome.NEEDS_ACTION,
            after={"channels": sorted({li.channel for li in ended}), "listing_ids": [li.id for li in ended]},
            message=f"{product.sku} is back in stock: relist it on {', '.join(sorted({li.channel for li in ended}))}"
            f" (POST /api/sync/products/{product.id}/relist)",
            actor=actor,
        )


def _hints(payload: Any, depth: int = 0) -> tuple[set[str], set[str], set[str]]:
    """(listing ids, SKUs, status words) named anywhere in a delivery body (a few levels deep)."""
    ids: set[str] = set()
    skus: set[str] = set()
    statuses: set[str] = set()
    if depth > 4:
        return ids, skus, statuses
    items = (
        payload.items()
        if isinstance(payload, dict)
        else enumerate(payload)
        if isinstance(payload, list)
        else ()
    )
    for key, value in items:
        if isinstance(value, dict | list):
            found = _hints(value, depth + 1)
            ids |= found[0]
            skus |= found[1]
            statuses |= found[2]
        elif isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            if key in LISTING_ID_KEYS:
                ids.add(str(value).strip())
            elif key in SKU_KEYS:
                skus.add(str(value).strip())
            elif isinstance(key, str) and key.endswith("status"):
                statuses.add(str(value).strip().lower())
    return ids, skus, statuses


def order_event_received(session: Session, channel: str, topic: str, payload: Any) -> list[int]:
    """A sale webhook was just stored in the inbox: end the item's other listings now, in the same
    transaction, instead of after the order is confirmed through the API (a round trip to the platform).

    Only for one-of-a-kind items in stock that the delivery names unambiguously (its listing id on this
    channel, or its SKU). Ending is the safe direction: stock is taken only when the confirmed order is
    recorded (``process_remote_order``), which adopts this early delist. A delivery that was not a sale
    after all leaves the item in stock with its listings ended: the reconciliation shows it with a relist.
    Never raises: the delivery is stored whatever happens here. Returns the listing ids being ended."""
    if topic not in SALE_TOPICS.get(channel, ()):
        return []
    try:
        with session.begin_nested():
            return _early_delist(session, channel, topic, payload)
    except Exception:
        log.warning("sync.sale.early_delist_failed", channel=channel, topic=topic, exc_info=True)
        return []


def _early_delist(session: Session, channel: str, topic: str, payload: Any) -> list[int]:
    ids, skus, statuses = _hints(payload)
    if statuses & NOT_A_SALE or not (ids or skus):
        return []
    if (channel, topic) in STATUS_CHECKED_TOPICS and not statuses & SALE_STATUSES:
        return []
    repository = SyncRepository(session)
    product_ids = repository.products_named(channel, ids, skus)
    if not product_ids:
        return []
    products = lock_products(session, product_ids)
    received = utcnow()
    ending: list[int] = []
    for product in products.values():
        if product.is_stocked_item or product.quantity != 1 or not push.is_available(product):
            continue
        listings = repository.listings_for_product(product.id)
        others = [li for li in listings if li.channel != channel]
        targets = push.end_listings(session, product, others, EndReason.SOLD_ELSEWHERE)
        repository.add_propagation(
            order_id=None, product_id=product.id, channel=channel, received_at=received, targets=targets,
            completed_at=None if targets else received, created_at=received,
        )  # fmt: skip
        repository.add_event(
            channel=channel, product_id=product.id, kind=EventKind.SALE, outcome=Outcome.OK,
            after={"early": True, "topic": topic, "ending": targets},
            message=f"{product.sku}: sale announced by {channel} ({topic}); ending {len(targets)} other "
            "listing(s) before the order is confirmed",
            actor=f"{channel}:webhook",
        )  # fmt: skip
        ending.extend(targets)
        log.info("sync.sale.early_delist", channel=channel, sku=product.sku, ending=len(targets))
    session.flush()
    return ending


def listing_sold_remotely(
    session: Session,
    listing: Listing,
    remote: RemoteListing | None,
    *,
    actor: str,
    received_at: dt.datetime | None = None,
) -> SaleResult | None:
    """A live listing is sold on its channel and no order took the stock yet: take it now and end the
    others (an inferred order the real one adopts later). Stocked items wait for their order instead."""
    products = lock_products(session, [listing.product_id])
    product = products.get(listing.product_id)
    session.refresh(listing)
    if product is None or listing.state not in (ListingState.LIVE, ListingState.PENDING):
        return None
    if product.is_stocked_item or product.quantity <= 0:
        listing.state = ListingState.SOLD
        session.flush()
        return None
    now = utcnow()
    order = Order(
        channel=listing.channel,
        account_id=listing.account_id,
        remote_order_id=f"inferred:{listing.remote_id}:{int(now.timestamp() * 1000)}"[:120],
        status=OrderStatus.AWAITING_PAYMENT,
        remote_status="listing sold (order not seen yet)",
        source=OrderSource.INFERRED,
        currency=remote.currency if remote else None,
        total=remote.price if remote else None,
        raw={"listing": remote.model_dump(mode="json", exclude={"raw"})} if remote else {},
        oversold=False,
        received_at=received_at or now,
        lines=[
            OrderLine(
                position=0,
                product_id=product.id,
                listing_id=listing.id,
                sku=product.sku,
                remote_listing_id=listing.remote_id,
                title=product.title[:300],
                quantity=1,
                price=remote.price if remote else None,
                currency=remote.currency if remote else None,
                stock_state=StockState.PENDING,
            )
        ],
    )
    session.add(order)
    session.flush()
    result = apply_order(session, order, actor=actor)
    log.info("sync.sale.inferred", channel=listing.channel, remote_id=listing.remote_id, sku=product.sku)
    return result


def listing_end_confirmed(session: Session, listing: Listing) -> None:
    """An end call succeeded: stamp the sales waiting for it whose last listing this was.

    The open propagations are locked first, so of two end jobs confirming a sale's last two listings at
    the same instant the second waits and then sees the first's listing ended (PostgreSQL READ COMMITTED
    re-reads; SQLite runs them one after the other anyway)."""
    session.flush()
    propagations = (
        session.execute(
            sa.select(SalePropagation)
            .where(SalePropagation.product_id == listing.product_id, SalePropagation.completed_at.is_(None))
            .order_by(SalePropagation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    now = utcnow()
    for propagation in propagations:
        targets = list(propagation.targets or [])
        if listing.id not in targets:
            continue
        others = _fresh(session, [t for t in targets if t != listing.id])
        if all(other.state in DONE_STATES or other.state == ListingState.ERROR for other in others):
            propagation.completed_at = now
            log.info(
                "sync.sale.propagated", product_id=listing.product_id,
                latency_ms=round((now - propagation.received_at).total_seconds() * 1000),
            )  # fmt: skip


def _fresh(session: Session, ids: Iterable[int]) -> list[Listing]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return list(
        session.execute(
            sa.select(Listing).where(Listing.id.in_(wanted)).execution_options(populate_existing=True)
        ).scalars()
    )


def relist(
    session: Session, product: Product, *, actor: str, channels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Publish the product again on the channels where its listing was ended or sold."""
    if not push.is_available(product):
        raise Conflict(f"{product.sku} has no stock to relist", field="quantity", code="no_stock")
    done: dict[str, Any] = {}
    for listing in SyncRepository(session).listings_for_product(product.id):
        if listing.state not in DONE_STATES or (channels and listing.channel not in channels):
            continue
        if push.republish(session, product, listing, actor=actor):
            done[listing.channel] = {"listing_id": listing.id}
    return done
