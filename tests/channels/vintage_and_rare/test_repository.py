"""The V&R channel's own SQL (both databases)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from riff.channels.models import Listing, ListingState
from riff.channels.vintage_and_rare import repository
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.jobs import enqueue
from riff.jobs.models import Job

from .factories import create_product

PUBLISH = "vintage_and_rare.publish"


def _job(database: Database, *, status: str = "queued", kind: str = PUBLISH, run_in: float = 0.0) -> None:
    with database.session() as session:
        job = enqueue(session, kind, channel="vintage_and_rare", payload={})
        assert job is not None
        values: dict[str, object] = {"status": status, "run_after": utcnow() + dt.timedelta(seconds=run_in)}
        session.execute(sa.update(Job).where(Job.id == job.id).values(**values))


class TestPublishQueue:
    def test_counts_pending_creates_and_creates_that_could_run_now(self, database: Database) -> None:
        _job(database)  # runnable
        _job(database)  # runnable
        _job(database, run_in=600)  # backing off: does not count as waiting
        _job(database, status="completed_pending_id")
        _job(database, status="in_progress")  # the create running now is neither
        _job(database, status="completed")
        _job(database, kind="vintage_and_rare.resolve_ids")  # another kind
        with database.read_session() as session:
            assert repository.publish_queue(session, PUBLISH, utcnow()) == (1, 2)

    def test_an_empty_queue(self, database: Database) -> None:
        with database.read_session() as session:
            assert repository.publish_queue(session, PUBLISH, utcnow()) == (0, 0)


class TestListingAccounts:
    def test_account_of_each_existing_listing_in_one_query(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session)
            listing = Listing(product_id=product.id, channel="vintage_and_rare", state=ListingState.PENDING)
            session.add(listing)
            session.flush()
            listing_id = listing.id
        with database.read_session() as session:
            assert repository.listing_accounts(session, [listing_id, listing_id + 1000]) == {listing_id: None}
            assert repository.listing_accounts(session, []) == {}
