"""All catalog SQL: product queries and filters, text search, stock updates, categories, price rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.catalog.consts import MAX_SEARCH_TERM_LENGTH, MAX_SEARCH_TERMS
from riff.catalog.models import Category, MovementReason, Product, ProductStatus, StockMovement
from riff.catalog.schemas import ProductFilters
from riff.channels.models import ChannelPriceRule, Listing
from riff.core.clock import utcnow
from riff.core.db import is_postgres
from riff.core.repository import RepositoryBase

# Full-text search, the same on both databases: the text is split into words (runs of letters and
# digits), every word of the query must be the start of a word in sku/title/brand/model/description,
# case-insensitively ("tele 65" finds "Fender Telecaster 1965"; "caster" does not).
# PostgreSQL: a GIN index on exactly this expression (migration 0003); keep the two identical.
SEARCH_VECTOR: sa.ColumnElement[Any] = sa.literal_column(
    "to_tsvector('simple'::regconfig, regexp_replace(products.sku || ' ' || products.title || ' ' "
    "|| coalesce(products.brand, '') || ' ' || coalesce(products.model, '') || ' ' || products.description, "
    "'[^[:alnum:]]+', ' ', 'g'))"
)
# SQLite: an FTS5 table (unicode61 tokenizer) kept in step with products by triggers (migration 0003).
SQLITE_SEARCH_TABLE = "products_search"
WORD = re.compile(r"[^\W_]+")

NOT_ARCHIVED = [s for s in ProductStatus if s is not ProductStatus.ARCHIVED]

# What a product list shows, read as plain rows (attribute names as on Product, plus the category's
# slug): a page of 50 then costs no ORM identity map, instance state or lazy loads.
LIST_COLUMNS: list[sa.ColumnElement[Any]] = [
    *(column for column in Product.__table__.columns),
    Category.slug.label("category_slug"),
]
# Built once: coercing two dozen columns into a SELECT costs more than the page's own query.
LIST_ROWS: sa.Select[Any] = sa.select(*LIST_COLUMNS).outerjoin(Category, Category.id == Product.category_id)
# A listing as the product list shows it.
LISTING_SUMMARY_COLUMNS = (
    Listing.product_id,
    Listing.channel,
    Listing.state,
    Listing.remote_id,
    Listing.remote_url,
    Listing.price_override,
)


def search_words(q: str | None) -> list[str]:
    """The query's words, lower-cased and de-duplicated; punctuation separates words, as it does in
    the indexed text, so "ES-335" searches for "es" and "335"."""
    if not q:
        return []
    words = dict.fromkeys(word.lower()[:MAX_SEARCH_TERM_LENGTH] for word in WORD.findall(q))
    return list(words)[:MAX_SEARCH_TERMS]


def _one(session: Session, statement: sa.Select[Any]) -> Any:
    # RepositoryBase.get_one_or_none/get_all are typed Select[tuple[T]], which SQLAlchemy 2.1's
    # Select[T] no longer matches; these two keep mypy honest until the base is updated.
    return session.execute(statement).scalars().one_or_none()


def _all(session: Session, statement: sa.Select[Any]) -> list[Any]:
    return list(session.execute(statement).scalars().all())


class ProductRepository(RepositoryBase[Product]):
    model = Product

    @property
    def _postgres(self) -> bool:
        return is_postgres(self.session)

    def get_by_sku(self, sku: str) -> Product | None:
        return _one(self.session, sa.select(Product).where(Product.sku == sku))

    def get_for_update(self, product_id: int) -> Product | None:
        """Row-locked on PostgreSQL; on SQLite the write transaction (BEGIN IMMEDIATE) already excludes
        other writers. ``populate_existing`` so the version we compare is the committed one."""
        statement = (
            sa.select(Product)
            .where(Product.id == product_id)
            .with_for_update(of=Product)
            .execution_options(populate_existing=True)
        )
        return _one(self.session, statement)

    def get_by_skus(self, skus: Iterable[str], *, chunk_size: int = 500) -> dict[str, Product]:
        found: dict[str, Product] = {}
        unique = list(dict.fromkeys(skus))
        for start in range(0, len(unique), chunk_size):
            chunk = unique[start : start + chunk_size]
            for product in _all(self.session, sa.select(Product).where(Product.sku.in_(chunk))):
                found[product.sku] = product
        return found

    def sku_taken(self, sku: str, *, except_id: int | None = None) -> bool:
        statement = sa.select(Product.id).where(Product.sku == sku)
        if except_id is not None:
            statement = statement.where(Product.id != except_id)
        return self.session.execute(statement.limit(1)).first() is not None

    def current_version(self, product_id: int) -> int | None:
        return self.session.execute(
            sa.select(Product.version).where(Product.id == product_id)
        ).scalar_one_or_none()

    # -- filtered lists -------------------------------------------------------------------------

    def filter_conditions(self, filters: ProductFilters) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        statuses = filters.statuses if filters.statuses else NOT_ARCHIVED
        conditions.append(
            Product.status.in_(statuses) if len(statuses) > 1 else Product.status == statuses[0]
        )
        if filters.brand:
            # lower(brand) is indexed together with status and updated_at (migration 0003).
            conditions.append(sa.func.lower(Product.brand) == filters.brand.strip().lower())
        if filters.category_ids is not None:
            conditions.append(Product.category_id.in_(filters.category_ids))
        if filters.channel or filters.listing_state:
            listing = sa.select(Listing.id).where(Listing.product_id == Product.id)
            if filters.channel:
                listing = listing.where(Listing.channel == filters.channel)
            if filters.listing_state:
                listing = listing.where(Listing.state == filters.listing_state)
            conditions.append(listing.exists())
        if filters.price_min is not None:
            conditions.append(Product.base_price >= filters.price_min)
        if filters.price_max is not None:
            conditions.append(Product.base_price <= filters.price_max)
        if filters.quantity_min is not None:
            conditions.append(Product.quantity >= filters.quantity_min)
        if filters.quantity_max is not None:
            conditions.append(Product.quantity <= filters.quantity_max)
        conditions.extend(self._search_conditions(search_words(filters.q)))
        return conditions

    def _search_conditions(self, words: list[str]) -> list[sa.ColumnElement[bool]]:
        if not words:
            return []
        # Words are letters and digits only (search_words), so neither query syntax can be injected.
        if self._postgres:
            tsquery = " & ".join(f"{w}:*" for w in words)
            return [
                SEARCH_VECTOR.op("@@")(sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), tsquery))
            ]
        match = " AND ".join(f'"{w}"*' for w in words)
        fts: sa.Select[Any] = (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.table(SQLITE_SEARCH_TABLE))
            .where(sa.literal_column(SQLITE_SEARCH_TABLE).op("MATCH")(match))
        )
        return [Product.id.in_(fts.scalar_subquery())]

    def order_by(self, sort: Sequence[tuple[str, bool]], columns: Any = None) -> list[sa.ColumnElement[Any]]:
        """ORDER BY for ``sort``; ``columns`` (a CTE's ``.c``) when sorting a subquery's rows."""
        clauses: list[sa.ColumnElement[Any]] = []
        last_descending = True
        for attribute, descending in sort:
            column = getattr(columns, attribute) if columns is not None else getattr(Product, attribute)
            clause = column.desc() if descending else column.asc()
            # PostgreSQL and SQLite disagree on where NULLs sort; pin it so both pages look the same.
            if getattr(Product, attribute).nullable:
                clause = clause.nulls_last()
            clauses.append(clause)
            last_descending = descending
        # A unique tie-breaker keeps offset pagination stable between pages.
        id_column = columns.id if columns is not None else Product.id
        clauses.append(id_column.desc() if last_descending else id_column.asc())
        return clauses

    def page(self, filters: ProductFilters) -> tuple[Sequence[sa.Row[Any]], int]:
        """One page of list rows (``LIST_COLUMNS``) and the total number of matches."""
        conditions = self.filter_conditions(filters)
        if filters.q and search_words(filters.q):
            return self._search_page(filters, conditions)
        items = self.session.execute(
            LIST_ROWS.where(*conditions)
            .order_by(*self.order_by(filters.sort))
            .limit(filters.limit)
            .offset(filters.offset)
        ).all()
        if filters.offset == 0 and len(items) < filters.limit:
            total = len(items)  # the whole result fits on this page: no need to count
        else:
            total = self._count(conditions)
        return items, total

    def _search_page(
        self, filters: ProductFilters, conditions: list[sa.ColumnElement[bool]]
    ) -> tuple[list[sa.Row[Any]], int]:
        """Search results: the matches are collected once through the text index, then counted and
        sorted. The MATERIALIZED fence stops the planner from walking the updated_at index and
        evaluating the text condition row by row, which for a rare word means the whole table."""
        sort_columns = dict.fromkeys(a for a, _ in filters.sort if a != "id")
        matches = (
            sa.select(Product.id, *(getattr(Product, a) for a in sort_columns))
            .where(*conditions)
            .cte("matches")
            .prefix_with("MATERIALIZED")
        )
        total_query = sa.select(sa.func.count()).select_from(matches).scalar_subquery()
        rows = self.session.execute(
            sa.select(matches.c.id, total_query.label("total"))
            .order_by(*self.order_by(filters.sort, matches.c))
            .limit(filters.limit)
            .offset(filters.offset)
        ).all()
        if not rows:
            return [], self._count(conditions) if filters.offset else 0
        found = self.session.execute(LIST_ROWS.where(Product.id.in_([r.id for r in rows]))).all()
        by_id = {row.id: row for row in found}
        return [by_id[r.id] for r in rows if r.id in by_id], int(rows[0].total)

    def _count(self, conditions: list[sa.ColumnElement[bool]]) -> int:
        # count(*), not count(id): PostgreSQL can then answer from the index and the visibility map.
        return int(
            self.session.execute(
                sa.select(sa.func.count()).select_from(Product).where(*conditions)
            ).scalar_one()
        )

    def iter_filtered(self, filters: ProductFilters, *, batch_size: int = 1000) -> Iterator[list[Product]]:
        """Every matching product in id order, in batches (keyset pagination keeps memory flat)."""
        conditions = self.filter_conditions(filters)
        last_id = 0
        while True:
            batch = list(
                _all(
                    self.session,
                    sa.select(Product)
                    .where(*conditions, Product.id > last_id)
                    .order_by(Product.id)
                    .limit(batch_size),
                )
            )
            if not batch:
                return
            yield batch
            last_id = batch[-1].id
            # Exported rows are never touched again; let the identity map forget them.
            for product in batch:
                self.session.expunge(product)

    def count_filtered(self, filters: ProductFilters) -> int:
        return self._count(self.filter_conditions(filters))

    def attribute_names(self, filters: ProductFilters) -> list[str]:
        names: set[str] = set()
        statement = sa.select(Product.attributes).where(*self.filter_conditions(filters))
        for attributes in self.session.execute(statement.execution_options(yield_per=2000)).scalars():
            names.update((attributes or {}).keys())
        return sorted(names)

    # -- stock ------------------------------------------------------------------------------------

    def add_to_quantity(
        self, product: Product, delta: int, *, expected_version: int | None = None
    ) -> tuple[int, int, Any] | None:
        """Atomically ``quantity += delta`` unless it would go below zero (or above one for a
        one-of-a-kind item). Returns (quantity, version, updated_at) or None when refused."""
        now = utcnow()
        statement = (
            sa.update(Product)
            .where(
                Product.id == product.id,
                Product.quantity + delta >= 0,
                sa.or_(Product.is_stocked_item.is_(True), Product.quantity + delta <= 1),
            )
            .values(quantity=Product.quantity + delta, version=Product.version + 1, updated_at=now)
            .returning(Product.quantity, Product.version)
            .execution_options(synchronize_session=False)
        )
        if expected_version is not None:
            statement = statement.where(Product.version == expected_version)
        row = self.session.execute(statement).first()
        if row is None:
            return None
        return int(row[0]), int(row[1]), now

    def current_stock(self, product_id: int) -> tuple[int, int, bool] | None:
        row = self.session.execute(
            sa.select(Product.quantity, Product.version, Product.is_stocked_item).where(
                Product.id == product_id
            )
        ).first()
        return None if row is None else (int(row[0]), int(row[1]), bool(row[2]))

    def add_movement(
        self,
        *,
        product_id: int,
        delta: int,
        quantity_after: int,
        reason: MovementReason,
        actor: str,
        reference: str | None,
    ) -> StockMovement:
        movement = StockMovement(
            product_id=product_id,
            delta=delta,
            quantity_after=quantity_after,
            reason=reason,
            actor=actor,
            reference=reference,
            at=utcnow(),
        )
        self.session.add(movement)
        return movement

    def movements(self, product_id: int, *, limit: int = 200) -> Sequence[StockMovement]:
        statement = (
            sa.select(StockMovement)
            .where(StockMovement.product_id == product_id)
            .order_by(StockMovement.id.desc())
            .limit(limit)
        )
        return self.session.execute(statement).scalars().all()


class CategoryRepository(RepositoryBase[Category]):
    model = Category

    def get_by_slug(self, slug: str) -> Category | None:
        return _one(self.session, sa.select(Category).where(Category.slug == slug))

    def all(self) -> Sequence[Category]:
        return _all(self.session, sa.select(Category).order_by(Category.id))


class PriceRuleRepository(RepositoryBase[ChannelPriceRule]):
    model = ChannelPriceRule

    def all(self) -> Sequence[ChannelPriceRule]:
        return _all(self.session, sa.select(ChannelPriceRule).order_by(ChannelPriceRule.channel))

    def get_by_channel(self, channel: str) -> ChannelPriceRule | None:
        return _one(self.session, sa.select(ChannelPriceRule).where(ChannelPriceRule.channel == channel))


class ListingRepository(RepositoryBase[Listing]):
    model = Listing

    def for_products(self, product_ids: Sequence[int]) -> dict[int, list[Listing]]:
        by_product: dict[int, list[Listing]] = {pid: [] for pid in product_ids}
        if not product_ids:
            return by_product
        statement = sa.select(Listing).where(Listing.product_id.in_(product_ids)).order_by(Listing.channel)
        for listing in _all(self.session, statement):
            by_product[listing.product_id].append(listing)
        return by_product

    def summaries_for_products(self, product_ids: Sequence[int]) -> dict[int, list[Any]]:
        """``LISTING_SUMMARY_COLUMNS`` rows per product, by channel: what a product list shows."""
        by_product: dict[int, list[Any]] = {pid: [] for pid in product_ids}
        if not product_ids:
            return by_product
        statement = (
            sa.select(*LISTING_SUMMARY_COLUMNS)
            .where(Listing.product_id.in_(product_ids))
            .order_by(Listing.product_id, Listing.channel)
        )
        for row in self.session.execute(statement):
            by_product[row.product_id].append(row)
        return by_product


def price_overrides(listings: Iterable[Any]) -> dict[str, Decimal | None]:
    """Channel -> override from listings (ORM objects or summary rows: both carry the two fields)."""
    return {listing.channel: listing.price_override for listing in listings}
