"""The sync engine's entry points for the API and the CLI. Services never commit.

The machinery lives in its own modules: ``push`` (local changes to the channels), ``pull`` (channels to
RIFF, with the conflict rules of ``conflicts``), ``sales`` (orders and stock), ``matching`` (unknown remote
listings), ``reconcile`` and ``status``. This module adds what a person does with them: request a pull,
revert a decision, resolve an unmatched listing, acknowledge an oversell, relist.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from riff.catalog import service as catalog
from riff.catalog.models import MovementReason, Product, ProductStatus
from riff.catalog.repository import ProductRepository
from riff.catalog.schemas import ProductCreate
from riff.channels.contract import EndReason, RemoteState
from riff.channels.models import Listing, ListingState
from riff.channels.registry import channel_class
from riff.channels.repository import ListingRepository
from riff.core.clock import utcnow
from riff.core.errors import Conflict, NotFound, ValidationFailed
from riff.core.logging import get_logger
from riff.jobs import enqueue
from riff.jobs.consts import Priority
from riff.orders.models import Order
from riff.orders.repository import OrderRepository
from riff.sync import push, sales
from riff.sync.consts import EventKind, Outcome
from riff.sync.locks import lock_products
from riff.sync.models import SyncEvent, UnmatchedListing, UnmatchedStatus
from riff.sync.pull import REMOTE_TITLE_KEY, STATE_FROM_REMOTE
from riff.sync.repository import SyncRepository

log = get_logger(__name__)

ResolveAction = Literal["match", "create", "ignore"]


# -- pulls ---------------------------------------------------------------------------------------------------


def request_pull(session: Session, channel: str, *, full: bool = False, actor: str = "system") -> int | None:
    """Enqueue ``<channel>.pull_listings`` now (HIGH priority); a pull already queued absorbs it."""
    from riff.channels.service import resolve_account

    resolve_account(session, channel)  # 409 without an enabled account, 422 for an unknown channel
    job = enqueue(
        session,
        f"{channel}.pull_listings",
        channel=channel,
        payload={"full": full, "requested_by": actor},
        priority=Priority.HIGH,
        coalesce_key=f"{channel}.pull_listings",
    )
    if job is not None:
        return int(job.id)
    queued = SyncRepository(session).queued_job(f"{channel}.pull_listings")
    return int(queued.id) if queued is not None else None


# -- events and revert ---------------------------------------------------------------------------------------


def get_event(session: Session, event_id: int, *, for_update: bool = False) -> SyncEvent:
    event = SyncRepository(session).get_event(event_id, for_update=for_update)
    if event is None:
        raise NotFound(f"sync event {event_id} not found")
    return event


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def revert_event(session: Session, event_id: int, *, actor: str) -> SyncEvent:
    """Undo a decision: what RIFF took from a channel is put back, what RIFF pushed over the channel's
    value is replaced by that value. Returns the new ``revert`` event."""
    event = get_event(session, event_id, for_update=True)
    if event.outcome == Outcome.REVERTED:
        raise Conflict(f"sync event {event_id} was already reverted", code="already_reverted")
    repository = SyncRepository(session)
    listing = repository.listing(event.listing_id) if event.listing_id else None
    before, after = dict(event.before or {}), dict(event.after or {})
    if listing is None or event.kind not in _REVERTIBLE or event.outcome not in _REVERTIBLE[event.kind]:
        raise Conflict(
            f"a {event.kind} event ({event.outcome}) cannot be reverted", code="not_revertible", field="id"
        )
    lock_products(session, [listing.product_id])
    session.refresh(listing)
    product = listing.product
    applied: dict[str, Any]
    if event.kind == EventKind.REMOTE_PRICE:
        if event.outcome == Outcome.ACCEPTED_REMOTE:
            listing.price_override = _decimal(before.get("price_override"))
            push.enqueue_update(session, listing, {"price"})
        else:
            listing.price_override = _decimal(after.get("remote_price"))
            push.enqueue_update(session, listing, {"price"})
        applied = {"price_override": None if listing.price_override is None else str(listing.price_override)}
    elif event.kind == EventKind.REMOTE_TITLE:
        title = before.get("title") if event.outcome == Outcome.ACCEPTED_REMOTE else after.get("remote_title")
        if not title:
            raise Conflict("the event does not record the title to go back to", code="not_revertible")
        product.title = str(title)[:300]
        session.flush()
        push.product_changed(session, product, ["title"], actor=actor)
        applied = {"title": product.title}
    elif event.kind == EventKind.REMOTE_QUANTITY:
        quantity = (
            before.get("quantity")
            if event.outcome == Outcome.ACCEPTED_REMOTE
            else after.get("remote_quantity")
        )
        catalog.set_quantity(
            session, product, int(quantity or 0), MovementReason.ADJUSTMENT, actor,
            f"revert of sync event {event.id}", sync=False,
        )  # fmt: skip
        push.product_changed(session, product, ["quantity"], actor=actor)
        applied = {"quantity": product.quantity}
    else:  # ended remotely / missing remotely: list it again
        if not push.is_available(product):
            raise Conflict(f"{product.sku} is not in stock: nothing to relist", code="no_stock")
        push.republish(session, product, listing, actor=actor)
        applied = {"state": "pending"}
    decided = f"{event.kind}, {event.outcome}"
    event.outcome = Outcome.REVERTED
    revert = repository.add_event(
        channel=event.channel,
        product_id=event.product_id,
        listing_id=event.listing_id,
        kind=EventKind.REVERT,
        outcome=Outcome.OK,
        before=after,
        after={**applied, "reverted_event_id": event.id},
        message=f"reverted sync event {event.id} ({decided})",
        actor=actor,
    )
    session.flush()
    log.info("sync.event.reverted", event_id=event.id, kind=event.kind, actor=actor)
    return revert


_REVERTIBLE: dict[str, set[str]] = {
    EventKind.REMOTE_PRICE: {Outcome.ACCEPTED_REMOTE, Outcome.PUSHED_LOCAL},
    EventKind.REMOTE_TITLE: {Outcome.ACCEPTED_REMOTE, Outcome.PUSHED_LOCAL},
    EventKind.REMOTE_QUANTITY: {Outcome.ACCEPTED_REMOTE, Outcome.PUSHED_LOCAL},
    EventKind.REMOTE_ENDED: {Outcome.ACCEPTED_REMOTE},
    EventKind.MISSING_REMOTELY: {Outcome.ACCEPTED_REMOTE},
}


# -- unmatched remote listings -------------------------------------------------------------------------------


def get_unmatched(session: Session, unmatched_id: int, *, for_update: bool = False) -> UnmatchedListing:
    row = SyncRepository(session).get_unmatched(unmatched_id, for_update=for_update)
    if row is None:
        raise NotFound(f"unmatched listing {unmatched_id} not found")
    return row


def resolve_unmatched(
    session: Session, unmatched_id: int, action: ResolveAction, *, product_id: int | None = None, actor: str
) -> UnmatchedListing:
    """The user's answer for a remote listing RIFF did not know; remembered, so it is never offered again."""
    row = get_unmatched(session, unmatched_id, for_update=True)
    if row.status != UnmatchedStatus.OPEN:
        raise Conflict(
            f"unmatched listing {unmatched_id} was already resolved ({row.status})", code="resolved"
        )
    before = {"status": str(row.status)}
    if action == "ignore":
        row.status = UnmatchedStatus.IGNORED
    elif action == "match":
        wanted = product_id or row.best_product_id
        if wanted is None:
            raise ValidationFailed("no candidate: give the product_id to match", field="product_id")
        product = session.get(Product, wanted)
        if product is None:
            raise NotFound(f"product {wanted} not found", field="product_id")
        listing = _link(session, row, product)
        row.status = UnmatchedStatus.MATCHED
        row.resolved_product_id = product.id
        _after_link(session, product, listing, actor=actor)
    elif action == "create":
        product = _create_product(session, row, actor=actor)
        listing = _link(session, row, product)
        row.status = UnmatchedStatus.CREATED
        row.resolved_product_id = product.id
    else:
        raise ValidationFailed("action must be match, create or ignore", field="action")
    row.resolved_by = actor
    row.resolved_at = utcnow()
    SyncRepository(session).add_event(
        channel=row.channel,
        product_id=row.resolved_product_id,
        kind=EventKind.UNMATCHED_RESOLVED,
        before=before,
        after={"status": str(row.status), "product_id": row.resolved_product_id, "remote_id": row.remote_id},
        message=f"{row.channel} listing {row.remote_id} ({row.title}): {row.status}",
        actor=actor,
    )
    session.flush()
    return row


