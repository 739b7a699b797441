"""The inventory sync over HTTP against a 538-listing sandbox inventory, into both databases."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from riff.catalog.models import Product, ProductStatus
from riff.channels.discogs import inventory
from riff.channels.discogs.inventory import SyncStats
from riff.channels.errors import AuthExpired
from riff.channels.models import Listing, ListingState
from riff.core.db import Database
from riff.records.models import Record
from riff.sync.models import SyncEvent
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

from .conftest import INVENTORY, SEED_SIZE, SMALL_SEED_SIZE, make_channel


def sync(database: Database, sandbox: RunningSandbox, mode: str = "full", **config: object) -> SyncStats:
    async def run() -> SyncStats:
        async with make_channel(sandbox, **config) as channel:
            return await inventory.sync_inventory(database, channel, account_id=None, mode=mode)

    return asyncio.run(run())


def inventory_requests(sandbox: RunningSandbox) -> list[dict[str, object]]:
    return sandbox.control.requests(path_prefix=INVENTORY)


def listing(database: Database, remote_id: str) -> tuple[Listing, Product, Record | None]:
    with database.read_session() as session:
        row = session.scalars(sa.select(Listing).where(Listing.remote_id == remote_id)).one()
        product = row.product
        record = session.get(Record, product.id)
        session.expunge_all()
        return row, product, record


def count(database: Database, model: type, *where: sa.ColumnElement[bool]) -> int:
    with database.read_session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def newest_first(sandbox: RunningSandbox, n: int = 3) -> list[dict[str, object]]:
    import httpx

    with httpx.Client(
        base_url=sandbox.api_base_url,
        headers={"User-Agent": "T/1", "Authorization": f"Discogs token={sandbox.token}"},
        trust_env=False,
    ) as http:
        listings: list[dict[str, object]] = http.get(INVENTORY, params={"per_page": 100, "page": 2}).json()[
            "listings"
        ]
    return listings[:n]


class TestFullSync:
    def test_538_listings_in_6_pages(self, database: Database, sandbox: RunningSandbox) -> None:
        stats = sync(database, sandbox)

        assert (stats.pages, stats.requests, stats.added, stats.rate_limited) == (6, 6, SEED_SIZE, 0)
        requests = inventory_requests(sandbox)
        assert len(requests) == 6 and all(r["status"] == 200 for r in requests)
        assert all(
            "per_page=100" in str(r["query"]) and "status=For+Sale" in str(r["query"]) for r in requests
        )
        assert count(database, Product, Product.status == ProductStatus.ACTIVE) == SEED_SIZE
        assert count(database, Record) == SEED_SIZE
        assert (
            count(database, Listing, Listing.channel == "discogs", Listing.state == ListingState.LIVE)
            == SEED_SIZE
        )
        row, product, record = listing(database, "150900003")
        assert record is not None and record.release_id and record.media_condition and record.artist
        assert product.title == f"{record.artist} - {record.title}"
        assert product.category is not None and product.category.slug == "records"
        assert row.remote_url and row.remote_url.endswith("/sell/item/150900003")
        assert (row.extras or {}).get("origin") == "discogs"

    def test_second_sync_finds_updates_additions_and_removals(
        self, database: Database, sandbox: RunningSandbox
    ) -> None:
        sync(database, sandbox)
        edited, sold, deleted = (str(item["id"]) for item in newest_first(sandbox))
        sandbox.control.edit_listing(edited, price=123.45, comments="Price drop")
        sandbox.control.purchase(sold)
        sandbox.control.edit_listing(deleted, status="Deleted")
        added = make_listing(sandbox)
        sandbox.control.clear_requests()

        stats = sync(database, sandbox)

        assert (stats.added, stats.updated, stats.removed) == (1, 1, 2)
        # 6 pages, then one look-up per listing that vanished (to tell sold from deleted)
        assert stats.requests == 8 and len(inventory_requests(sandbox)) == 6
        _, product, _ = listing(database, edited)
        assert (product.base_price, product.description) == (Decimal("123.45"), "Price drop")
        row, product, _ = listing(database, sold)
        assert (row.state, product.status, product.quantity) == (ListingState.SOLD, ProductStatus.SOLD, 0)
        row, product, _ = listing(database, deleted)
        assert (row.state, product.status) == (ListingState.ENDED, ProductStatus.ARCHIVED)
        row, product, record = listing(database, added)
        assert (
            row.state == ListingState.LIVE and product.status == ProductStatus.ACTIVE and record is not None
        )

        third = sync(database, sandbox)
        assert (third.added, third.updated, third.removed, third.unchanged) == (0, 0, 0, SEED_SIZE - 1)

    def test_a_relisted_listing_comes_back(self, database: Database, small_sandbox: RunningSandbox) -> None:
        sandbox = small_sandbox
        sync(database, sandbox)
        remote_id = str(newest_first(sandbox, 1)[0]["id"])
        sandbox.control.edit_listing(remote_id, status="Expired")
        sync(database, sandbox)
        assert listing(database, remote_id)[1].status == ProductStatus.DRAFT

        sandbox.control.edit_listing(remote_id, status="For Sale")
        stats = sync(database, sandbox)

        row, product, _ = listing(database, remote_id)
        assert stats.updated == 1
        assert (row.state, product.status, product.quantity) == (ListingState.LIVE, ProductStatus.ACTIVE, 1)


class TestIncrementalSync:
    def test_new_listings_cost_one_request(self, database: Database, small_sandbox: RunningSandbox) -> None:
        sandbox = small_sandbox
        sync(database, sandbox)
        added = make_listing(sandbox)
        sandbox.control.clear_requests()

        stats = sync(database, sandbox, mode="incremental")

        assert (stats.performed, stats.escalated, stats.requests, stats.added) == ("incremental", False, 1, 1)
        assert listing(database, added)[0].state == ListingState.LIVE

    def test_a_sale_makes_it_escalate_to_a_full_comparison(
        self, database: Database, small_sandbox: RunningSandbox
    ) -> None:
        sandbox = small_sandbox
        sync(database, sandbox)
        sold = str(newest_first(sandbox, 1)[0]["id"])
        sandbox.control.purchase(sold)

        stats = sync(database, sandbox, mode="incremental")

        assert (stats.performed, stats.escalated, stats.removed, stats.pages) == ("full", True, 1, 2)
        assert listing(database, sold)[1].status == ProductStatus.SOLD

    def test_auto_runs_full_first_then_incremental(
        self, database: Database, small_sandbox: RunningSandbox
    ) -> None:
        sandbox = small_sandbox
        first = sync(database, sandbox, mode="auto")
        second = sync(database, sandbox, mode="auto")
        forced = sync(database, sandbox, mode="auto", full_sync_interval_hours=0)

        assert (first.performed, second.performed, forced.performed) == ("full", "incremental", "full")
        assert (first.requests, second.requests) == (2, 1)
        with database.read_session() as session:
            kinds = list(session.scalars(sa.select(SyncEvent.kind).where(SyncEvent.channel == "discogs")))
        assert kinds == ["inventory_sync_full", "inventory_sync_incremental", "inventory_sync_full"]


class TestRateLimit:
    def test_a_429_mid_sync_is_waited_out_and_the_sync_completes(
        self, database: Database, sandbox: RunningSandbox
    ) -> None:
        sandbox.control.faults(rate_limit={"every_nth": 3}, path_prefix=INVENTORY)

        stats = sync(database, sandbox)

        assert stats.rate_limited == 2 and stats.added == SEED_SIZE and stats.pages == 6
        assert [r["status"] for r in inventory_requests(sandbox)].count(429) == 2
        assert count(database, Record) == SEED_SIZE

    def test_bad_token_is_a_clear_error_and_writes_nothing(
        self, database: Database, small_sandbox: RunningSandbox
    ) -> None:
        sandbox = small_sandbox

        async def run() -> None:
            channel = make_channel(sandbox)
            channel.client.http._client.headers["Authorization"] = "Discogs token=revoked"
            async with channel:
                await inventory.sync_inventory(database, channel, account_id=None, mode="full")

        with pytest.raises(AuthExpired, match="You must authenticate"):
            asyncio.run(run())
        assert count(database, Product) == 0


@pytest.fixture(scope="module")
def tight_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """One request per one-second window: the second page must wait for the first to leave the window."""
    path: Path = tmp_path_factory.mktemp("discogs-tight")
    with running(
        "discogs", path, seed_size=SMALL_SEED_SIZE, rate_limit=1, rate_limit_window_seconds=1.0
    ) as sandbox:
        yield sandbox


def test_pacing_by_the_headers_means_no_429(database: Database, tight_sandbox: RunningSandbox) -> None:
    tight_sandbox.control.reset()

    stats = sync(database, tight_sandbox)

    assert (stats.added, stats.rate_limited) == (SMALL_SEED_SIZE, 0)
    assert stats.waited_seconds > 0.5  # page 2 waited for page 1 to leave the window
    assert all(r["status"] == 200 for r in inventory_requests(tight_sandbox))


def make_listing(sandbox: RunningSandbox) -> str:
    import httpx

    with httpx.Client(
        base_url=sandbox.api_base_url,
        headers={"User-Agent": "Other/1.0", "Authorization": f"Discogs token={sandbox.token}"},
        trust_env=False,
    ) as http:
        body = {"release_id": 1900007, "condition": "Mint (M)", "price": 25, "status": "For Sale"}
        return str(http.post("/marketplace/listings", json=body).json()["listing_id"])


def test_listings_imported_from_the_export_are_known_to_the_sync(
    database: Database, small_sandbox: RunningSandbox
) -> None:
    import csv
    import io

    from riff.records import importer

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        "listing_id,artist,title,label,catno,format,release_id,status,price,listed,comments,media_condition,"
        "sleeve_condition,accept_offer,external_id,weight,format_quantity,location,quantity".split(",")
    )
    for item in newest_first(small_sandbox, 3):
        release: dict[str, object] = item["release"]  # type: ignore[assignment]
        price: dict[str, object] = item["price"]  # type: ignore[assignment]
        writer.writerow(
            [
                item["id"],
                release["artist"],
                release["title"],
                "",
                "",
                release["format"],
                release["id"],
                "For Sale",
            ]
            + [price["value"], "", "", item["condition"], "", "N", "", "", "", "", "1"]
        )
    with database.session() as session:
        report = importer.import_records(session, buffer.getvalue().encode(), actor="test", currency="USD")
    assert report.created == 3 and not report.errors

    stats = sync(database, small_sandbox)

    assert (stats.added, stats.updated) == (SMALL_SEED_SIZE - 3, 3)
    assert count(database, Product) == SMALL_SEED_SIZE
    assert count(database, Listing) == SMALL_SEED_SIZE
