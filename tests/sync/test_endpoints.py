"""The sync API: status, pull on demand, unmatched listings, reconciliation, revert, oversells."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi.testclient import TestClient

from riff.channels.models import Listing
from riff.core.clock import FrozenClock, utcnow
from riff.core.db import Database
from riff.sync import sales
from riff.sync.config import SyncSettings
from riff.sync.pull import REMOTE_TITLE_KEY, Differ

from .conftest import jobs
from .factories import create_account, create_product, list_on, remote_listing, remote_order


def test_status_shows_each_channel_and_the_sale_latency(owner_client: TestClient, database: Database) -> None:
    with database.session() as session:
        create_account(session, "reverb")
        create_account(session, "ebay")
        product = create_product(session)
        listings = list_on(session, product, ["reverb", "ebay"])
        sales.process_remote_order(
            session, "reverb", remote_order("R-1", listing=listings["reverb"]), source="poll"
        )
    body = owner_client.get("/api/sync/status").json()
    channels = {c["channel"]: c for c in body["channels"]}
    assert set(channels) == {"reverb", "ebay"}
    assert channels["reverb"]["events_24h"] >= 1 and "next_pull_at" in channels["reverb"]
    assert body["sale_to_delist"]["sales"] == 0  # the eBay end is not confirmed yet
    assert body["open_oversells"] == 0


def test_pull_on_demand_is_a_job(owner_client: TestClient, database: Database) -> None:
    assert owner_client.post("/api/sync/reverb").status_code == 409  # no account yet
    with database.session() as session:
        create_account(session, "reverb")
    response = owner_client.post("/api/sync/reverb", json={"full": True})
    assert response.status_code == 202
    (job,) = jobs(database)
    assert (
        job.kind == "reverb.pull_listings"
        and job.payload["full"] is True
        and job.id == response.json()["job_id"]
    )
    assert owner_client.post("/api/sync/nowhere").status_code == 422


def test_unmatched_listing_resolved_by_creating_a_product(
    owner_client: TestClient, database: Database
) -> None:
    differ = Differ(database, "reverb", full=False, settings=SyncSettings(_env_file=None))  # type: ignore[call-arg]
    differ.feed([remote_listing("rv-5", title="Gibson ES-335 1964 Cherry", price=Decimal("25000"),
                                raw={"make": "Gibson", "model": "ES-335", "year": "1964"})])  # fmt: skip
    page = owner_client.get("/api/sync/unmatched").json()
    assert page["total"] == 1 and page["items"][0]["details"]["brand"] == "Gibson"
    unmatched_id = page["items"][0]["id"]
    created = owner_client.post(f"/api/sync/unmatched/{unmatched_id}/resolve", json={"action": "create"})
    assert created.status_code == 200, created.text
    assert created.json()["status"] == "created"
    product = owner_client.get(f"/api/products/{created.json()['resolved_product_id']}").json()
    assert (
        product["brand"] == "Gibson"
        and product["year"] == 1964
        and product["listings"][0]["remote_id"] == "rv-5"
    )
    again = owner_client.post(f"/api/sync/unmatched/{unmatched_id}/resolve", json={"action": "ignore"})
    assert again.status_code == 409
    assert owner_client.get("/api/sync/unmatched").json()["total"] == 0


def test_reconciliation_reports_and_fixes_a_mismatch(owner_client: TestClient, database: Database) -> None:
    with database.session() as session:
        create_account(session, "reverb")
        product = create_product(session, base_price=Decimal("1000.00"))
        listing = list_on(session, product, ["reverb"], remote_price=Decimal("900.00"))["reverb"]
        sold = create_product(session, quantity=0)
        live_but_sold = list_on(session, sold, ["reverb"])["reverb"]
        listing_id, sold_listing_id = listing.id, live_but_sold.id
    report = owner_client.get("/api/reconciliation", params={"channel": "reverb"}).json()
    (channel,) = report["channels"]
    assert channel["mismatch_counts"] == {"price": 1, "quantity": 0, "state": 1}
    by_listing = {m["listing_id"]: m for m in channel["mismatches"]}
    assert by_listing[listing_id]["local"] == "1000.00" and by_listing[listing_id]["remote"] == "900.00"
    assert "not pushed" in by_listing[listing_id]["cause"]
    assert by_listing[sold_listing_id]["fixes"] == ["push_local"]
    refused = owner_client.post(
        "/api/reconciliation/fix", json={"listing_id": sold_listing_id, "action": "accept_remote"}
    )
    assert refused.status_code == 422
    fixed = owner_client.post(
        "/api/reconciliation/fix", json={"listing_id": listing_id, "action": "accept_remote"}
    )
    assert fixed.status_code == 200, fixed.text
    assert (
        owner_client.post(
            "/api/reconciliation/fix", json={"listing_id": sold_listing_id, "action": "push_local"}
        ).status_code
        == 200
    )
    assert [j.kind for j in jobs(database)] == ["reverb.end"]
    after = owner_client.get("/api/reconciliation", params={"channel": "reverb"}).json()["channels"][0]
    assert after["mismatch_counts"]["price"] == 0
    assert "end job is queued" in after["mismatches"][0]["cause"]


def test_revert_through_the_api_and_oversell_follow_up(
    owner_client: TestClient, database: Database, frozen_clock: FrozenClock
) -> None:
    with database.session() as session:
        product = create_product(session)
        listings = list_on(session, product, ["reverb", "ebay"], extras={REMOTE_TITLE_KEY: product.title})
        remote_id = listings["reverb"].remote_id or ""
        ebay_id = listings["ebay"].id
    frozen_clock.advance(minutes=10)
    Differ(
        database,
        "reverb",
        full=False,
        settings=SyncSettings(_env_file=None, field_owners={"title": "channel"}),
    ).feed(  # type: ignore[call-arg]
        [remote_listing(remote_id, title="Edited on Reverb", updated_at=utcnow() - dt.timedelta(seconds=1))]
    )
    events = owner_client.get("/api/sync/events", params={"kind": "remote_title"}).json()["items"]
    assert events[0]["outcome"] == "accepted_remote"
    reverted = owner_client.post(f"/api/sync/events/{events[0]['id']}/revert")
    assert reverted.status_code == 200, reverted.text
    assert owner_client.post(f"/api/sync/events/{events[0]['id']}/revert").status_code == 409
    assert (
        owner_client.get(f"/api/products/{listings['reverb'].product_id}").json()["title"]
        == "Fender Stratocaster 1965 Sunburst"
    )
    # An oversell shows its follow-up until it is marked done.
    with database.session() as session:
        product = create_product(session, quantity=0)
        listing = list_on(session, product, ["ebay"])["ebay"]
        sales.process_remote_order(session, "ebay", remote_order("E-9", listing=listing), source="poll")
        assert session.get(Listing, ebay_id) is not None
    page = owner_client.get("/api/sync/oversells").json()
    assert page["total"] == 1 and "Cancel and refund ebay order E-9" in page["items"][0]["followup"]
    done = owner_client.post(f"/api/sync/oversells/{page['items'][0]['id']}/done")
    assert done.status_code == 200 and done.json()["followup"] is None
    assert owner_client.get("/api/sync/oversells").json()["total"] == 0
