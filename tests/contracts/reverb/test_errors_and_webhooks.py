"""Contract: Reverb error bodies, rate limiting, authentication and webhook payloads.

Documented examples (samples/, copies of shared/reference/api_samples/reverb/):
- errors.json: "Error body shapes. Reverb does not publish an error schema; shapes below are those exercised by
  EDOS-Engineering/reverb-marketplace tests/Feature/ClientTest.php (message + optional errors hash
  field=>[messages]; 429 with Retry-After) ..." (third-party)
- webhook_orders_update.json: "Webhook delivery: reverb.com/page/receiving-real-time-updates-with-the-reverb-api
  and reverb-api.com/docs/receive-updates-with-webhooks: body is 'the standard json representation of the
  object in question' ... NO signature header ..."
"""

from __future__ import annotations

from pathlib import Path

import httpx

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import WebhookReceiver, running

from .conftest import client_for, seeded
from .shapes import assert_same_shape, sample

ERRORS = {example["status"]: example for example in sample("errors.json")["examples"]}
WEBHOOK = sample("webhook_orders_update.json")
# Reverb validation failures come as 400, 412 or 422 (platform_apis.md); the sandbox answers 422.
VALIDATION_STATUSES = {400, 412, 422}


class TestErrorBodies:
    def test_validation_error_has_the_documented_body(self, http: httpx.Client) -> None:
        documented = ERRORS[412]

        response = http.put(
            f"/api/listings/{seeded(http)['id']}", json={"price": {"amount": "0.00", "currency": "GBP"}}
        )

        assert response.status_code in VALIDATION_STATUSES
        assert response.json() == documented["body"]

    def test_rate_limit_has_the_documented_status_header_and_body(
        self, reverb: RunningSandbox, http: httpx.Client
    ) -> None:
        documented = ERRORS[429]
        reverb.control.faults(
            rate_limit={"every_nth": 1, "retry_after_seconds": int(documented["headers"]["Retry-After"])}
        )

        response = http.get("/api/my/listings")

        assert response.status_code == 429
        assert response.headers["Retry-After"] == documented["headers"]["Retry-After"]
        assert response.json() == documented["body"]

    def test_webhook_registration_with_a_personal_token_when_oauth_is_required(self, tmp_path: Path) -> None:
        documented = ERRORS[401]
        with running("reverb", tmp_path, webhook_registration_requires_oauth=True) as sandbox:
            with client_for(sandbox) as personal:
                refused = personal.post(
                    "/api/webhooks/registrations",
                    json={"url": "https://x.example/h", "topic": "orders/update"},
                )
            oauth_token = sandbox.control.create_token(kind="oauth")
            with client_for(sandbox) as client:
                client.headers["Authorization"] = f"Bearer {oauth_token}"
                accepted = client.post(
                    "/api/webhooks/registrations",
                    json={"url": "https://x.example/h", "topic": "orders/update"},
                )

        assert refused.status_code == 401
        assert refused.json() == documented["body"]
        assert accepted.status_code == 201

    def test_missing_or_wrong_token_is_401_with_message(self, reverb: RunningSandbox) -> None:
        anonymous = httpx.get(
            f"{reverb.api_base_url}/my/listings", headers={"Accept-Version": "3.0"}, trust_env=False
        )
        wrong = httpx.get(
            f"{reverb.api_base_url}/my/listings",
            headers={"Accept-Version": "3.0", "Authorization": "Bearer not-a-token"},
            trust_env=False,
        )

        for response in (anonymous, wrong):
            assert response.status_code == 401
            assert set(response.json()) == {"message"}

    def test_accept_version_is_required_and_echoed(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        without = httpx.get(
            f"{reverb.api_base_url}/my/listings",
            headers={"Authorization": f"Bearer {reverb.token}"},
            trust_env=False,
        )

        assert without.status_code == 406
        assert http.get("/api/my/listings").headers["Accept-Version"] == "3.0"

    def test_server_errors_have_a_message_body(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        reverb.control.faults(error_5xx_burst=1)

        response = http.get("/api/my/listings")

        assert response.status_code == 503
        assert set(response.json()) == {"message"}

    def test_unknown_path_is_404_with_message(self, http: httpx.Client) -> None:
        response = http.get("/api/no/such/thing")

        assert response.status_code == 404
        assert set(response.json()) == {"message"}


class TestWebhookPayloads:
    def test_orders_create_posts_the_standard_order_json_unsigned(
        self, reverb: RunningSandbox, http: httpx.Client
    ) -> None:
        with WebhookReceiver() as receiver:
            reverb.control.register_webhook(receiver.url + "/reverb_order_hook/a1b2c3", "orders/create")
            order = reverb.control.purchase(seeded(http)["id"])["order"]
            (delivery,) = receiver.wait_for(1)

        assert delivery.method == WEBHOOK["request"]["method"]
        assert delivery.headers["content-type"] == WEBHOOK["request"]["headers"]["Content-Type"]
        assert not [h for h in delivery.headers if "signature" in h or "hmac" in h]
        assert_same_shape(delivery.json(), WEBHOOK["body"])
        assert delivery.json() == http.get(f"/api/my/orders/selling/{order['order_number']}").json()

    def test_orders_update_after_shipping(self, reverb: RunningSandbox, http: httpx.Client) -> None:
        order = reverb.control.purchase(seeded(http)["id"])["order"]
        with WebhookReceiver() as receiver:
            reverb.control.register_webhook(receiver.url, "orders/update")
            http.post(
                f"/api/my/orders/selling/{order['order_number']}/ship",
                json={"provider": "DHL", "tracking_number": "1"},
            )
            (delivery,) = receiver.wait_for(1)

        body = delivery.json()
        assert body["status"] == "shipped"
        assert_same_shape(
            body,
            WEBHOOK["body"],
            may_be_extra={"$.shipping_provider", "$.shipping_code", "$.shipped_at", "$.shipping_date",
                          "$._links.web_tracking"},
        )  # fmt: skip

    def test_listings_update_posts_the_standard_listing_json(
        self, reverb: RunningSandbox, http: httpx.Client
    ) -> None:
        listing = seeded(http)
        with WebhookReceiver() as receiver:
            reverb.control.register_webhook(receiver.url, "listings/update")
            http.put(f"/api/my/listings/{listing['id']}/state/end", json={"reason": "not_sold"})
            (delivery,) = receiver.wait_for(1)

        assert delivery.json()["state"]["slug"] == "ended"
        assert_same_shape(
            delivery.json(),
            sample("listing.json")["body"],
            may_be_missing={
                "$.shipping_profile",
                "$.comparison_shopping_page_id",
                "$._links.comparison_shopping",
            },
        )
