"""All storefront SQL. "Visible" is the one rule of the feed: an active product with stock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.catalog.models import Category, ImageHealth, Product, ProductImage, ProductStatus
from riff.channels.models import Listing, ListingState
from riff.records.models import Record
from riff.records.repository import artist_condition, facet_condition

VISIBLE: tuple[sa.ColumnElement[bool], ...] = (Product.status == ProductStatus.ACTIVE, Product.quantity > 0)
LISTED_AT = sa.func.coalesce(Record.listed_at, Product.created_at)
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class FeedFilters:
    words: tuple[str, ...] = ()
    artist: str | None = None
    genre: str | None = None
    format: str | None = None
    brand: str | None = None
    category_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class FeedVersion:
    """Changes whenever anything the feed shows may have changed (drives ETag and Last-Modified)."""

    products_updated: dt.datetime | None
    products: int
    listings_updated: dt.datetime | None
    listings: int
    records_updated: dt.datetime | None
    records: int

    @property
    def last_modified(self) -> dt.datetime | None:
        moments = [m for m in (self.products_updated, self.listings_updated, self.records_updated) if m]
        return max(moments) if moments else None


def _text() -> sa.ColumnElement[str]:
    return sa.func.lower(
        Product.title
        + " "
        + sa.func.coalesce(Product.brand, "")
        + " "
        + sa.func.coalesce(Product.model, "")
        + " "
        + sa.func.coalesce(Record.search_text, "")
    )


class StorefrontRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def version(self) -> FeedVersion:
        row = self.session.execute(
            sa.select(
                sa.select(sa.func.max(Product.updated_at)).scalar_subquery(),
                sa.select(sa.func.count(Product.id)).scalar_subquery(),
                sa.select(sa.func.max(Listing.updated_at)).scalar_subquery(),
                sa.select(sa.func.count(Listing.id)).scalar_subquery(),
                sa.select(sa.func.max(Record.updated_at)).scalar_subquery(),
                sa.select(sa.func.count(Record.product_id)).scalar_subquery(),
            )
        ).one()
        products_updated, products, listings_updated, listings, records_updated, records = row
        return FeedVersion(
            products_updated=_aware(products_updated),
            products=int(products),
            listings_updated=_aware(listings_updated),
            listings=int(listings),
            records_updated=_aware(records_updated),
            records=int(records),
        )

    def _conditions(self, filters: FeedFilters) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = list(VISIBLE)
        text = _text()
        conditions.extend(text.contains(word, autoescape=True) for word in filters.words)
        if filters.artist:
            conditions.append(artist_condition(filters.artist))
        if filters.genre:
            conditions.append(facet_condition("genre", filters.genre, Product.id))
        if filters.format:
            conditions.append(facet_condition("format", filters.format, Product.id))
        if filters.brand:
            conditions.append(sa.func.lower(Product.brand) == filters.brand.strip().lower())
        if filters.category_ids is not None:
            conditions.append(Product.category_id.in_(filters.category_ids))
        return conditions

    def page(self, filters: FeedFilters, *, limit: int, offset: int) -> tuple[list[Product], int]:
        base = (
            sa.select(Product.id)
            .outerjoin(Record, Record.product_id == Product.id)
            .where(*self._conditions(filters))
        )
        total = int(
            self.session.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
        )
        ids = list(
            self.session.execute(
                base.order_by(LISTED_AT.desc(), Product.id.desc()).limit(limit).offset(offset)
            ).scalars()
        )
        return self.products(ids), total

    def products(self, ids: Sequence[int]) -> list[Product]:
        if not ids:
            return []
        found = {
            p.id: p for p in self.session.execute(sa.select(Product).where(Product.id.in_(ids))).scalars()
        }
        return [found[i] for i in ids if i in found]

    def visible_product(self, product_id: int) -> Product | None:
        statement = sa.select(Product).where(Product.id == product_id, *VISIBLE)
        return self.session.execute(statement).scalar_one_or_none()

    def product_for_listing(self, channel: str, remote_id: str) -> int | None:
        statement = sa.select(Listing.product_id).where(
            Listing.channel == channel, Listing.remote_id == remote_id
        )
        return self.session.execute(statement).scalar_one_or_none()

    def records(self, ids: Sequence[int]) -> dict[int, Record]:
        if not ids:
            return {}
        statement = sa.select(Record).where(Record.product_id.in_(ids))
        return {r.product_id: r for r in self.session.execute(statement).scalars()}

    def live_listings(self, ids: Sequence[int]) -> dict[int, list[Listing]]:
        found: dict[int, list[Listing]] = {}
        if not ids:
            return found
        statement = (
            sa.select(Listing)
            .where(Listing.product_id.in_(ids), Listing.state == ListingState.LIVE)
            .order_by(Listing.channel)
        )
        for listing in self.session.execute(statement).scalars():
            found.setdefault(listing.product_id, []).append(listing)
        return found

    def discogs_ids(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        statement = sa.select(Listing.product_id, Listing.remote_id).where(
            Listing.product_id.in_(ids), Listing.channel == "discogs", Listing.remote_id.is_not(None)
        )
        return {product_id: str(remote_id) for product_id, remote_id in self.session.execute(statement)}

    def images(self, ids: Sequence[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        if not ids:
            return found
        statement = (
            sa.select(ProductImage.product_id, ProductImage.source_url)
            .where(
                ProductImage.product_id.in_(ids),
                ProductImage.source_url.is_not(None),
                ProductImage.health != ImageHealth.BROKEN,
            )
            .order_by(ProductImage.product_id, ProductImage.position)
        )
        for product_id, url in self.session.execute(statement):
            if url:
                found.setdefault(product_id, []).append(url)
        return found

    def counts_by_channel(self) -> dict[str, int]:
        statement = (
            sa.select(Listing.channel, sa.func.count(sa.distinct(Listing.product_id)))
            .join(Product, Product.id == Listing.product_id)
            .where(*VISIBLE, Listing.state == ListingState.LIVE)
            .group_by(Listing.channel)
            .order_by(Listing.channel)
        )
        return {channel: int(count) for channel, count in self.session.execute(statement)}

    def counts_by_category(self) -> dict[str, int]:
        statement = (
            sa.select(Category.slug, sa.func.count(Product.id))
            .select_from(Product)
            .outerjoin(Category, Category.id == Product.category_id)
            .where(*VISIBLE)
            .group_by(Category.slug)
            .order_by(Category.slug)
        )
        return {slug or UNCATEGORISED: int(count) for slug, count in self.session.execute(statement)}

    def visible_count(self) -> int:
        statement = sa.select(sa.func.count(Product.id)).where(*VISIBLE)
        return int(self.session.execute(statement).scalar_one())


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands an aggregate of a DATETIME back as text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
