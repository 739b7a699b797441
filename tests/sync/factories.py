"""Keyword-only factories for sync tests: products with listings on several channels, remote orders."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog.models import Condition, Product, ProductImage, ProductStatus
from riff.channels.contract import OrderLine, OrderStatus, RemoteListing, RemoteOrder, RemoteState
from riff.channels.models import ChannelAccount, Listing, ListingState
from riff.core.clock import utcnow

_sequence = itertools.count(1)
CHANNELS = ("reverb", "ebay", "shopify")


def create_product(
    session: Session,
    *,
    sku: str | None = None,
    title: str = "Fender Stratocaster 1965 Sunburst",
    brand: str | None = "Fender",
    model: str | None = "Stratocaster",
    year: int | None = 1965,
    base_price: Decimal = Decimal("12500.00"),
    quantity: int = 1,
    is_stocked_item: bool = False,
    status: ProductStatus = ProductStatus.ACTIVE,
    description: str = "A lovely guitar.",
) -> Product:
    product = Product(
        sku=sku or f"RIFF-S{next(_sequence):06d}",
        title=title,
        brand=brand,
        model=model,
        year=year,
        condition=Condition.EXCELLENT,
        base_price=base_price,
        currency="GBP",
        quantity=quantity,
        is_stocked_item=is_stocked_item,
        status=status,
        description=description,
        attributes={},
    )
    product.images.append(ProductImage(position=0, source_url=f"https://img.example.com/{product.sku}/0.jpg"))
    session.add(product)
    session.flush()
    return product


def create_account(session: Session, channel: str, **config: Any) -> ChannelAccount:
    account = ChannelAccount(channel=channel, name="default", enabled=True, config=config)
    session.add(account)
    session.flush()
    return account


def list_on(
    session: Session,
    product: Product,
    channels: Sequence[str] = CHANNELS,
    *,
    state: ListingState = ListingState.LIVE,
    **values: Any,
) -> dict[str, Listing]:
    listings = {}
    for channel in channels:
        listing = Listing(
            product_id=product.id,
            channel=channel,
            remote_id=f"{channel[:2]}-{product.id}",
            state=state,
            remote_price=values.get("remote_price", product.base_price),
            remote_quantity=values.get("remote_quantity", product.quantity),
            last_pushed_at=values.get("last_pushed_at", utcnow()),
            extras=values.get("extras", {}),
        )
        session.add(listing)
        listings[channel] = listing
    session.flush()
    return listings


def remote_order(
    remote_id: str,
    *,
    listing: Listing | None = None,
    sku: str | None = None,
    quantity: int = 1,
    status: OrderStatus = OrderStatus.PAID,
    price: Decimal = Decimal("12500.00"),
    updated_at: Any = None,
) -> RemoteOrder:
    return RemoteOrder(
        remote_id=remote_id,
        status=status,
        buyer_name="A. Buyer",
        currency="GBP",
        total=price * quantity,
        lines=[
            OrderLine(
                sku=sku,
                remote_listing_id=listing.remote_id if listing is not None else None,
                quantity=quantity,
                price=price,
                currency="GBP",
            )
        ],
        updated_at=updated_at,
        raw={"order_number": remote_id},
    )


def remote_listing(
    remote_id: str,
    *,
    title: str = "Fender Stratocaster 1965 Sunburst",
    price: Decimal | None = Decimal("12500.00"),
    quantity: int | None = 1,
    state: RemoteState = RemoteState.LIVE,
    sku: str | None = None,
    updated_at: Any = None,
    raw: dict[str, Any] | None = None,
) -> RemoteListing:
    return RemoteListing(
        remote_id=remote_id,
        sku=sku,
        title=title,
        price=price,
        currency="GBP",
        quantity=quantity,
        state=state,
        updated_at=updated_at,
        raw=raw or {},
    )
