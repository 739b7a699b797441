"""Reconciliation (``riff.sync.reconcile``): every kind of mismatch with its cause, the counts, paging, and
the database's comparison (``reconcile_repository``) pinned to the Python rules (``row_mismatches``) over
randomised shops, so the report can never drop a listing that disagrees with its channel."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.catalog.models import Product, ProductStatus
from riff.catalog.pricing import effective_price
from riff.channels.models import ChannelPriceRule, Listing, ListingState
from riff.core.db import Database
from riff.core.errors import Conflict
from riff.sync import push, reconcile
from riff.sync.reconcile import ACK_ENDED, ChannelReport, Mismatch
from riff.sync.reconcile_repository import ReconcileRepository
from riff.sync.repository import SyncRepository

from .factories import create_account, create_product, list_on


def _report(database: Database, channel: str = "reverb", **options: Any) -> ChannelReport:
    with database.read_session() as session:
        return reconcile.channel_report(session, channel, **options)


def _by_listing(report: ChannelReport) -> dict[int, list[Mismatch]]:
    found: dict[int, list[Mismatch]] = {}
    for mismatch in report.mismatches:
        found.setdefault(mismatch.listing_id, []).append(mismatch)
    return found


def _scan(session: Session, channel: str) -> tuple[int, int, list[Mismatch]]:
    """The reference: the Python rules over every listing of the channel (what the report did before the
    database compared), as (listings, live, mismatches in listing id order)."""
    repository = SyncRepository(session)
    rule = repository.price_rule(channel)
    listings = live = 0
    found: list[Mismatch] = []
    for batch in repository.iter_local_rows(channel, batch=97):
        jobs = repository.queued_listing_jobs([row.listing_id for row in batch])
        for row in batch:
            listings += 1
            live += row.state == ListingState.LIVE
            found.extend(reconcile.row_mismatches(row, channel, rule, jobs.get(row.listing_id, [])))
    return listings, live, found


def _key(mismatch: Mismatch) -> tuple[Any, ...]:
    return (mismatch.listing_id, mismatch.field, str(mismatch.local), str(mismatch.remote), mismatch.cause)


# -- each kind of mismatch ---------------------------------------------------------------------------


def test_a_price_mismatch_shows_with_its_cause_and_both_fixes(database: Database) -> None:
    with database.session() as session:
        create_account(session, "reverb")
        product = create_product(session, base_price=Decimal("1000.00"))
        listing = list_on(session, product, ["reverb"], remote_price=Decimal("900.00"))["reverb"]
        in_sync = create_product(session, base_price=Decimal("1000.00"))
        list_on(session, in_sync, ["reverb"], remote_price=Decimal("1000.00"))
        listing_id = listing.id
    report = _report(database)
    assert report.counts == {"price": 1, "quantity": 0, "state": 0}
    assert (report.listings, report.live, report.truncated, report.next_after) == (2, 2, False, None)
    (mismatch,) = report.mismatches
    assert (mismatch.listing_id, mismatch.field, mismatch.local, mismatch.remote) == (
        listing_id,
        "price",
        Decimal("1000.00"),
        Decimal("900.00"),
    )
    assert "not pushed" in mismatch.cause and mismatch.fixes == ["push_local", "accept_remote"]
    assert report.at is not None


def test_the_price_follows_the_channel_rule_and_the_listing_override(database: Database) -> None:
    with database.session() as session:
        session.add(ChannelPriceRule(channel="reverb", markup_percent=Decimal("10"), price_endings="49,99"))
        ruled = create_product(session, base_price=Decimal("1100.00"))  # +10% = 1210.00 -> 1249.00
        right = list_on(session, ruled, ["reverb"], remote_price=Decimal("1249.00"))["reverb"]
        base_only = create_product(session, base_price=Decimal("1100.00"))
        wrong = list_on(session, base_only, ["reverb"], remote_price=Decimal("1100.00"))["reverb"]
        overridden = create_product(session, base_price=Decimal("1100.00"))
        override = list_on(session, overridden, ["reverb"], remote_price=Decimal("999.00"))["reverb"]
        override.price_override = Decimal("999.00")
        stale = create_product(session, base_price=Decimal("1100.00"))
        stale_override = list_on(session, stale, ["reverb"], remote_price=Decimal("1249.00"))["reverb"]
        stale_override.price_override = Decimal("1000.00")
        ids = {"right": right.id, "wrong": wrong.id, "override": override.id, "stale": stale_override.id}
    found = _by_listing(_report(database))
    assert set(found) == {ids["wrong"], ids["stale"]}
    assert found[ids["wrong"]][0].local == Decimal("1249.00")
    assert found[ids["stale"]][0].local == Decimal("1000.00")


def test_a_quantity_mismatch_shows_only_where_the_channel_keeps_a_count(database: Database) -> None:
    with database.session() as session:
        product = create_product(session, quantity=5, is_stocked_item=True)
        listings = list_on(session, product, ["reverb", "discogs"], remote_quantity=3)
        one_off = create_product(session, quantity=1)
        list_on(session, one_off, ["reverb"], remote_quantity=4)  # not a stocked item: never compared
        reverb_id = listings["reverb"].id
    report = _report(database)
    assert report.counts == {"price": 0, "quantity": 1, "state": 0}
    (mismatch,) = report.mismatches
    assert (mismatch.listing_id, mismatch.field, mismatch.local, mismatch.remote) == (
        reverb_id,
        "quantity",
        5,
        3,
    )
    assert _report(database, "discogs").counts == {"price": 0, "quantity": 0, "state": 0}


def test_state_mismatches_live_without_stock_and_ended_with_stock(database: Database) -> None:
    with database.session() as session:
        sold = create_product(session, quantity=0, status=ProductStatus.SOLD)
        live_but_sold = list_on(session, sold, ["reverb"])["reverb"]
        archived = create_product(session, status=ProductStatus.ARCHIVED)
        live_but_archived = list_on(session, archived, ["reverb"])["reverb"]
        in_stock = create_product(session)
        ended = list_on(session, in_stock, ["reverb"], state=ListingState.ENDED)["reverb"]
        back = create_product(session)
        sold_there = list_on(session, back, ["reverb"], state=ListingState.SOLD)["reverb"]
        left = create_product(session)
        list_on(session, left, ["reverb"], state=ListingState.ENDED, extras={ACK_ENDED: True})
        draft = create_product(session, status=ProductStatus.DRAFT)
        list_on(session, draft, ["reverb"], state=ListingState.ENDED)  # not for sale: nothing to relist
        ids = (live_but_sold.id, live_but_archived.id, ended.id, sold_there.id)
    report = _report(database)
    assert report.counts == {"price": 0, "quantity": 0, "state": 4}
    found = _by_listing(report)
    assert sorted(found) == sorted(ids)
    live_sold = found[ids[0]][0]
    assert (live_sold.local, live_sold.remote, live_sold.fixes) == ("not in stock", "live", ["push_local"])
    assert "sale was not propagated" in live_sold.cause
    assert (found[ids[2]][0].local, found[ids[2]][0].remote) == ("in stock", "ended")
    assert found[ids[3]][0].remote == "sold" and found[ids[3]][0].fixes == ["push_local", "accept_remote"]


def test_causes_come_from_queued_jobs_and_failed_pushes(database: Database) -> None:
    with database.session() as session:
        create_account(session, "reverb")
        queued = create_product(session, base_price=Decimal("1000.00"))
        queued_listing = list_on(session, queued, ["reverb"], remote_price=Decimal("900.00"))["reverb"]
        push.enqueue_update(session, queued_listing, {"price"})
        failed = create_product(session, base_price=Decimal("1000.00"))
        failed_listing = list_on(session, failed, ["reverb"], remote_price=Decimal("900.00"))["reverb"]
        failed_listing.last_error = "HTTP 422: price too high"
        ids = (queued_listing.id, failed_listing.id)
    found = _by_listing(_report(database))
    assert found[ids[0]][0].cause == "a price update is queued for this listing"
    assert found[ids[1]][0].cause == "the last push failed: HTTP 422: price too high"


def test_the_report_is_current_after_a_fix_and_a_catalog_change(database: Database) -> None:
    with database.session() as session:
        product = create_product(session, base_price=Decimal("1000.00"))
        listing = list_on(session, product, ["reverb"], remote_price=Decimal("900.00"))["reverb"]
        other = create_product(session, base_price=Decimal("500.00"))
        other_listing = list_on(session, other, ["reverb"])["reverb"]
        listing_id, other_id, other_product_id = listing.id, other_listing.id, other.id
    assert [m.listing_id for m in _report(database).mismatches] == [listing_id]
    with database.session() as session:
        reconcile.fix(session, listing_id, "accept_remote", actor="tests")
    assert _report(database).total == 0
    with database.session() as session, pytest.raises(Conflict):
        reconcile.fix(session, listing_id, "accept_remote", actor="tests")
    with database.session() as session:
        session.execute(
            sa.update(Product).where(Product.id == other_product_id).values(base_price=Decimal("550"))
        )
    assert [(m.listing_id, m.local) for m in _report(database).mismatches] == [(other_id, Decimal("550.00"))]


def test_leave_it_ended_takes_the_listing_off_the_report(database: Database) -> None:
    with database.session() as session:
        product = create_product(session)
        listing = list_on(session, product, ["reverb"], state=ListingState.ENDED, extras={"note": 1})[
            "reverb"
        ]
        listing_id = listing.id
    assert _report(database).counts["state"] == 1
    with database.session() as session:
        reconcile.fix(session, listing_id, "accept_remote", actor="tests")
    report = _report(database)
    assert report.total == 0 and report.listings == 1


# -- counts, limit and pages -------------------------------------------------------------------------


def _stocked_drift(session: Session, count: int) -> list[int]:
    """``count`` stocked items whose reverb listing differs in price and quantity (two mismatches each)."""
    ids = []
    for _ in range(count):
        product = create_product(session, base_price=Decimal("100.00"), quantity=2, is_stocked_item=True)
        listing = list_on(session, product, ["reverb"], remote_price=Decimal("90.00"), remote_quantity=1)
        ids.append(listing["reverb"].id)
    return ids


def test_the_counts_cover_every_mismatch_beyond_the_limit(database: Database) -> None:
    with database.session() as session:
        ids = _stocked_drift(session, 5)
    report = _report(database, limit=3)
    assert report.counts == {"price": 5, "quantity": 5, "state": 0} and report.total == 10
    assert [(m.listing_id, m.field) for m in report.mismatches] == [
        (ids[0], "price"),
        (ids[0], "quantity"),
        (ids[1], "price"),
    ]
    assert (
        report.truncated and report.next_after == ids[0]
    )  # listing 2 is split: the next page shows it whole
    summary = _report(database, limit=0)
    assert summary.mismatches == [] and summary.truncated and summary.total == 10


def test_walking_the_pages_shows_every_mismatch_once_in_order(database: Database) -> None:
    with database.session() as session:
        _stocked_drift(session, 4)
        for _ in range(3):
            sold = create_product(session, quantity=0, status=ProductStatus.SOLD)
            list_on(session, sold, ["reverb"])
        _stocked_drift(session, 2)
    with database.read_session() as session:
        everything = [_key(m) for m in reconcile.channel_report(session, "reverb", limit=1000).mismatches]
    assert len(everything) == 15
    seen: list[tuple[Any, ...]] = []
    after, pages = 0, 0
    while True:
        page = _report(database, limit=4, after=after)
        pages += 1
        assert page.total == 15
        assert page.before == sum(1 for key in everything if key[0] <= after)  # the range shown is right
        for key in (_key(m) for m in page.mismatches):
            if key not in seen:
                seen.append(key)
        if page.next_after is None:
            assert not page.truncated
            break
        assert page.truncated and page.next_after > after
        after = page.next_after
    assert seen == everything and pages >= 4


def test_report_covers_every_channel_with_an_account(database: Database) -> None:
    with database.session() as session:
        create_account(session, "reverb")
        create_account(session, "ebay")
        product = create_product(session, base_price=Decimal("100.00"))
        list_on(session, product, ["reverb", "ebay"], remote_price=Decimal("90.00"))
    with database.read_session() as session:
        reports = reconcile.report(session)
    assert [(r.channel, r.total) for r in reports] == [("ebay", 1), ("reverb", 1)]


# -- the database's comparison is the Python rules, exactly --------------------------------------------

RULES = {  # channel -> (markup %, endings): each exercises another branch of the price arithmetic
    "reverb": (Decimal("10"), "49,99"),
    "ebay": (Decimal("12.5"), ""),
    "shopify": (None, None),  # no rule at all
    "vintage_and_rare": (Decimal("-33.33"), "00,95"),
    "discogs": (Decimal("0"), "0,50"),
}
TRICKY_PRICES = ["0.00", "0.01", "0.99", "1.00", "99.99", "100.00", "1199.99", "1249.00", "1249.01", "1299.50",
                 "1349.99", "1999.95", "2000.05", "12.345", "0.005", "99999999.99"]  # fmt: skip


def _seed_random_shop(session: Session, rng: random.Random, products: int) -> None:
    for channel, (markup, endings) in RULES.items():
        if markup is not None:
            session.add(ChannelPriceRule(channel=channel, markup_percent=markup, price_endings=endings))
    session.flush()
    rules = {r.channel: r for r in session.execute(sa.select(ChannelPriceRule)).scalars()}
    for index in range(products):
        base = Decimal(
            rng.choice(TRICKY_PRICES) if rng.random() < 0.3 else f"{rng.randint(0, 500_000) / 100:.2f}"
        )
        product = Product(
            sku=f"RIFF-R{index:05d}", title=f"Random {index}", base_price=base.quantize(Decimal("0.01")),
            currency="GBP", quantity=rng.choice([0, 0, 1, 1, 1, 2, 7]), is_stocked_item=rng.random() < 0.4,
            status=rng.choice([ProductStatus.ACTIVE] * 5 + list(ProductStatus)), attributes={},
        )  # fmt: skip
        session.add(product)
        session.flush()
        for channel in RULES:
            if rng.random() < 0.2:
                continue
            override = Decimal(f"{rng.randint(0, 300_000) / 100:.2f}") if rng.random() < 0.2 else None
            expected = effective_price(product.base_price, rules.get(channel), override)
            remote_price = rng.choice(
                [None, expected, expected, expected, expected + Decimal("0.01"), expected - Decimal("0.01"),
                 expected + 100, Decimal(f"{rng.randint(0, 300_000) / 100:.2f}")]
            )  # fmt: skip
            session.add(
                Listing(
                    product_id=product.id, channel=channel,
                    remote_id=None if rng.random() < 0.05 else f"{channel}-{product.id}",
                    state=rng.choice([ListingState.LIVE] * 4 + list(ListingState)), price_override=override, remote_price=remote_price,
                    remote_quantity=rng.choice([None, product.quantity, product.quantity, 0, 3]),
                    last_error=rng.choice([None, None, "HTTP 503"]),
                    extras=rng.choice([{}, {}, {ACK_ENDED: True}, {ACK_ENDED: False}, {"other": True}]),
                )
            )  # fmt: skip
    session.flush()


@pytest.mark.parametrize("seed", [1, 2])
def test_the_database_flags_exactly_the_listings_the_python_rules_flag(database: Database, seed: int) -> None:
    with database.session() as session:
        _seed_random_shop(session, random.Random(seed), products=150)
    kinds: dict[str, int] = {"price": 0, "quantity": 0, "state": 0}
    with database.read_session() as session:
        for channel in RULES:
            listings, live, expected = _scan(session, channel)
            report = reconcile.channel_report(session, channel, limit=100_000)
            assert (report.listings, report.live) == (listings, live), channel
            assert [_key(m) for m in report.mismatches] == [_key(m) for m in expected], channel
            assert [m.fixes for m in report.mismatches] == [m.fixes for m in expected], channel
            for mismatch in expected:
                kinds[mismatch.field] += 1
            assert report.counts == {f: sum(m.field == f for m in expected) for f in kinds}, channel
            assert not report.truncated and report.next_after is None
    assert all(count > 5 for count in kinds.values()), kinds  # the shop has drift of every kind


def test_the_database_price_is_the_effective_price_to_the_cent(database: Database) -> None:
    """Every listing priced exactly as ``effective_price`` says is in sync; one cent off never is."""
    rng = random.Random(3)
    with database.session() as session:
        _seed_random_shop(session, rng, products=0)
        rules = {r.channel: r for r in session.execute(sa.select(ChannelPriceRule)).scalars()}
        for index in range(120):
            base = Decimal(
                TRICKY_PRICES[index % len(TRICKY_PRICES)]
                if index < 48
                else f"{rng.randint(0, 10**7) / 100:.2f}"
            )
            product = Product(
                sku=f"RIFF-C{index:05d}", title="Cents", base_price=base.quantize(Decimal("0.01")), currency="GBP",
                quantity=1, status=ProductStatus.ACTIVE, attributes={},
            )  # fmt: skip
            session.add(product)
            session.flush()
            for channel in RULES:
                price = effective_price(product.base_price, rules.get(channel), None)
                off = Decimal("0.01") if index % 3 == 0 else Decimal(0)
                session.add(
                    Listing(product_id=product.id, channel=channel, remote_id=f"{channel}-{index}",
                            state=ListingState.LIVE, remote_price=price + off, extras={})
                )  # fmt: skip
    with database.read_session() as session:
        for channel in RULES:
            repository = ReconcileRepository(session)
            flagged = repository.flagged(
                channel,
                repository.predicates(SyncRepository(session).price_rule(channel), holds_quantity=True),
            )
            assert [int(f.remote_id.rsplit("-", 1)[1]) for f in flagged] == list(range(0, 120, 3)), channel
