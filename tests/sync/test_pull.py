"""Pull and diff: changes made on a channel are classified, decided by the field's owner (or the newer
change), audited as sync_events and revertible; unknown listings are offered for matching once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from riff.catalog.models import Product
from riff.channels.contract import RemoteState
from riff.channels.models import Listing, ListingState
from riff.core.clock import FrozenClock, utcnow
from riff.core.db import Database
from riff.sync import service
from riff.sync.config import SyncSettings
from riff.sync.consts import EventKind
from riff.sync.models import UnmatchedListing
from riff.sync.pull import REMOTE_TITLE_KEY, Differ

from .conftest import by_channel, events, jobs
from .factories import create_product, list_on, remote_listing

LATER = dt.timedelta(minutes=5)


def _listing(database: Database, listing_id: int) -> Listing:
    with database.read_session() as session:
        listing = session.get(Listing, listing_id)
        assert listing is not None
        session.expunge(listing)
        return listing


def _setup(
    database: Database, channels: tuple[str, ...] = ("reverb", "ebay"), **product: object
) -> tuple[int, dict[str, Listing]]:
    with database.session() as session:
        created = create_product(session, **product)  # type: ignore[arg-type]
        listings = list_on(session, created, channels, extras={REMOTE_TITLE_KEY: created.title})
        for listing in listings.values():
            session.expunge(listing)
        return created.id, listings


def _pull(database: Database, *remotes: object, full: bool = False, **settings: object) -> Differ:
    differ = Differ(database, "reverb", full=full, settings=SyncSettings(_env_file=None, **settings))  # type: ignore[call-arg,arg-type]
    differ.feed(remotes)  # type: ignore[arg-type]
    differ.finish()
    return differ


class TestPrice:
    def test_riff_owns_the_price_by_default_so_a_channel_edit_is_pushed_back(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        _, listings = _setup(database)
        reverb = listings["reverb"]
        frozen_clock.advance(minutes=10)
        stats = _pull(
            database, remote_listing(reverb.remote_id or "", price=Decimal("9999.00"), updated_at=utcnow())
        ).stats
        assert stats.decided == 1 and stats.decisions == {"remote_price:pushed_local": 1}
        (update,) = jobs(database)
        assert update.kind == "reverb.update" and update.payload == {"changed_fields": ["price"]}
        assert _listing(database, reverb.id).remote_price == Decimal("9999.00")
        (event,) = events(database, EventKind.REMOTE_PRICE)
        assert event.outcome == "pushed_local"
        assert event.before == {"price_override": None, "remote_price": "12500.00", "price": "12500.00"}

    def test_with_newest_wins_a_later_channel_price_is_kept_and_revertible(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        _, listings = _setup(database)
        reverb = listings["reverb"]
        frozen_clock.advance(minutes=10)
        _pull(database, remote_listing(reverb.remote_id or "", price=Decimal("9999.00"), updated_at=utcnow()),
              field_owners={"price": "newest"})  # fmt: skip
        assert jobs(database) == []
        assert _listing(database, reverb.id).price_override == Decimal("9999.00")
        (event,) = events(database, EventKind.REMOTE_PRICE)
        assert event.outcome == "accepted_remote"
        with database.session() as session:
            revert = service.revert_event(session, event.id, actor="tester")
        assert revert.kind == "revert" and revert.after["reverted_event_id"] == event.id  # type: ignore[index]
        assert _listing(database, reverb.id).price_override is None
        assert [j.kind for j in jobs(database)] == ["reverb.update"]
        assert events(database, EventKind.REMOTE_PRICE)[0].outcome == "reverted"

    def test_a_channel_that_rounds_is_not_pushed_back_twice(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        _, listings = _setup(database)
        reverb = listings["reverb"]
        rounded = remote_listing(
            reverb.remote_id or "", price=Decimal("12499.00"), updated_at=utcnow() - LATER
        )
        assert _pull(database, rounded).stats.decisions == {"remote_price:pushed_local": 1}
        with database.session() as session:  # the update job ran: RIFF's price is what it last pushed
            session.get(Listing, reverb.id).remote_price = Decimal("12500.00")  # type: ignore[union-attr]
        stats = _pull(database, rounded).stats
        assert stats.decided == 1 and stats.decisions == {}
        assert len(jobs(database)) == 1 and len(events(database, EventKind.REMOTE_PRICE)) == 1
        assert _listing(database, reverb.id).remote_price == Decimal("12499.00")
        assert _pull(database, rounded).stats.decided == 0  # stable from now on

    def test_newest_cannot_pick_a_remote_time_older_than_riffs_push(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        _, listings = _setup(database)
        reverb = listings["reverb"]
        frozen_clock.advance(minutes=10)
        _pull(database, remote_listing(reverb.remote_id or "", price=Decimal("9999.00"), updated_at=utcnow() - LATER * 3),
              field_owners={"price": "newest"})  # fmt: skip
        assert events(database, EventKind.REMOTE_PRICE)[0].outcome == "pushed_local"


class TestTitle:
    def test_the_newer_title_wins_and_goes_to_the_other_channels(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        product_id, listings = _setup(database)
        frozen_clock.advance(minutes=10)
        new_title = "Fender Stratocaster 1965 Sunburst, refret"
        _pull(
            database, remote_listing(listings["reverb"].remote_id or "", title=new_title, updated_at=utcnow())
        )
        with database.read_session() as session:
            assert session.get(Product, product_id).title == new_title  # type: ignore[union-attr]
        queued = by_channel(jobs(database))
        assert list(queued) == ["ebay"] and queued["ebay"].payload == {"changed_fields": ["title"]}
        assert events(database, EventKind.REMOTE_TITLE)[0].outcome == "accepted_remote"
        assert _listing(database, listings["reverb"].id).extras[REMOTE_TITLE_KEY] == new_title


class TestState:
    def test_ended_on_the_channel_is_taken_and_live_again_while_sold_is_ended(
        self, database: Database
    ) -> None:
        _, listings = _setup(database)
        sold_id, sold_listings = _setup(database, quantity=0)
        with database.session() as session:
            session.get(Listing, sold_listings["reverb"].id).state = ListingState.SOLD  # type: ignore[union-attr]
        _pull(
            database,
            remote_listing(listings["reverb"].remote_id or "", state=RemoteState.ENDED),
            remote_listing(sold_listings["reverb"].remote_id or "", state=RemoteState.LIVE),
        )
        assert _listing(database, listings["reverb"].id).state == ListingState.ENDED
        assert events(database, EventKind.REMOTE_ENDED)[0].outcome == "accepted_remote"
        (end,) = jobs(database)
        assert end.kind == "reverb.end" and end.listing_id == sold_listings["reverb"].id and end.priority == 0

    def test_a_full_pull_marks_listings_gone_from_the_channel(self, database: Database) -> None:
        _, first = _setup(database)
        _, second = _setup(database)
        stats = _pull(database, remote_listing(first["reverb"].remote_id or ""), full=True).stats
        assert stats.missing == 1
        assert _listing(database, second["reverb"].id).state == ListingState.ENDED
        assert _listing(database, first["reverb"].id).state == ListingState.LIVE

    def test_an_answer_missing_most_listings_is_not_trusted(self, database: Database) -> None:
        kept = [_setup(database)[1]["reverb"] for _ in range(12)]
        stats = _pull(database, full=True).stats
        assert stats.missing == 0 and "not marking" in (stats.note or "")
        assert all(_listing(database, listing.id).state == ListingState.LIVE for listing in kept)


class TestUnknown:
    def test_unknown_live_listings_are_offered_once_with_candidates(self, database: Database) -> None:
        product_id, _ = _setup(database, channels=("ebay",), sku="RIFF-MATCH-1")
        remote = remote_listing("rv-999", sku="riff-match-1", raw={"make": "Fender"})
        assert _pull(database, remote).stats.unknown_new == 1
        assert _pull(database, remote).stats.unknown_new == 0
        with database.read_session() as session:
            (row,) = session.scalars(sa.select(UnmatchedListing))
            assert row.best_product_id == product_id and row.candidates[0]["reasons"] == [
                "same SKU RIFF-MATCH-1"
            ]
            row_id = row.id
        with database.session() as session:
            service.resolve_unmatched(session, row_id, "match", actor="tester")
        with database.read_session() as session:
            linked = session.scalars(sa.select(Listing).where(Listing.remote_id == "rv-999")).one()
            assert linked.product_id == product_id and linked.channel == "reverb"
        stats = _pull(database, remote).stats  # now a known listing
        assert stats.unknown == 0 and stats.known == 1

    def test_an_ignored_listing_never_comes_back(self, database: Database) -> None:
        remote = remote_listing("rv-1000", title="Someone else's banjo")
        _pull(database, remote)
        with database.read_session() as session:
            row_id = session.scalars(sa.select(UnmatchedListing.id)).one()
        with database.session() as session:
            service.resolve_unmatched(session, row_id, "ignore", actor="tester")
        assert _pull(database, remote).stats.unknown_new == 0
        with database.read_session() as session:
            assert session.scalars(sa.select(UnmatchedListing.status)).all() == ["ignored"]
