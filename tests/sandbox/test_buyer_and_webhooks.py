"""Buyer simulator, seller edits and webhook delivery (to a real local HTTP receiver), incl. redelivery."""

from __future__ import annotations

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import WebhookReceiver
from riff_sandbox.toolkit.control import SandboxControlError

from .conftest import api_client, first_listing


def stocked_listing(api: httpx.Client) -> dict:  # type: ignore[type-arg]
    listings = api.get("/my/listings", params={"state": "live", "per_page": 100}).json()["listings"]
    single = next(item for item in listings if not item["has_inventory"])
    response = api.put(f"/listings/{single['id']}", json={"has_inventory": True, "inventory": 3})
    assert response.status_code == 200, response.text
    return response.json()["listing"]  # type: ignore[no-any-return]


class TestPurchase:
    def test_purchase_creates_order_sells_listing_and_fires_webhooks(
        self, reverb: RunningSandbox, api: httpx.Client, receiver: WebhookReceiver
    ) -> None:
        for topic in ("orders/create", "listings/update"):
            reverb.control.register_webhook(f"{receiver.url}/reverb/{topic}", topic)
        listing = first_listing(api)

        result = reverb.control.purchase(listing["id"])

        order = result["order"]
        assert order["product_id"] == str(listing["id"])
        assert order["sku"] == listing["sku"]
        assert order["status"] == "paid"
        assert result["listing"]["state"]["slug"] == "sold"
        assert result["listing"]["inventory"] == 0
        assert {d["status"] for d in result["webhook_deliveries"]} == {"delivered"}
        fetched = api.get(f"/my/orders/selling/{order['order_number']}")
        assert fetched.status_code == 200
        assert fetched.json()["order_number"] == order["order_number"]
        assert api.get(f"/listings/{listing['id']}").json()["state"]["slug"] == "sold"

        received = receiver.wait_for(2)
        by_path = {r.path: r for r in received}
        assert set(by_path) == {"/reverb/orders/create", "/reverb/listings/update"}
        order_hook = by_path["/reverb/orders/create"]
        assert order_hook.headers["content-type"] == "application/json"
        assert not any("signature" in h or "hmac" in h for h in order_hook.headers)
        assert order_hook.json()["order_number"] == order["order_number"]
        assert by_path["/reverb/listings/update"].json()["state"]["slug"] == "sold"

    def test_stocked_listing_decrements_until_sold(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        listing = stocked_listing(api)

        first = reverb.control.purchase(listing["id"], quantity=2)
        second = reverb.control.purchase(listing["id"])

        assert (first["listing"]["inventory"], first["listing"]["state"]["slug"]) == (1, "live")
        assert (second["listing"]["inventory"], second["listing"]["state"]["slug"]) == (0, "sold")
        with pytest.raises(SandboxControlError) as refused:
            reverb.control.purchase(listing["id"])
        assert refused.value.status_code == 409

    def test_concurrent_buyers_never_oversell(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        from concurrent.futures import ThreadPoolExecutor

        listing = stocked_listing(api)

        def buy(_: int) -> int:
            try:
                reverb.control.purchase(listing["id"], wait_for_webhooks=False)
            except SandboxControlError as error:
                return error.status_code
            return 200

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = sorted(pool.map(buy, range(8)))

        assert outcomes == [200, 200, 200, 409, 409, 409, 409, 409]
        orders = api.get("/my/orders/selling/all", params={"per_page": 100}).json()["orders"]
        assert sum(o["quantity"] for o in orders if o["product_id"] == str(listing["id"])) == 3

    def test_unpaid_order_then_paid(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        listing = first_listing(api)

        order = reverb.control.purchase(listing["id"], paid=False)["order"]
        assert (order["status"], order["paid_at"]) == ("unpaid", None)
        unpaid = api.get("/my/orders/selling/unpaid").json()["orders"]
        assert order["order_number"] in {o["order_number"] for o in unpaid}

        paid = reverb.control.update_order(order["order_number"], status="paid")["order"]
        assert paid["status"] == "paid" and paid["paid_at"]


class TestWebhookDelivery:
    def test_redelivery_sends_the_same_payload_again(
        self, reverb: RunningSandbox, api: httpx.Client, receiver: WebhookReceiver
    ) -> None:
        reverb.control.register_webhook(receiver.url + "/hook", "orders/create")
        reverb.control.purchase(first_listing(api)["id"])
        (delivery,) = reverb.control.wait_for_deliveries(1, topic="orders/create")

        again = reverb.control.redeliver(delivery["id"])

        assert again["status"] == "delivered"
        assert again["redelivery_of"] == delivery["id"]
        first, second = receiver.wait_for(2)
        assert first.body == second.body
        assert len(reverb.control.deliveries("orders/create")) == 2

    def test_failed_delivery_is_recorded(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        with WebhookReceiver(status=500) as failing:
            reverb.control.register_webhook(failing.url, "orders/create")
            result = reverb.control.purchase(first_listing(api)["id"])

        (delivery,) = result["webhook_deliveries"]
        assert (delivery["status"], delivery["response_status"]) == ("failed", 500)

    def test_unreachable_receiver_is_a_failed_delivery(
        self, reverb: RunningSandbox, api: httpx.Client
    ) -> None:
        with WebhookReceiver() as gone:
            url = gone.url
        reverb.control.register_webhook(url, "listings/update")

        result = reverb.control.purchase(first_listing(api)["id"])

        (delivery,) = result["webhook_deliveries"]
        assert delivery["status"] == "failed" and delivery["error"]

    def test_api_registration_works_with_a_personal_token(
        self, reverb: RunningSandbox, api: httpx.Client, receiver: WebhookReceiver
    ) -> None:
        created = api.post(
            "/webhooks/registrations", json={"url": receiver.url + "/api", "topic": "orders/create"}
        )

        assert created.status_code == 201
        assert api.get("/webhooks/registrations").json()["registrations"][0]["topic"] == "orders/create"
        reverb.control.purchase(first_listing(api)["id"])
        assert receiver.wait_for(1)[0].path == "/api"

    def test_registration_rejects_unknown_topics(self, api: httpx.Client) -> None:
        response = api.post("/webhooks/registrations", json={"url": "http://127.0.0.1:9/x", "topic": "nope"})

        assert response.status_code == 422
        assert response.json()["errors"] == {"topic": ["is not included in the list"]}

    def test_control_registration_validates_topic(self, reverb: RunningSandbox) -> None:
        with pytest.raises(SandboxControlError) as refused:
            reverb.control.register_webhook("http://127.0.0.1:9/x", "orders/nope")
        assert refused.value.status_code == 422


class TestSellerEdit:
    def test_price_edit_changes_listing_without_webhook(
        self, reverb: RunningSandbox, api: httpx.Client, receiver: WebhookReceiver
    ) -> None:
        reverb.control.register_webhook(receiver.url, "listings/update")
        listing = first_listing(api)

        result = reverb.control.edit_listing(listing["id"], price="999.00", title="Retitled on reverb.com")

        assert result["webhook_deliveries"] == []  # listings/update is for state and inventory changes
        fetched = api.get(f"/listings/{listing['id']}").json()
        assert fetched["price"]["amount"] == "999.00"
        assert fetched["title"] == "Retitled on reverb.com"

    def test_ending_on_the_website_fires_listings_update(
        self, reverb: RunningSandbox, api: httpx.Client, receiver: WebhookReceiver
    ) -> None:
        reverb.control.register_webhook(receiver.url, "listings/update")
        listing = first_listing(api)

        result = reverb.control.edit_listing(listing["id"], state="ended")

        assert result["listing"]["state"]["slug"] == "ended"
        assert [d["topic"] for d in result["webhook_deliveries"]] == ["listings/update"]

    def test_unknown_fields_are_refused(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        with pytest.raises(SandboxControlError):
            reverb.control.edit_listing(first_listing(api)["id"], colour="red")


class TestTokens:
    def test_created_token_works_and_revoked_token_fails(self, reverb: RunningSandbox) -> None:
        token = reverb.control.create_token()
        with api_client(reverb, token) as client:
            assert client.get("/listing_conditions").status_code == 200
            reverb.control.revoke_token(token)
            assert client.get("/listing_conditions").status_code == 401