def _link(session: Session, row: UnmatchedListing, product: Product) -> Listing:
    repository = ListingRepository(session)
    state = STATE_FROM_REMOTE.get(_remote_state(row.state), ListingState.LIVE)
    listing = repository.for_product_channel(product.id, row.channel)
    if listing is not None and listing.remote_id and listing.remote_id != row.remote_id:
        if listing.state in (ListingState.LIVE, ListingState.PENDING):
            raise Conflict(
                f"{product.sku} already has a live {row.channel} listing ({listing.remote_id})",
                field="product_id",
                code="already_listed",
            )
        earlier = list((listing.extras or {}).get("earlier_remote_ids") or [])
        listing.extras = {**(listing.extras or {}), "earlier_remote_ids": [*earlier, listing.remote_id]}
    if listing is None:
        accounts = [a for a in SyncRepository(session).accounts(row.channel) if a.enabled]
        listing = Listing(
            product_id=product.id,
            channel=row.channel,
            account_id=accounts[0].id if accounts else None,
            extras={},
        )
        session.add(listing)
    listing.remote_id = row.remote_id
    listing.remote_url = row.url
    listing.state = state
    listing.remote_price = row.price
    listing.remote_currency = row.currency
    listing.remote_quantity = row.quantity
    listing.last_pulled_at = utcnow()
    listing.last_error = None
    listing.extras = {**(listing.extras or {}), REMOTE_TITLE_KEY: row.title}
    session.flush()
    return listing


