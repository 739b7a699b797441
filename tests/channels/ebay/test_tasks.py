"""eBay jobs end to end: API/service -> job -> worker -> eBay sandbox over HTTP -> database (both backends)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi.testclient import TestClient
from lxml import etree

from riff.channels import service
from riff.channels.ebay.tasks import PENDING_INVENTORY, WARNINGS
from riff.channels.models import AccountStatus, ChannelEvent, Listing
from riff.channels.models import ListingState as State
from riff.core.clock import FrozenClock, utcnow
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff.sync.models import SyncEvent
from riff_sandbox.ebay import consts as sandbox_consts
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import WebhookReceiver

from ..factories import WEBHOOK_TOKEN, create_product_mapped_to
from ..helpers import (
    new_product_id,
    publish_through_api,
    queue_publish,
    read_account,
    read_jobs,
    read_listing,
)
from .conftest import calls, create_ebay_account

NS = {"e": "urn:ebay:apis:eBLBaseComponents"}


def _secrets(database: Database, settings: Settings, account_id: int) -> dict[str, str]:
    return service.read_secrets(SecretBox(load_secret_key(settings)), read_account(database, account_id))


class TestPublishUpdateEnd:
    def test_through_the_api_with_the_token_saved_and_shown(
        self,
        owner_client: TestClient,
        database: Database,
        settings: Settings,
        sandbox: RunningSandbox,
        worker: Any,
    ) -> None:
        account_id = create_ebay_account(database, settings, sandbox, postal_code=None)
        product_id = new_product_id(database)
        publish_through_api(owner_client, worker, product_id, "ebay")
        listing = read_listing(database, product_id)
        assert listing.state == State.LIVE
        assert listing.remote_id and listing.remote_url and listing.remote_id in listing.remote_url
        assert listing.last_error is None
        # eBay's warning (Ack=Warning) is kept on the listing, not treated as a failure.
        assert [w["code"] for w in listing.extras[WARNINGS]["warnings"]] == ["21920002"]

        # The refreshed access token and its expiry were saved on the account...
        first_token = _secrets(database, settings, account_id)["access_token"]
        status = owner_client.get("/api/channels/ebay/status").json()[0]
        assert status["account_id"] == account_id and status["status"] == "ok"
        assert 7000 < status["token_seconds_left"] <= 7200 and status["token_expired"] is False
        assert status["has_refresh_token"] is True
        assert first_token not in json.dumps(status)  # the token itself is never shown

        # ... and reused by the next job (no second refresh) until eBay says it expired.
        with database.session() as session:
            service.end_product_listing(session, service.get_product(session, product_id), "ebay")
        httpx.post(f"{sandbox.base_url}/_sandbox/ebay/expire_access_tokens").raise_for_status()
        worker.process_available()
        assert read_listing(database, product_id).state == State.ENDED
        assert read_jobs(database, "ebay.end")[0].status == "completed"
        assert len(sandbox.control.requests(path_prefix="/identity/")) == 2  # first use + after expiry
        assert _secrets(database, settings, account_id)["access_token"] != first_token
        assert len(calls(sandbox, "EndFixedPriceItem")) == 2  # refused with the old token, then ended

        budget = owner_client.get("/api/channels/ebay/budget").json()
        by_call = {row["call_name"]: row for row in budget["calls"]}
        assert by_call["AddFixedPriceItem"]["used"] == 1
        assert by_call["AddFixedPriceItem"]["limit"] == 5000
        assert by_call["EndFixedPriceItem"]["remaining"] == 4998
        assert budget["aggregate"]["used"] == sum(row["used_by_riff_today"] for row in budget["calls"])

    def test_nine_price_changes_are_three_revise_inventory_status_calls(
        self, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        product_ids = [new_product_id(database, sku=f"RIFF-2000000{n}") for n in range(9)]
        for product_id in product_ids:
            queue_publish(database, product_id, "ebay")
        assert worker.process_available() == 9
        sandbox.control.clear_requests()

        with database.session() as session:
            for product_id in product_ids:
                stored = session.get(Listing, read_listing(database, product_id).id)
                assert stored is not None
                stored.price_override = Decimal("9999.00")
                service.update_listing(session, stored, {"price"})
        worker.process_available()

        revisions = calls(sandbox, "ReviseInventoryStatus")
        assert len(calls(sandbox)) == len(revisions) == 3
        sizes = [
            len(etree.fromstring(r["body"].encode()).findall("e:InventoryStatus", NS)) for r in revisions
        ]
        assert sorted(sizes) == [1, 4, 4]
        assert len(read_jobs(database, "ebay.update")) == 9
        batch = read_jobs(database, "ebay.revise_inventory")
        assert len(batch) == 1 and batch[0].status == "completed"
        assert batch[0].result == {"revised": 9, "refused": 0, "calls": 3}
        for product_id in product_ids:
            listing = read_listing(database, product_id)
            assert listing.remote_price == Decimal("9999.00")
            assert PENDING_INVENTORY not in listing.extras

    def test_a_refused_item_in_a_batch_gets_its_own_error(
        self, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        product_ids = [new_product_id(database, sku=f"RIFF-3000000{n}") for n in range(2)]
        for product_id in product_ids:
            queue_publish(database, product_id, "ebay")
        worker.process_available()
        ended = read_listing(database, product_ids[0])
        sandbox.control.edit_listing(ended.remote_id or "", status="Ended")  # ended by the seller on eBay
        with database.session() as session:
            for product_id in product_ids:
                stored = session.get(Listing, read_listing(database, product_id).id)
                assert stored is not None
                stored.price_override = Decimal("8888.00")
                service.update_listing(session, stored, {"price"})
        worker.process_available()
        assert len(calls(sandbox, "ReviseInventoryStatus")) == 1
        assert read_jobs(database, "ebay.revise_inventory")[0].result == {
            "revised": 1,
            "refused": 1,
            "calls": 1,
        }
        assert (
            read_listing(database, product_ids[0]).last_error
            == "You are not allowed to revise ended listings."
        )
        assert read_listing(database, product_ids[1]).remote_price == Decimal("8888.00")


class TestFaults:
    def test_call_limit_reschedules_the_job(
        self,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
        frozen_clock: FrozenClock,
    ) -> None:
        httpx.post(
            f"{sandbox.base_url}/_sandbox/ebay/call_limits",
            json={"daily_call_limits": {"AddFixedPriceItem": 0}},
        ).raise_for_status()
        product_id = new_product_id(database)
        queue_publish(database, product_id, "ebay")
        started = frozen_clock.now
        worker.process_available()
        job = read_jobs(database, "ebay.publish")[0]
        assert job.status == "queued" and job.attempts == 1
        assert job.run_after == started + dt.timedelta(hours=1)  # 12:00: an hour before midnight is far
        assert "exceeded usage limit" in (job.last_error_message or "")
        assert read_account(database, account_id).status == AccountStatus.OK

    def test_a_revoked_refresh_token_needs_the_user(
        self, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        sandbox.control.revoke_token(sandbox_consts.DEFAULT_REFRESH_TOKEN)
        product_id = new_product_id(database)
        queue_publish(database, product_id, "ebay")
        worker.process_available()
        job = read_jobs(database, "ebay.publish")[0]
        assert job.status == "failed" and job.attempts == 1 and job.last_error_retryable is False
        account = read_account(database, account_id)
        assert account.status == AccountStatus.NEEDS_ATTENTION
        assert (
            account.status_message
            and "eBay refused the refresh token (invalid_grant" in account.status_message
        )
        assert "--secret refresh_token" in account.status_message
        assert calls(sandbox) == []

        # No retry storm: the next job fails without calling eBay at all.
        before = len(sandbox.control.requests())
        queue_publish(database, new_product_id(database, sku="RIFF-10000002"), "ebay")
        worker.process_available()
        assert [j.status for j in read_jobs(database, "ebay.publish")] == ["failed", "failed"]
        assert len(sandbox.control.requests()) == before

    def test_validation_error_reaches_the_user_verbatim(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        with database.session() as session:
            product_id = create_product_mapped_to(session, channel="ebay", remote_id="99999").id
        owner_client.post(f"/api/products/{product_id}/listings/ebay")
        worker.process_available()
        job = read_jobs(database, "ebay.publish")[0]
        listing = read_listing(database, product_id)
        assert job.status == "failed" and job.attempts == 1
        assert listing.state == State.ERROR
        assert (
            listing.last_error
            == "The category selected (99999) is not valid. Please select another category."
        )
        assert (
            owner_client.get(f"/api/products/{product_id}/listings").json()[0]["last_error"]
            == listing.last_error
        )


class TestNotifications:
    def test_a_notification_delivered_twice_is_one_order_confirmed_by_get_orders(
        self, client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any
    ) -> None:
        product_id = new_product_id(database)
        queue_publish(database, product_id, "ebay")
        worker.process_available()
        listing = read_listing(database, product_id)
        with WebhookReceiver() as receiver:
            for event in ("FixedPriceTransaction", "AuctionCheckoutComplete", "ItemSold"):
                sandbox.control.register_webhook(receiver.url + "/hook", event)
            sandbox.control.purchase(listing.remote_id or "")
            deliveries = sandbox.control.wait_for_deliveries(3)
            first = next(d for d in deliveries if d["topic"] == "FixedPriceTransaction")
            sandbox.control.redeliver(first["id"])  # eBay sends the same notification again
            received = receiver.wait_for(4)
        assert len(received) == 4
        assert received[0].headers["content-type"].startswith("text/xml")
        assert received[0].body.startswith(b"<?xml")

        answers = []
        for delivery in received:
            headers = {k: v for k, v in delivery.headers.items() if k in ("content-type", "soapaction")}
            response = client.post(f"/webhooks/ebay/{WEBHOOK_TOKEN}", content=delivery.body, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.json())
        assert [a["new"] for a in answers].count(0) == 1  # the redelivery

        sandbox.control.clear_requests()
        worker.process_available()
        with database.read_session() as session:
            orders = [
                e.listing_id
                for e in session.scalars(
                    sa.select(SyncEvent).where(SyncEvent.kind == service.ORDER_EVENT_KIND)
                )
            ]
            handled = [e.handled_at is not None for e in session.scalars(sa.select(ChannelEvent))]
        assert orders == [listing.id]  # two notifications about the same order state: recorded once
        assert all(handled)
        # Confirmed through the API, not the body: GetOrders by OrderID (and GetItem for ItemSold).
        confirmations = calls(sandbox, "GetOrders")
        assert confirmations and all(
            etree.fromstring(r["body"].encode()).find("e:OrderIDArray/e:OrderID", NS) is not None
            for r in confirmations
        )
        assert read_listing(database, product_id).state == State.SOLD

        # A poll of the same order state afterwards adds nothing.
        with database.session() as session:
            service.request_fetch_orders(session, "ebay", since=utcnow() - dt.timedelta(hours=1))
        worker.process_available()
        poll = read_jobs(database, "ebay.fetch_orders")[0]
        assert poll.status == "completed"
        assert poll.result is not None and poll.result["fetched"] == 1 and poll.result["new"] == 0

    def test_a_forged_notification_is_refused(
        self, client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int
    ) -> None:
        body = (
            '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            '<soapenv:Header><ebl:RequesterCredentials xmlns:ebl="urn:ebay:apis:eBLBaseComponents">'
            "<ebl:NotificationSignature>AAAAAAAAAAAAAAAAAAAAAA==</ebl:NotificationSignature>"
            "</ebl:RequesterCredentials></soapenv:Header><soapenv:Body>"
            '<GetItemTransactionsResponse xmlns="urn:ebay:apis:eBLBaseComponents">'
            f"<Timestamp>{utcnow().isoformat()}</Timestamp><Ack>Success</Ack>"
            "<NotificationEventName>FixedPriceTransaction</NotificationEventName>"
            "<Item><ItemID>1</ItemID></Item><TransactionArray><Transaction><TransactionID>2</TransactionID>"
            "<ContainingOrder><OrderID>26-1-2</OrderID></ContainingOrder></Transaction></TransactionArray>"
            "</GetItemTransactionsResponse></soapenv:Body></soapenv:Envelope>"
        )
        response = client.post(f"/webhooks/ebay/{WEBHOOK_TOKEN}", content=body)
        assert response.status_code == 400
        assert "signature" in response.json()["error"]["message"]
        with database.read_session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(ChannelEvent)) == 0
