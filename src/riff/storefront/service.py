"""Storefront read models: pages of visible products (records and gear), one item, search, stats, and the
feed version that drives the HTTP caching headers. Read-only; nothing here writes."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from riff.catalog.categories import CategoryIndex
from riff.catalog.models import Product
from riff.records.models import Record
from riff.storefront.repository import FeedFilters, FeedVersion, StorefrontRepository
from riff.storefront.schemas import (
    Category,
    ChannelLink,
    Item,
    ItemPage,
    Pagination,
    Price,
    RecordInfo,
    Stats,
)

ID_PREFIX = "riff-"
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+")


def words(q: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w.lower()[:100] for w in _WORD.findall(q or "")))[:MAX_WORDS]


def version(session: Session) -> FeedVersion:
    return StorefrontRepository(session).version()


def etag(feed: FeedVersion, variant: str) -> str:
    """A strong validator of one response: the feed version plus what was asked (path and query)."""
    digest = hashlib.sha256(f"{feed!r}|{variant}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def _record(record: Record | None) -> RecordInfo | None:
    if record is None:
        return None
    return RecordInfo(
        release_id=record.release_id,
        artist=record.artist,
        artists=list(record.artists or []),
        title=record.title,
        labels=list(record.labels or []),
        catalog_number=record.catalog_number,
        format=record.format_text,
        formats=list(record.formats or []),
        year=record.year,
        genres=list(record.genres or []),
        styles=list(record.styles or []),
        media_condition=record.media_condition,
        sleeve_condition=record.sleeve_condition,
        have=record.have_count,
        want=record.want_count,
    )


def items(session: Session, products: Sequence[Product]) -> list[Item]:
    repository = StorefrontRepository(session)
    ids = [p.id for p in products]
    records = repository.records(ids)
    listings = repository.live_listings(ids)
    discogs = repository.discogs_ids(ids)
    images = repository.images(ids)
    out: list[Item] = []
    for product in products:
        record = records.get(product.id)
        pictures = list(images.get(product.id, []))
        if record is not None and record.cover_image_url and record.cover_image_url not in pictures:
            pictures.append(record.cover_image_url)
        out.append(
            Item(
                id=f"{ID_PREFIX}{product.id}",
                listing_id=discogs.get(product.id),
                title=product.title,
                description=product.description or "",
                price=Price(value=f"{product.base_price:.2f}", currency=product.currency),
                condition=str(product.condition),
                quantity=product.quantity,
                category=Category(slug=product.category.slug, name=product.category.name)
                if product.category
                else None,
                brand=product.brand,
                model=product.model,
                year=product.year,
                decade=product.decade,
                finish=product.finish,
                images=pictures,
                listed_at=(
                    record.listed_at if record is not None and record.listed_at else product.created_at
                ),
                updated_at=max(product.updated_at, record.updated_at)
                if record is not None
                else product.updated_at,
                channels=[
                    ChannelLink(channel=listing.channel, url=listing.remote_url)
                    for listing in listings.get(product.id, [])
                    if listing.remote_url
                ],
                record=_record(record),
            )
        )
    return out


def page(session: Session, filters: FeedFilters, *, page_number: int, per_page: int) -> ItemPage:
    repository = StorefrontRepository(session)
    products, total = repository.page(filters, limit=per_page, offset=(page_number - 1) * per_page)
    return ItemPage(
        items=items(session, products),
        pagination=Pagination(
            page=page_number, per_page=per_page, pages=max(1, math.ceil(total / per_page)), items=total
        ),
        last_updated=repository.version().last_modified,
    )


def category_ids(session: Session, slug: str | None) -> tuple[int, ...] | None:
    """The category and its sub-categories; an unknown slug matches nothing (a public feed never errors
    on a filter value)."""
    if not slug:
        return None
    index = CategoryIndex.load(session)
    category = index.by_slug.get(slug.strip().lower())
    return tuple(index.with_descendants(category)) if category is not None else ()


def item(session: Session, reference: str) -> Item | None:
    """``riff-<n>`` (the feed's id) or a Discogs listing id (the old feed's ids keep working)."""
    repository = StorefrontRepository(session)
    product_id: int | None = None
    if reference.startswith(ID_PREFIX) and reference[len(ID_PREFIX) :].isdigit():
        product_id = int(reference[len(ID_PREFIX) :])
    elif reference.isdigit():
        product_id = repository.product_for_listing("discogs", reference)
    product = repository.visible_product(product_id) if product_id is not None else None
    return items(session, [product])[0] if product is not None else None


def stats(session: Session) -> Stats:
    repository = StorefrontRepository(session)
    return Stats(
        total_listings=repository.visible_count(),
        last_updated=repository.version().last_modified,
        by_channel=repository.counts_by_channel(),
        by_category=repository.counts_by_category(),
    )
