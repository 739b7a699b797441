"""Shopify jobs end to end: API/service -> job -> worker -> sandbox over HTTP -> database (both backends)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.channels import service
from riff.channels.models import AccountStatus, ChannelEvent, Listing
from riff.channels.models import ListingState as State
from riff.channels.shopify import webhooks
from riff.core.clock import FrozenClock, utcnow
from riff.core.db import Database
from riff.jobs import enqueue
from riff.jobs.consts import DEFAULT_SCHEDULES
from riff.jobs.registry import registered_kinds
from riff.sync.models import SyncEvent
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import ReceivedWebhook, WebhookReceiver

from ..factories import create_product
from ..helpers import (
    new_product_id,
    publish_through_api,
    queue_publish,
    read_account,
    read_jobs,
    read_listing,
)
from .conftest import (
    CLIENT_SECRET,
    WEBHOOK_TOKEN,
    numeric,
    operations,
    product,
    remote_product,
    run,
    set_throttle,
)

WEBHOOK_PATH = f"/webhooks/shopify/{WEBHOOK_TOKEN}"


def _order_events(database: Database) -> list[SyncEvent]:
    with database.read_session() as session:
        events = list(
            session.scalars(
                sa.select(SyncEvent).where(SyncEvent.kind == service.ORDER_EVENT_KIND).order_by(SyncEvent.id)
            )
        )
        for event in events:
            session.expunge(event)
        return events


def _publish(database: Database, worker: Any, **overrides: Any) -> Listing:
    product_id = new_product_id(database, **overrides)
    queue_publish(database, product_id, "shopify")
    worker.process_available()
    return read_listing(database, product_id)


def _post(client: TestClient, delivery: ReceivedWebhook) -> Any:
    headers = {k: v for k, v in delivery.headers.items() if k.lower().startswith(("content-type", "x-"))}
    return client.post(WEBHOOK_PATH, content=delivery.body, headers=headers)


class TestListingJobs:
    def test_publish_update_end_through_the_api(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        product_id = new_product_id(database)
        publish_through_api(owner_client, worker, product_id, "shopify")
        listing = read_listing(database, product_id)
        assert listing.state == State.LIVE
        assert listing.remote_id and listing.remote_id.startswith("gid://shopify/Product/")
        assert listing.remote_url and listing.last_error is None
        # The location found on the first call is kept in the account: the next jobs do not look again.
        assert read_account(database, account_id).config["location_id"] == "gid://shopify/Location/76543210"

        sandbox.control.clear_requests()
        with database.session() as session:
            stored = session.get(Listing, listing.id)
            assert stored is not None
            stored.price_override = stored.product.base_price - 500
            service.update_listing(session, stored, {"price"})
        worker.process_available()
        assert operations(sandbox) == ["Product", "VariantsBulkUpdate"]
        assert read_listing(database, product_id).remote_price == listing.remote_price - 500

        ended = owner_client.request("DELETE", f"/api/products/{product_id}/listings/shopify")
        assert ended.status_code == 202
        worker.process_available()
        after = read_listing(database, product_id)
        assert after.state == State.ENDED
        assert after.extras["ended_at"]
        remote = remote_product(sandbox, listing.remote_id)
        assert remote["status"] == "DRAFT"  # withdrawn unsold: hidden, stock 0, archived by the weekly job
        assert remote["variants"]["nodes"][0]["inventoryQuantity"] == 0

    def test_the_weekly_job_archives_what_ended_long_enough_ago(
        self, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        now = utcnow()
        ended = {
            "old": now - dt.timedelta(days=15),
            "recent": now - dt.timedelta(days=3),
            "done": now - dt.timedelta(days=30),
        }
        remote_ids: dict[str, str] = {}
        with database.session() as session:
            for name, when in ended.items():
                sku = f"RIFF-ARCH-{name}"
                remote_ids[name] = run(sandbox, lambda channel, sku=sku: channel.publish(product(sku))).id
                extras = {"ended_at": when.isoformat()}
                if name == "done":
                    extras["archived_at"] = (when + dt.timedelta(days=14)).isoformat()
                session.add(
                    Listing(
                        product_id=create_product(session, sku=sku).id,
                        channel="shopify",
                        account_id=account_id,
                        remote_id=remote_ids[name],
                        state=State.SOLD,
                        extras=extras,
                    )
                )
            enqueue(session, "shopify.archive_ended", channel="shopify")
        assert worker.process_available() == 1
        job = read_jobs(database, "shopify.archive_ended")[0]
        assert job.status == "completed", job.last_error_message
        assert job.result is not None and job.result["due"] == 1 and job.result["archived"] == 1
        assert remote_product(sandbox, remote_ids["old"])["status"] == "ARCHIVED"
        assert remote_product(sandbox, remote_ids["recent"])["status"] == "ACTIVE"
        with database.read_session() as session:
            old = session.scalars(sa.select(Listing).where(Listing.remote_id == remote_ids["old"])).one()
            assert old.extras["archived_at"]

    def test_the_archive_runs_on_sundays_at_three(self, worker: Any) -> None:
        archive_kinds = {"shopify.archive_ended", "shopify.archive_sold"}
        [schedule] = [s for s in DEFAULT_SCHEDULES.values() if s["kind"] in archive_kinds]
        assert schedule["cron"] == "0 3 * * 0"  # Sundays 03:00 UTC
        assert archive_kinds <= registered_kinds()
        for kind in ("shopify.pull_listings", "shopify.fetch_orders"):  # the hourly schedules find handlers
            assert kind in registered_kinds()


class TestFaults:
    def test_throttled_reschedules_the_job_after_the_cost_based_wait(
        self,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
        frozen_clock: FrozenClock,
    ) -> None:
        product_id = new_product_id(database)
        queue_publish(database, product_id, "shopify")
        set_throttle(sandbox, currently_available=5, restore_rate=0.1)
        started = frozen_clock.now
        worker.process_available()
        job = read_jobs(database, "shopify.publish")[0]
        assert job.status == "queued" and job.attempts == 1
        # The first call (Locations, 12 points) met 5 points restored at 0.1/s: (12 - 5) / 0.1 = 70 s.
        assert job.run_after is not None
        assert (job.run_after - started).total_seconds() == pytest.approx(70.0, abs=0.5)
        assert "Throttled" in (job.last_error_message or "")

        set_throttle(sandbox, currently_available=1000, restore_rate=50)
        frozen_clock.advance(seconds=71)
        assert worker.process_available() == 1
        assert read_jobs(database, "shopify.publish")[0].status == "completed"
        assert read_listing(database, product_id).state == State.LIVE

    def test_an_invalid_token_marks_the_account(
        self, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        product_id = new_product_id(database)
        queue_publish(database, product_id, "shopify")
        sandbox.control.faults(token_expired=True)
        worker.process_available()
        job = read_jobs(database, "shopify.publish")[0]
        assert job.status == "failed" and job.attempts == 1
        assert job.last_error_retryable is False
        account = read_account(database, account_id)
        assert account.status == AccountStatus.NEEDS_ATTENTION
        assert account.status_message and "Invalid API key or access token" in account.status_message

    def test_user_errors_reach_the_listing_verbatim(
        self, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        listing = _publish(database, worker, title="T" * 300)
        assert listing.state == State.ERROR
        assert listing.last_error == "input.title: Title is too long (maximum is 255 characters) [INVALID]"


class TestWebhooks:
    def test_a_forged_signature_is_refused_with_401_and_logged(
        self,
        client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        body = json.dumps({"id": 1, "updated_at": "2026-01-01T00:00:00+00:00"}).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Webhook-Id": "forged-0001",
            "X-Shopify-Hmac-Sha256": webhooks.signature("not-the-app-secret", body),
        }
        response = client.post(WEBHOOK_PATH, content=body, headers=headers)
        assert response.status_code == 401, response.text
        assert "does not match" in response.json()["error"]["message"]
        captured = capsys.readouterr()
        logged = captured.out + captured.err  # structlog writes to stdout or stderr depending on the setup
        assert "shopify.webhook.signature.invalid" in logged and "forged-0001" in logged
        assert CLIENT_SECRET not in logged
        with database.read_session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(ChannelEvent)) == 0
        genuine = dict(headers, **{"X-Shopify-Hmac-Sha256": webhooks.signature(CLIENT_SECRET, body)})
        assert client.post(WEBHOOK_PATH, content=body, headers=genuine).status_code == 200

    def test_a_duplicate_webhook_id_is_stored_once(
        self, client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        listing = _publish(database, worker)
        with WebhookReceiver() as receiver:
            sandbox.control.register_webhook(receiver.url + "/hook", "orders/create")
            sandbox.control.purchase(numeric(listing.remote_id or ""))
            [delivery] = sandbox.control.wait_for_deliveries(1)
            sandbox.control.redeliver(delivery["id"])  # Shopify retries with the same X-Shopify-Webhook-Id
            first, again = receiver.wait_for(2)
        assert first.headers["x-shopify-webhook-id"] == again.headers["x-shopify-webhook-id"]
        assert _post(client, first).json() == {"received": 1, "new": 1}
        assert _post(client, again).json() == {"received": 1, "new": 0}
        worker.process_available()
        assert len(read_jobs(database, "shopify.webhook")) == 1
        [order] = _order_events(database)
        assert order.listing_id == listing.id
        assert order.after is not None and order.after["status"] == "paid"

    def test_paid_before_create_ends_in_one_record_of_the_latest_state(
        self, client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        listing = _publish(database, worker)
        with WebhookReceiver() as receiver:
            for topic in ("orders/create", "orders/paid", "orders/updated"):
                sandbox.control.register_webhook(receiver.url + "/hook", topic)
            placed = sandbox.control.purchase(numeric(listing.remote_id or ""), paid=False)["order"]
            receiver.wait_for(1)
            sandbox.control.update_order(placed["id"], financial_status="paid")
            received = receiver.wait_for(3)
        by_topic = {delivery.headers["x-shopify-topic"]: delivery for delivery in received}
        assert by_topic["orders/create"].json()["financial_status"] == "pending"
        # Delivered out of order: paid and updated first, the creation last.
        for topic in ("orders/paid", "orders/updated", "orders/create"):
            assert _post(client, by_topic[topic]).json()["new"] == 1
        worker.process_available()

        [order] = _order_events(database)
        assert order.after is not None and order.after["status"] == "paid"
        assert order.after["remote_id"] == placed["admin_graphql_api_id"]
        results = [job.result for job in read_jobs(database, "shopify.webhook")]
        assert [r.get("recorded") if r else None for r in results] == [True, None, False]
        assert results[1] is not None and results[1]["skipped"] == "order state already recorded"
        with database.read_session() as session:
            unhandled = session.scalar(
                sa.select(sa.func.count()).select_from(ChannelEvent).where(ChannelEvent.handled_at.is_(None))
            )
        assert unhandled == 0

        # A poll of the same order state afterwards adds nothing.
        with database.session() as session:
            service.request_fetch_orders(session, "shopify", since=utcnow() - dt.timedelta(hours=1))
        worker.process_available()
        poll = read_jobs(database, "shopify.fetch_orders")[0]
        assert poll.result is not None and poll.result["fetched"] == 1 and poll.result["new"] == 0
        assert len(_order_events(database)) == 1

    def test_a_stale_product_update_is_skipped_and_a_fresh_one_refreshes_the_listing(
        self, client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        listing = _publish(database, worker)
        with WebhookReceiver() as receiver:
            sandbox.control.register_webhook(receiver.url + "/hook", "products/update")
            sandbox.control.edit_listing(numeric(listing.remote_id or ""), price="9999.00")
            [fresh] = receiver.wait_for(1)
        assert _post(client, fresh).json()["new"] == 1
        # Only the webhook job: the sync engine then pushes RIFF's price back (RIFF owns price), which
        # is its own job and its own test.
        worker.process_available(max_jobs=1)
        refreshed = read_listing(database, listing.product_id)
        assert str(refreshed.remote_price) in ("9999.00", "9999")
        assert refreshed.remote_updated_at is not None

        stale_body = fresh.json()
        stale_body["updated_at"] = (refreshed.remote_updated_at - dt.timedelta(minutes=5)).isoformat()
        raw = json.dumps(stale_body).encode()
        headers = {
            "X-Shopify-Topic": "products/update",
            "X-Shopify-Webhook-Id": "stale-0001",
            "X-Shopify-Hmac-Sha256": webhooks.signature(CLIENT_SECRET, raw),
        }
        worker.process_available()  # the sync engine's follow-up push of RIFF's price runs first
        sandbox.control.clear_requests()
        assert client.post(WEBHOOK_PATH, content=raw, headers=headers).json()["new"] == 1
        worker.process_available()
        assert read_jobs(database, "shopify.webhook")[-1].result == {
            "event_id": read_jobs(database, "shopify.webhook")[-1].payload["event_id"],
            "topic": "products/update",
            "skipped": "stale product update",
        }
        assert operations(sandbox) == []  # no API call for a stale delivery
