"""Parsing Reverb webhook deliveries (unsigned; identified by body shape or a topic header)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from riff.channels.errors import Rejected
from riff.channels.reverb import webhooks

DATA = Path(__file__).parent / "data"


def order_body() -> bytes:
    return json.dumps(json.loads((DATA / "webhook_orders_update.json").read_text())["body"]).encode()


def test_order_delivery_is_normalized_and_deduplicated() -> None:
    first = webhooks.parse({"Content-Type": "application/json"}, order_body())
    again = webhooks.parse({}, order_body())
    assert len(first) == 1
    event = first[0]
    assert event.topic == "orders/update"
    assert event.external_id == "24282217"
    assert event.dedupe_key == again[0].dedupe_key  # the same delivery twice -> one key


def test_a_later_change_has_a_new_key() -> None:
    body = json.loads(order_body())
    body["updated_at"] = "2025-11-08T10:00:00-05:00"
    changed = webhooks.parse({}, json.dumps(body).encode())[0]
    assert changed.dedupe_key != webhooks.parse({}, order_body())[0].dedupe_key


def test_topic_header_wins_and_listing_bodies() -> None:
    listing = {"id": 91978727, "state": {"slug": "sold"}, "inventory": 0}
    event = webhooks.parse({"X-Reverb-Topic": "listings/update"}, json.dumps(listing).encode())[0]
    assert event.topic == "listings/update"
    assert event.external_id == "91978727"
    assert webhooks.parse({"X-Reverb-Topic": "payments/create"}, b"{}") == []


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"hello": "world"}'])
def test_malformed_bodies_are_rejected(body: bytes) -> None:
    with pytest.raises(Rejected):
        webhooks.parse({}, body)
