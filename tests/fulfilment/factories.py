"""Keyword-only factories for fulfilment and order tests."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.models import Condition, Product, ProductImage, ProductStatus
from riff.channels import service as channels
from riff.channels.contract import Address, OrderLine, OrderStatus, RemoteOrder
from riff.channels.models import ChannelAccount, Listing, ListingState
from riff.channels.schemas import AccountCreate
from riff.core.clock import utcnow
from riff.core.security import SecretBox
from riff.orders.models import Order
from riff.sync import sales

_sequence = itertools.count(1)

US_BUYER = Address(
    name="Alex Example",
    line1="123 Example Ave",
    city="Nashville",
    region="TN",
    postal_code="37203",
    country_code="US",
    phone="5555550100",
)
GB_BUYER = Address(
    name="Jo Tester",
    line1="7 Demo Street",
    city="Manchester",
    region="ENG",
    postal_code="M1 1AA",
    country_code="GB",
    phone="07700900001",
)


def create_product(
    session: Session,
    *,
    sku: str | None = None,
    quantity: int = 1,
    title: str = "Fender Stratocaster 1965 Sunburst",
) -> Product:
    product = Product(
        sku=sku or f"RIFF-F{next(_sequence):06d}",
        title=title,
        brand="Fender",
        model="Stratocaster",
        year=1965,
        finish="Sunburst",
        condition=Condition.EXCELLENT,
        base_price=Decimal("12500.00"),
        currency="GBP",
        quantity=quantity,
        status=ProductStatus.ACTIVE,
        description="A lovely guitar.",
        attributes={},
    )
    product.images.append(ProductImage(position=0, source_url=f"https://img.example.com/{product.sku}/0.jpg"))
    session.add(product)
    session.flush()
    return product


def list_on(
    session: Session, product: Product, channel: str, *, state: ListingState = ListingState.LIVE
) -> Listing:
    listing = Listing(
        product_id=product.id,
        channel=channel,
        remote_id=f"{channel[:2]}-{product.id}",
        state=state,
        remote_price=product.base_price,
        remote_quantity=1,
        last_pushed_at=utcnow(),
        extras={},
    )
    session.add(listing)
    session.flush()
    return listing


def create_account(
    session: Session,
    master_key: bytes,
    channel: str,
    *,
    base_url: str | None,
    config: dict[str, Any],
    secrets: dict[str, str],
) -> ChannelAccount:
    return channels.create_account(
        session,
        SecretBox(master_key),
        AccountCreate(
            channel=channel,
            name="sandbox",
            base_url=base_url,
            is_sandbox=base_url is not None,
            config=config,
            secrets=secrets,
        ),
    )


def record_order(
    session: Session,
    remote_id: str,
    *,
    channel: str = "reverb",
    listing: Listing | None = None,
    sku: str | None = None,
    title: str | None = "Fender Stratocaster 1965 Sunburst",
    status: OrderStatus = OrderStatus.PAID,
    address: Address | None = US_BUYER,
    buyer_name: str = "Alex Example",
    buyer_email: str = "alex@example.com",
    total: Decimal = Decimal("12500.00"),
    fees: str | None = "625.00",
) -> Order:
    """An order as the sync engine records it from a channel (stock taken, listings ended)."""
    remote = RemoteOrder(
        remote_id=remote_id,
        status=status,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        shipping_address=address,
        currency="GBP",
        subtotal=total,
        total=total,
        lines=[
            OrderLine(
                sku=sku,
                remote_listing_id=listing.remote_id if listing else None,
                title=title,
                quantity=1,
                price=total,
                currency="GBP",
            )
        ],
        raw={"order_number": remote_id, **({"fees": fees} if fees else {})},
    )
    result = sales.process_remote_order(session, channel, remote, source="poll")
    order = session.get(Order, result.order_id)
    assert order is not None
    return order
