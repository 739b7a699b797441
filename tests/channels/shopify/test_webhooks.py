"""Verifying and normalizing Shopify webhook deliveries (HMAC-SHA256 over the raw body, base64)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from riff.channels.errors import Rejected
from riff.channels.shopify import webhooks

DATA = Path(__file__).parent / "data"


def vector() -> dict[str, Any]:
    """shared/reference/api_samples/shopify/webhook_orders_create_hmac_vector.json (a copy)."""
    return json.loads((DATA / "webhook_orders_create_hmac_vector.json").read_text())  # type: ignore[no-any-return]


def test_the_documented_test_vector_verifies() -> None:
    sample = vector()
    body = sample["raw_body"].encode()
    assert webhooks.signature(sample["client_secret"], body) == sample["headers"]["X-Shopify-Hmac-Sha256"]
    [event] = webhooks.parse(sample["headers"], body, sample["client_secret"])
    assert event.topic == "orders/create"
    assert event.external_id == "gid://shopify/Order/5896545558666"
    assert event.dedupe_key == "webhook:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert event.payload["financial_status"] == "paid"


def test_headers_are_case_insensitive() -> None:
    sample = vector()
    lowered = {k.lower(): v for k, v in sample["headers"].items()}
    assert webhooks.parse(lowered, sample["raw_body"].encode(), sample["client_secret"])


@pytest.mark.parametrize(
    "tamper",
    ["body", "signature", "secret", "missing signature"],
)
def test_a_forged_delivery_is_refused_and_logged_without_the_secret(
    tamper: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    sample = vector()
    headers = dict(sample["headers"])
    body = sample["raw_body"].encode()
    secret = sample["client_secret"]
    if tamper == "body":
        body = body.replace(b"12024.00", b"1.00")
    elif tamper == "signature":
        headers["X-Shopify-Hmac-Sha256"] = webhooks.signature("someone-else", body)
    elif tamper == "secret":
        secret = "a-rotated-secret"
    else:
        del headers["X-Shopify-Hmac-Sha256"]
    with pytest.raises(webhooks.SignatureInvalid) as caught:
        webhooks.parse(headers, body, secret)
    assert caught.value.status_code == 401
    assert caught.value.retryable is False
    captured = capsys.readouterr()
    logged = (
        caplog.text + captured.out + captured.err
    )  # structlog prints, or goes through logging once set up
    assert "shopify.webhook.signature.invalid" in logged
    assert "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043" in logged  # which delivery, for the operator
    assert sample["client_secret"] not in logged
    assert sample["headers"]["X-Shopify-Hmac-Sha256"] not in logged


def test_without_a_client_secret_nothing_is_accepted() -> None:
    sample = vector()
    with pytest.raises(webhooks.SignatureInvalid):
        webhooks.parse(sample["headers"], sample["raw_body"].encode(), None)


def _signed(topic: str, body: dict[str, Any], secret: str = "s3cret") -> tuple[dict[str, str], bytes]:
    raw = json.dumps(body).encode()
    headers = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": "11111111-2222-3333-4444-555555555555",
        "X-Shopify-Hmac-Sha256": webhooks.signature(secret, raw),
    }
    return headers, raw


def test_product_and_inventory_deliveries_name_the_object_to_re_read() -> None:
    headers, raw = _signed(
        "products/update", {"id": 8058604055434, "updated_at": "2025-11-05T10:32:45+00:00"}
    )
    [product] = webhooks.parse(headers, raw, "s3cret")
    assert product.external_id == "gid://shopify/Product/8058604055434"
    headers, raw = _signed("inventory_levels/update", {"inventory_item_id": 46256218210442, "available": 0})
    [level] = webhooks.parse(headers, raw, "s3cret")
    assert level.external_id == "gid://shopify/InventoryItem/46256218210442"


def test_topics_riff_does_not_act_on_are_accepted_and_ignored() -> None:
    headers, raw = _signed("customers/create", {"id": 1})
    assert webhooks.parse(headers, raw, "s3cret") == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_signed_but_malformed_bodies_are_rejected(body: bytes) -> None:
    headers = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "w-1",
        "X-Shopify-Hmac-Sha256": webhooks.signature("s3cret", body),
    }
    with pytest.raises(Rejected):
        webhooks.parse(headers, body, "s3cret")
