"""Change generations: every committed write to an area moves its counter, on both databases, and
only committed writes do; the cache keeps one generation's entries and no older ones."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from riff.auth.models import Role
from riff.auth.service import create_api_token, create_user, revoke_api_token
from riff.catalog.models import Category, Product
from riff.channels.models import ChannelPriceRule, Listing, ListingState
from riff.core import generations
from riff.core.db import Database
from riff.core.generations import AREA_TABLES, AUTH, CATALOG, GenerationCache


def current(database: Database) -> generations.Generations:
    with database.read_session() as session:
        return generations.read(session)


def make_product(database: Database, sku: str = "GEN-1") -> int:
    with database.session() as session:
        product = Product(sku=sku, title="Fender Telecaster 1965", base_price=Decimal("1000"), currency="GBP")
        session.add(product)
        session.flush()
        return product.id


# -- the triggers ------------------------------------------------------------------------------------


def test_every_area_table_has_its_triggers_at_head(database: Database) -> None:
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            names = set(
                conn.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").scalars()
            )
            expected = {f"{t}_bumps_{a}" for a, ts in AREA_TABLES.items() for t in ts}
            expected |= {f"{t}_truncate_bumps_{a}" for a, ts in AREA_TABLES.items() for t in ts}
        else:
            names = set(
                conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars()
            )
            expected = {
                f"{t}_{event}_bumps_{a}"
                for a, ts in AREA_TABLES.items()
                for t in ts
                for event in ("insert", "update", "delete")
            }
    assert expected <= names


def test_product_insert_update_and_delete_each_move_the_catalog_generation(database: Database) -> None:
    start = current(database)
    product_id = make_product(database)
    after_insert = current(database)
    assert after_insert.catalog is not None and start.catalog is not None
    assert after_insert.catalog > start.catalog
    assert after_insert.auth == start.auth  # other areas stand still

    with database.session() as session:
        session.execute(sa.update(Product).where(Product.id == product_id).values(title="Changed"))
    after_update = current(database)
    assert after_update.catalog is not None and after_update.catalog > after_insert.catalog

    with database.session() as session:
        session.execute(sa.delete(Product).where(Product.id == product_id))
    after_delete = current(database)
    assert after_delete.catalog is not None and after_delete.catalog > after_update.catalog


def test_listings_price_rules_and_categories_move_the_catalog_generation(database: Database) -> None:
    product_id = make_product(database)
    writes = [
        lambda s: s.add(Listing(product_id=product_id, channel="reverb", state=ListingState.PENDING)),
        lambda s: s.execute(sa.update(Listing).values(state=ListingState.LIVE, remote_id="R-1")),
        lambda s: s.add(ChannelPriceRule(channel="ebay", markup_percent=Decimal("10"))),
        lambda s: s.execute(sa.update(ChannelPriceRule).values(markup_percent=Decimal("7"))),
        lambda s: s.add(Category(slug="synths", name="Synthesizers")),
    ]
    for write in writes:
        before = current(database).catalog
        with database.session() as session:
            write(session)
        after = current(database).catalog
        assert before is not None and after is not None and after > before


def test_users_and_tokens_move_the_auth_generation_only(database: Database) -> None:
    start = current(database)
    with database.session() as session:
        user = create_user(session, username="gen-user", password="correct horse", role=Role.STAFF)
        token, _ = create_api_token(session, user, name="t")
    created = current(database)
    assert created.auth is not None and start.auth is not None and created.auth > start.auth
    assert created.catalog == start.catalog
    with database.session() as session:
        revoke_api_token(session, token.id)
    revoked = current(database)
    assert revoked.auth is not None and revoked.auth > created.auth


def test_a_rolled_back_write_does_not_move_the_generation(database: Database) -> None:
    before = current(database)
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Product(sku="GEN-RB", title="t", base_price=Decimal("1"), currency="GBP"))
        session.flush()
        raise RuntimeError("abort")
    assert current(database) == before


def test_many_rows_in_one_transaction_move_it(database: Database) -> None:
    before = current(database).catalog
    with database.session() as session:
        for index in range(20):
            session.add(Product(sku=f"GEN-M{index}", title="t", base_price=Decimal("1"), currency="GBP"))
    after = current(database).catalog
    assert before is not None and after is not None and after > before


def test_after_a_restore_the_next_write_moves_past_every_value_used_before(database: Database) -> None:
    """Restoring a backup brings back an older counter; the next write must not walk back into
    values that caches filled before the restore still carry."""
    make_product(database, sku="GEN-R1")
    used = current(database).catalog
    assert used is not None
    with database.engine.begin() as conn:  # the restore: the counter as an old backup had it
        conn.exec_driver_sql("UPDATE change_generations SET value = 1 WHERE area = 'catalog'")
    make_product(database, sku="GEN-R2")
    after = current(database).catalog
    assert after is not None and after > used


def test_postgres_bumps_at_commit_so_a_reader_never_sees_the_new_generation_early(
    database: Database,
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("SQLite has one writer and snapshot reads; the deferral is PostgreSQL's")
    before = current(database).catalog
    with database.session() as session:
        session.add(Product(sku="GEN-DEFER", title="t", base_price=Decimal("1"), currency="GBP"))
        session.flush()
        # Written but not committed: other connections still see the old generation (and no
        # lock on the counter row is held yet, so they are not blocked reading or writing it).
        seen: list[int | None] = []
        reader = threading.Thread(target=lambda: seen.append(current(database).catalog))
        reader.start()
        reader.join(timeout=10)
        assert seen == [before]
    after = current(database).catalog
    assert before is not None and after is not None and after > before


def test_postgres_truncate_moves_the_generation(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite deletes row by row through the row triggers")
    make_product(database)
    before = current(database).catalog
    with database.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE products CASCADE")
    after = current(database).catalog
    assert before is not None and after is not None and after > before


# -- the cache -------------------------------------------------------------------------------------


def test_cache_serves_an_entry_only_for_its_generation() -> None:
    cache: GenerationCache[str, bytes] = GenerationCache(max_entries=4)
    cache.put("page", 5, b"five")
    assert cache.get("page", 5) == b"five"
    assert cache.get("page", 6) is None
    assert cache.get("page", None) is None


def test_cache_never_replaces_a_newer_entry_with_an_older_one() -> None:
    cache: GenerationCache[str, bytes] = GenerationCache(max_entries=4)
    cache.put("page", 7, b"seven")
    cache.put("page", 6, b"six")  # a slow reader finishing late
    assert cache.get("page", 7) == b"seven"
    cache.put("page", 8, b"eight")
    assert cache.get("page", 8) == b"eight"


def test_cache_stores_nothing_without_a_generation_and_evicts_the_least_recent() -> None:
    cache: GenerationCache[str, bytes] = GenerationCache(max_entries=2)
    cache.put("none", None, b"x")
    assert len(cache) == 0
    cache.put("a", 1, b"a")
    cache.put("b", 1, b"b")
    assert cache.get("a", 1) == b"a"  # a is now the most recent
    cache.put("c", 1, b"c")
    assert cache.get("b", 1) is None
    assert cache.get("a", 1) == b"a" and cache.get("c", 1) == b"c"


def test_area_names() -> None:
    assert set(AREA_TABLES) == {CATALOG, AUTH}
