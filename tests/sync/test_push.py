"""Push on change: a product change enqueues one coalesced job per affected listing, in the same
transaction, with only the fields that changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from riff.catalog import service as catalog
from riff.catalog.models import MovementReason, ProductStatus
from riff.catalog.schemas import ProductUpdate
from riff.channels import service as channels
from riff.channels.models import Listing, ListingState
from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.jobs.consts import Priority
from riff.jobs.models import Job
from riff.sync import push
from riff.sync.consts import ENDED_FOR_STOCK

from .conftest import by_channel, jobs
from .factories import create_account, create_product, list_on


def _edit(database: Database, product_id: int, **changes: object) -> list[str]:
    with database.session() as session:
        product = catalog.get_product_for_update(session, product_id)
        return catalog.update_product(
            session, product, ProductUpdate(version=product.version, **changes), actor="tester"
        )


class TestUpdates:
    def test_a_price_change_is_one_update_per_live_listing_with_only_the_price(
        self, database: Database
    ) -> None:
        with database.session() as session:
            product = create_product(session)
            list_on(session, product)
            ended = list_on(session, create_product(session), ["reverb"], state=ListingState.ENDED)
            product_id = product.id
        assert _edit(database, product_id, price=Decimal("11000.00")) == ["price"]
        updates = jobs(database, status="queued")
        assert sorted(by_channel(updates)) == ["ebay", "reverb", "shopify"]
        assert all(job.kind == f"{job.channel}.update" for job in updates)
        assert all(job.payload == {"changed_fields": ["price"]} for job in updates)
        assert all(job.priority == Priority.HIGH for job in updates)
        assert ended["reverb"].id not in {job.listing_id for job in updates}

    def test_later_edits_coalesce_into_the_queued_job_as_a_union_of_fields(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session)
            listings = list_on(session, product, ["reverb", "ebay"])
            product_id = product.id
        _edit(database, product_id, price=Decimal("11000.00"))
        _edit(database, product_id, title="Fender Stratocaster 1965 Three-tone Sunburst")
        with database.session() as session:  # the image endpoints' path
            listing = session.get(Listing, listings["reverb"].id)
            assert listing is not None
            channels.update_listing(session, listing, {"images"})
        queued = by_channel(jobs(database))
        assert len(jobs(database)) == 2
        assert queued["reverb"].payload["changed_fields"] == ["images", "price", "title"]
        assert queued["ebay"].payload["changed_fields"] == ["price", "title"]

    def test_a_started_job_absorbs_nothing_so_the_next_change_queues_its_own(
        self, database: Database
    ) -> None:
        with database.session() as session:
            product = create_product(session)
            list_on(session, product, ["reverb"])
            product_id = product.id
        _edit(database, product_id, price=Decimal("11000.00"))
        with database.session() as session:
            first = jobs(database)[0]
            stored = session.get(Job, first.id)
            assert stored is not None
            stored.status = "in_progress"
        _edit(database, product_id, description="Now with its original case.")
        queued = jobs(database)
        assert len(queued) == 1 and queued[0].payload == {"changed_fields": ["description"]}

    def test_fields_a_channel_cannot_take_are_left_out(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session)
            list_on(session, product, ["reverb"])
            product_id = product.id
        assert _edit(database, product_id, notes="bought at auction", cost=Decimal("9000")) == [
            "cost",
            "notes",
        ]
        assert jobs(database) == []


class TestEnding:
    def test_selling_out_ends_every_live_listing_at_top_priority(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session)
            list_on(session, product)
            product_id = product.id
        _edit(database, product_id, quantity=0)
        ends = jobs(database)
        assert sorted(job.kind for job in ends) == ["ebay.end", "reverb.end", "shopify.end"]
        assert all(job.priority == Priority.URGENT for job in ends)
        assert all(job.payload == {"reason": "sold_elsewhere"} for job in ends)

    def test_archiving_ends_with_not_sold(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session)
            list_on(session, product, ["reverb"])
            catalog.archive_product(session, product, actor="tester")
        (end,) = jobs(database)
        assert end.kind == "reverb.end" and end.payload == {"reason": "not_sold"}

    def test_a_listing_not_on_the_channel_yet_is_stopped_without_a_call(self, database: Database) -> None:
        with database.session() as session:
            product = create_product(session)
            create_account(session, "reverb")
            listing = list_on(session, product, ["reverb"], state=ListingState.PENDING)["reverb"]
            listing.remote_id = None
            from riff.jobs import enqueue

            enqueue(session, "reverb.publish", channel="reverb", listing_id=listing.id,
                    coalesce_key=f"reverb.publish:{listing.id}")  # fmt: skip
            product_id, listing_id = product.id, listing.id
        _edit(database, product_id, status=ProductStatus.ARCHIVED)
        assert jobs(database) == []
        assert [j.kind for j in jobs(database, status="cancelled")] == ["reverb.publish"]
        with database.read_session() as session:
            stored = session.get(Listing, listing_id)
            assert stored is not None and stored.state == ListingState.ENDED


class TestStockedItems:
    def test_quantity_goes_to_quantity_channels_and_single_unit_listings_come_back(
        self, database: Database
    ) -> None:
        with database.session() as session:
            product = create_product(session, quantity=3, is_stocked_item=True)
            create_account(session, "vintage_and_rare", maintenance_window=None)
            list_on(session, product, ["reverb", "ebay"])
            vr = list_on(session, product, ["vintage_and_rare"], state=ListingState.ENDED,
                         extras={ENDED_FOR_STOCK: True})["vintage_and_rare"]  # fmt: skip
            product_id, vr_id = product.id, vr.id
        with database.session() as session:
            product = catalog.get_product_for_update(session, product_id)
            catalog.adjust_stock(session, product, 2, MovementReason.ADJUSTMENT, "tester")
        queued = jobs(database)
        assert sorted((j.kind, tuple(j.payload.get("changed_fields", ()))) for j in queued) == [
            ("ebay.update", ("quantity",)),
            ("reverb.update", ("quantity",)),
            ("vintage_and_rare.publish", ()),
        ]
        assert next(j for j in queued if j.kind == "vintage_and_rare.publish").listing_id == vr_id


class TestMaintenanceWindows:
    def test_jobs_due_inside_a_window_wait_for_its_end(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        frozen_clock.now = dt.datetime(2026, 1, 1, 3, 30, tzinfo=dt.UTC)
        with database.session() as session:
            # No maintenance_window key: the adapter's 03:00-05:00.
            create_account(session, "vintage_and_rare")
            product = create_product(session)
            list_on(session, product, ["vintage_and_rare", "reverb"])
            product_id = product.id
        _edit(database, product_id, price=Decimal("9999.00"))
        queued = by_channel(jobs(database))
        assert queued["vintage_and_rare"].run_after == dt.datetime(2026, 1, 1, 5, 0, tzinfo=dt.UTC)
        assert queued["reverb"].run_after == frozen_clock.now

    def test_windows_are_data_per_channel(self, database: Database, frozen_clock: FrozenClock) -> None:
        frozen_clock.now = dt.datetime(2026, 1, 1, 23, 50, tzinfo=dt.UTC)
        with database.session() as session:
            create_account(session, "ebay", maintenance_window="23:45-00:15")
            assert push.run_after_for(session, "ebay", None) == dt.datetime(2026, 1, 2, 0, 15, tzinfo=dt.UTC)
            assert push.run_after_for(session, "shopify", None) is None