def _after_link(session: Session, product: Product, listing: Listing, *, actor: str) -> None:
    """A matched listing is live while the product has nothing to sell: end it at once."""
    if listing.state == ListingState.LIVE and not push.is_available(product):
        push.end_listings(session, product, [listing], EndReason.SOLD_ELSEWHERE)


def _remote_state(value: str) -> RemoteState:
    try:
        return RemoteState(value)
    except ValueError:
        return RemoteState.UNKNOWN


def _create_product(session: Session, row: UnmatchedListing, *, actor: str) -> Product:
    if row.price is None or row.price <= 0:
        raise ValidationFailed("the remote listing has no price to create a product from", field="action")
    details = row.details or {}
    sku = row.sku if row.sku and not ProductRepository(session).sku_taken(row.sku) else None
    sku = sku or f"{row.channel[:3].upper()}-{row.remote_id}"[:64]
    quantity = max(1, int(row.quantity or 1))
    try:
        data = ProductCreate(
            sku=sku,
            title=(row.title or f"{row.channel} listing {row.remote_id}")[:300],
            brand=details.get("brand"),
            model=details.get("model"),
            year=details.get("year"),
            description=details.get("description") or "",
            price=row.price,
            currency=row.currency or "GBP",
            quantity=quantity,
            is_stocked_item=quantity > 1,
            status=ProductStatus.ACTIVE if row.state == "live" else ProductStatus.DRAFT,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(
            f"cannot create a product from this listing: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}",
            field="action",
        ) from None
    return catalog.create_product(
        session,
        data,
        actor=actor,
        reason=MovementReason.IMPORT,
        reference=f"{row.channel} listing {row.remote_id}",
    )


# -- oversells, relist, publish ------------------------------------------------------------------------------


def oversells(
    session: Session, *, open_only: bool = True, limit: int = 50, offset: int = 0
) -> tuple[Sequence[Order], int]:
    items, total = OrderRepository(session).page(
        oversold=True, limit=limit, offset=offset, open_only=open_only
    )
    return items, total


def oversell_done(session: Session, order_id: int, *, actor: str) -> Order:
    order = OrderRepository(session).get(order_id)
    if order is None or not order.oversold:
        raise NotFound(f"no oversold order {order_id}")
    from riff.orders.service import clear_followup

    clear_followup(session, order, actor=actor)
    SyncRepository(session).add_event(
        channel=order.channel,
        kind=EventKind.OVERSELL,
        outcome=Outcome.OK,
        after={"order_id": order.id, "followup": "done"},
        message=f"oversold {order.channel} order {order.remote_order_id}: follow-up done",
        actor=actor,
    )
    return order


def relist_product(
    session: Session, product_id: int, *, actor: str, channels: Sequence[str] | None = None
) -> dict[str, Any]:
    products = lock_products(session, [product_id])
    product = products.get(product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found")
    for channel in channels or []:
        channel_class(channel)
    return sales.relist(session, product, actor=actor, channels=channels)


def publish_product(
    session: Session, product_id: int, channels: Sequence[str] | None = None
) -> dict[str, Any]:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"product {product_id} not found")
    return push.publish_everywhere(session, product, channels)
