"""All records SQL: record rows, their facets, and the filters other read models (the storefront) reuse."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from riff.catalog.models import Category, Product, ProductStatus
from riff.channels.models import Listing
from riff.core.repository import RepositoryBase
from riff.records.models import Record, RecordFacet
from riff.records.schemas import RecordQuery

NOT_ARCHIVED = [s for s in ProductStatus if s is not ProductStatus.ARCHIVED]


def _like(value: str) -> str:
    return value.strip().lower()


def facet_condition(kind: str, value: str, product_id: Any = Product.id) -> sa.ColumnElement[bool]:
    """EXISTS a facet ``kind`` equal to ``value`` (case-insensitive) for the product ``product_id``."""
    return (
        sa.select(RecordFacet.id)
        .where(
            RecordFacet.product_id == product_id, RecordFacet.kind == kind, RecordFacet.value == _like(value)
        )
        .exists()
    )


def text_conditions(words: Iterable[str]) -> list[sa.ColumnElement[bool]]:
    """Every word must occur in the record's search text."""
    return [Record.search_text.contains(word.lower(), autoescape=True) for word in words]


def artist_condition(artist: str) -> sa.ColumnElement[bool]:
    return sa.func.lower(Record.artist).contains(_like(artist), autoescape=True)


class RecordRepository(RepositoryBase[Record]):
    model = Record

    def get(self, id_: int) -> Record | None:
        return self.session.get(Record, id_)

    def get_many(self, product_ids: Iterable[int]) -> dict[int, Record]:
        ids = list(dict.fromkeys(product_ids))
        found: dict[int, Record] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for record in self.session.execute(
                sa.select(Record).where(Record.product_id.in_(chunk))
            ).scalars():
                found[record.product_id] = record
        return found

    def replace_facets(self, product_id: int, facets: Iterable[tuple[str, str]]) -> None:
        self.session.execute(sa.delete(RecordFacet).where(RecordFacet.product_id == product_id))
        rows = [
            {"product_id": product_id, "kind": kind, "value": value} for kind, value in dict.fromkeys(facets)
        ]
        if rows:
            self.session.execute(sa.insert(RecordFacet), rows)

    def insert_records(self, rows: Sequence[dict[str, Any]]) -> None:
        """Many new records in one statement (the sync adds up to 100 a page)."""
        if rows:
            self.session.execute(sa.insert(Record), list(rows))

    def insert_facets(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(sa.insert(RecordFacet), list(rows))

    # -- queries ---------------------------------------------------------------------------------------

    def _conditions(self, query: RecordQuery, words: list[str]) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = [
            Product.status == query.status if query.status else Product.status.in_(NOT_ARCHIVED)
        ]
        if query.artist:
            conditions.append(artist_condition(query.artist))
        for kind, value in (
            ("genre", query.genre),
            ("style", query.style),
            ("format", query.format),
            ("label", query.label),
        ):
            if value:
                conditions.append(facet_condition(kind, value, Record.product_id))
        if query.release_id is not None:
            conditions.append(Record.release_id == query.release_id)
        if query.year_min is not None:
            conditions.append(Record.year >= query.year_min)
        if query.year_max is not None:
            conditions.append(Record.year <= query.year_max)
        if query.media_condition is not None:
            conditions.append(Record.media_condition == str(query.media_condition))
        conditions.extend(text_conditions(words))
        return conditions

    def search(self, query: RecordQuery, words: list[str]) -> tuple[Sequence[Record], int]:
        statement = (
            sa.select(Record)
            .join(Product, Product.id == Record.product_id)
            .where(*self._conditions(query, words))
            .order_by(sa.func.coalesce(Record.listed_at, Product.created_at).desc(), Product.id.desc())
        )
        total = self.count(statement)
        items = self.session.execute(statement.limit(query.limit).offset(query.offset)).scalars().all()
        return items, total

    def listings_for(self, product_ids: Sequence[int]) -> dict[int, list[Listing]]:
        found: dict[int, list[Listing]] = {}
        if not product_ids:
            return found
        statement = sa.select(Listing).where(Listing.product_id.in_(product_ids)).order_by(Listing.channel)
        for listing in self.session.execute(statement).scalars():
            found.setdefault(listing.product_id, []).append(listing)
        return found

    # -- release data (enrichment) -----------------------------------------------------------------------

    def releases_missing_data(self, limit: int) -> list[int]:
        """Release ids of records whose release data (genres, styles, labels) was never read."""
        statement = (
            sa.select(Record.release_id)
            .where(Record.release_id.is_not(None), Record.release_checked_at.is_(None))
            .group_by(Record.release_id)
            .order_by(sa.func.min(Record.product_id))
            .limit(limit)
        )
        return [release_id for (release_id,) in self.session.execute(statement) if release_id is not None]

    def by_release(self, release_id: int) -> Sequence[Record]:
        return self.session.execute(sa.select(Record).where(Record.release_id == release_id)).scalars().all()

    # -- the records category ------------------------------------------------------------------------

    def category(self, slug: str) -> Category | None:
        return self.session.execute(sa.select(Category).where(Category.slug == slug)).scalar_one_or_none()

    def add_category(self, category: Category) -> Category:
        self.session.add(category)
        self.session.flush()
        return category
