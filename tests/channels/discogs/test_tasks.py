"""Discogs jobs end to end: service/API -> job -> worker -> sandbox over HTTP -> database (both backends)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.catalog.models import Product, ProductStatus
from riff.channels import service
from riff.channels.models import AccountStatus, ChannelAccount, Listing, ListingState
from riff.core.db import Database
from riff.core.security import load_secret_key
from riff.core.settings import Settings
from riff.jobs import enqueue
from riff.records import service as records
from riff.records.models import Record
from riff.records.schemas import RecordCreate
from riff.sync.models import SyncEvent
from riff_sandbox.runner import RunningSandbox

from ..helpers import publish_through_api, read_jobs
from .conftest import SMALL_SEED_SIZE, create_discogs_account


@pytest.fixture
def small_account_id(database: Database, settings: Settings, small_sandbox: RunningSandbox) -> int:
    with database.session() as session:
        return create_discogs_account(
            session,
            load_secret_key(settings),
            base_url=small_sandbox.api_base_url,
            token=small_sandbox.token or "",
            config={"release_lookups_per_run": 5},
        ).id


def test_pull_listings_syncs_then_enriches_releases(
    database: Database, small_sandbox: RunningSandbox, small_account_id: int, worker: Any
) -> None:
    with database.session() as session:
        service.request_pull_listings(session, "discogs")
    assert worker.process_available() == 2  # the sync, then the release look-ups it enqueued
    sync_job = read_jobs(database, "discogs.pull_listings")[0]
    assert sync_job.status == "completed"
    with database.read_session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Record)) == SMALL_SEED_SIZE
        accounts = {listing.account_id for listing in session.scalars(sa.select(Listing))}
    assert accounts == {small_account_id}
    enrich = read_jobs(database, "discogs.enrich_releases")[0]
    assert enrich.status == "completed"
    assert len(small_sandbox.control.requests(path_prefix="/releases/")) == 5
    with database.read_session() as session:
        enriched = session.scalars(sa.select(Record).where(Record.release_checked_at.is_not(None))).all()
        assert enriched and all(r.genres and r.labels for r in enriched)


def test_fetch_orders_feeds_the_sale_path(
    database: Database, small_sandbox: RunningSandbox, small_account_id: int, worker: Any
) -> None:
    with database.session() as session:
        service.request_pull_listings(session, "discogs")
    worker.process_available()
    with database.read_session() as session:
        listing = session.scalars(sa.select(Listing).order_by(Listing.id)).first()
        assert listing is not None and listing.remote_id
        remote_id, product_id = listing.remote_id, listing.product_id
    bought = small_sandbox.control.purchase(remote_id)

    with database.session() as session:
        service.request_fetch_orders(session, "discogs")
    worker.process_available()
    with database.session() as session:  # polled twice: the same order state is recorded once
        service.request_fetch_orders(session, "discogs")
    worker.process_available()

    with database.read_session() as session:
        events = session.scalars(sa.select(SyncEvent).where(SyncEvent.kind == "order_event")).all()
        mine = [
            (e.product_id, e.channel, e.after)
            for e in events
            if (e.after or {}).get("remote_id") == bought["order"]["id"]
        ]
        product = session.get(Product, product_id)
        assert product is not None
        stock = (product.quantity, product.status)
    assert len(mine) == 1
    event_product, event_channel, after = mine[0]
    assert (event_product, event_channel, after["status"]) == (product_id, "discogs", "paid")
    assert stock == (0, ProductStatus.SOLD)  # the sale path took the stock once


def test_publish_a_record_through_the_api(
    owner_client: TestClient,
    database: Database,
    small_sandbox: RunningSandbox,
    small_account_id: int,
    worker: Any,
) -> None:
    with database.session() as session:
        product = records.create_record(
            session,
            RecordCreate(
                sku="REC-NEW-1",
                price=Decimal("35.00"),
                currency="USD",
                status=ProductStatus.ACTIVE,
                release_id=1900021,
                artist="Neu Horizon",
                title="Neu Horizon '75",
                media_condition="VG+",
                sleeve_condition="VG",
            ),
            actor="test",
        )
        product_id = product.id

    publish_through_api(owner_client, worker, product_id, "discogs")

    with database.read_session() as session:
        listing = session.scalars(sa.select(Listing).where(Listing.product_id == product_id)).one()
        published = (listing.state, listing.remote_id, listing.last_error)
    assert published[0] == ListingState.LIVE and published[1] and published[2] is None
    created = small_sandbox.control.requests(path_prefix="/marketplace/listings", method="POST")
    assert [c["body"] for c in created] == [
        {
            "release_id": 1900021,
            "condition": "Very Good Plus (VG+)",
            "price": 35.0,
            "status": "For Sale",
            "comments": "",
            "allow_offers": False,
            "external_id": "REC-NEW-1",
            "weight": "auto",
            "format_quantity": "auto",
            "sleeve_condition": "Very Good (VG)",
        }
    ]

    # The next sync knows the listing as RIFF's own: it adds the shop's other listings, not this one again.
    with database.session() as session:
        service.request_pull_listings(session, "discogs")
    worker.process_available()
    result = read_jobs(database, "discogs.pull_listings")[0].result or {}
    assert (result["added"], result["linked"], result["seen"]) == (SMALL_SEED_SIZE, 0, SMALL_SEED_SIZE + 1)
    with database.read_session() as session:
        mine = session.scalars(sa.select(Listing).where(Listing.product_id == product_id)).all()
        assert [(m.remote_id, (m.extras or {}).get("origin")) for m in mine] == [(published[1], "riff")]


def test_a_revoked_token_marks_the_account(
    database: Database, small_sandbox: RunningSandbox, small_account_id: int, worker: Any
) -> None:
    small_sandbox.control.faults(token_expired=True)
    with database.session() as session:
        enqueue(session, "discogs.pull_listings", channel="discogs", payload={"mode": "full"})
    worker.process_available()

    job = read_jobs(database, "discogs.pull_listings")[0]
    assert job.status == "failed" and job.attempts == 1
    with database.read_session() as session:
        account = session.get(ChannelAccount, small_account_id)
        assert account is not None
        assert account.status == AccountStatus.NEEDS_ATTENTION
        assert "You must authenticate" in (account.status_message or "")
