"""The read side: list filters from the query string, pages of products as the API shows them
(with every channel's price), and the CSV export."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from riff.catalog import csv_io, pricing
from riff.catalog.categories import CategoryIndex
from riff.catalog.consts import CHANNELS, DEFAULT_PAGE_LIMIT, DEFAULT_SORT, MAX_PAGE_LIMIT, SORT_FIELDS
from riff.catalog.models import Product, ProductStatus
from riff.catalog.repository import ListingRepository, PriceRuleRepository, ProductRepository, price_overrides
from riff.catalog.schemas import ListingOut, ProductFilters, ProductOut, ProductPage
from riff.channels.models import ListingState
from riff.core.errors import ValidationFailed


def parse_sort(sort: str | None) -> list[tuple[str, bool]]:
    parsed: list[tuple[str, bool]] = []
    for part in (sort or DEFAULT_SORT).split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        name = part.lstrip("-+")
        if name not in SORT_FIELDS:
            raise ValidationFailed(
                f"cannot sort by {name!r}; sortable fields: {', '.join(SORT_FIELDS)}", field="sort"
            )
        parsed.append((SORT_FIELDS[name], descending))
    return parsed or parse_sort(DEFAULT_SORT)


def parse_statuses(status: str | None) -> list[ProductStatus] | None:
    if not status:
        return None
    statuses: list[ProductStatus] = []
    for part in status.split(","):
        part = part.strip().lower()
        if not part:
            continue
        try:
            statuses.append(ProductStatus(part))
        except ValueError:
            allowed = ", ".join(s.value for s in ProductStatus)
            raise ValidationFailed(f"unknown status {part!r} (use {allowed})", field="status") from None
    return statuses or None


def check_channel(channel: str | None, *, field: str = "channel") -> str | None:
    if channel is None:
        return None
    channel = channel.strip().lower()
    if channel not in CHANNELS:
        raise ValidationFailed(f"unknown channel {channel!r} (use {', '.join(CHANNELS)})", field=field)
    return channel


def parse_filters(
    session: Session,
    *,
    status: str | None = None,
    brand: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    listing_state: str | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    quantity_min: int | None = None,
    quantity_max: int | None = None,
    q: str | None = None,
    sort: str | None = None,
    limit: int = DEFAULT_PAGE_LIMIT,
    offset: int = 0,
) -> ProductFilters:
    """Query-string values -> ProductFilters; every bad value is a 422 naming its parameter.

    Without ``status`` archived products are left out (archiving is how products are deleted).
    ``category`` includes its sub-categories.
    """
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_PAGE_LIMIT}", field="limit")
    if offset < 0:
        raise ValidationFailed("offset must not be negative", field="offset")
    state: ListingState | None = None
    if listing_state:
        try:
            state = ListingState(listing_state.strip().lower())
        except ValueError:
            allowed = ", ".join(s.value for s in ListingState)
            raise ValidationFailed(
                f"unknown listing state {listing_state!r} (use {allowed})", field="listing_state"
            ) from None
    category_ids: list[int] | None = None
    if category:
        categories = CategoryIndex.load(session)
        found = categories.resolve(category)
        assert found is not None
        category_ids = categories.with_descendants(found)
    return ProductFilters(
        statuses=parse_statuses(status),
        brand=brand.strip() if brand and brand.strip() else None,
        category_ids=category_ids,
        channel=check_channel(channel),
        listing_state=state,
        price_min=price_min,
        price_max=price_max,
        quantity_min=quantity_min,
        quantity_max=quantity_max,
        q=q.strip() if q and q.strip() else None,
        sort=parse_sort(sort),
        limit=limit,
        offset=offset,
    )


def list_products(session: Session, filters: ProductFilters) -> ProductPage:
    rows, total = ProductRepository(session).page(filters)
    book = pricing.PriceBook(PriceRuleRepository(session).all())
    listings = ListingRepository(session).summaries_for_products([row.id for row in rows])
    items = [product_out(row, row.category_slug, book, listings[row.id]) for row in rows]
    return ProductPage(items=items, total=total, limit=filters.limit, offset=filters.offset)


def products_out(session: Session, products: Sequence[Product]) -> list[ProductOut]:
    book = pricing.PriceBook(PriceRuleRepository(session).all())
    listings = ListingRepository(session).for_products([p.id for p in products])
    return [
        product_out(p, p.category.slug if p.category else None, book, listings.get(p.id, []))
        for p in products
    ]


def product_out(
    product: Any, category: str | None, book: pricing.PriceBook, listings: Sequence[Any]
) -> ProductOut:
    """A product as the API shows it. ``product`` is a Product or a list row with the same column
    names; ``listings`` are Listings or listing summary rows (see ``ProductRepository.page``)."""
    return ProductOut(
        id=product.id,
        sku=product.sku,
        title=product.title,
        brand=product.brand,
        model=product.model,
        year=product.year,
        decade=product.decade,
        finish=product.finish,
        condition=product.condition,
        category=category,
        description=product.description,
        price=product.base_price,
        currency=product.currency,
        cost=product.cost,
        quantity=product.quantity,
        is_stocked_item=product.is_stocked_item,
        status=product.status,
        attributes=product.attributes or {},
        notes=product.notes,
        version=product.version,
        created_at=product.created_at,
        updated_at=product.updated_at,
        channel_prices=book.prices(product.base_price, price_overrides(listings)),
        listings=[
            ListingOut(
                channel=listing.channel,
                state=listing.state,
                remote_id=listing.remote_id,
                remote_url=listing.remote_url,
                price_override=listing.price_override,
            )
            for listing in listings
        ],
    )


def product_prices(session: Session, product: Product) -> dict[str, Decimal]:
    """The product's price on every channel with a rule (or a listing override): what adapters push."""
    rules = PriceRuleRepository(session).all()
    listings = ListingRepository(session).for_products([product.id])[product.id]
    return pricing.channel_prices(product.base_price, rules, price_overrides(listings))


# -- export -----------------------------------------------------------------------------------------

EXPORT_CHUNK_CHARS = 64 * 1024


def export_csv(
    session: Session,
    filters: ProductFilters,
    *,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """The RIFF CSV of every product matching ``filters`` (sorting and paging ignored), in chunks.

    One ``attr.<name>`` column per attribute any exported product carries, so the file imports back
    with zero changes.
    """
    repo = ProductRepository(session)
    attribute_names = repo.attribute_names(filters)
    buffer: list[str] = []
    size = 0
    for line in csv_io.csv_lines([csv_io.export_header(attribute_names)]):
        buffer.append(line)
    for batch in repo.iter_filtered(filters):
        for line in csv_io.csv_lines(csv_io.product_row(p, attribute_names) for p in batch):
            buffer.append(line)
            size += len(line)
        if progress is not None:
            progress(len(batch))
        if size >= EXPORT_CHUNK_CHARS:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def count_products(session: Session, filters: ProductFilters) -> int:
    return ProductRepository(session).count_filtered(filters)
