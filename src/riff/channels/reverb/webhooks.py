"""Reverb webhook deliveries -> normalized ``WebhookEvent``s.

Reverb does not sign webhooks (reverb-api.com/docs/receive-updates-with-webhooks: HMAC "coming soon"),
so the endpoint is protected by a secret path token and the body is never trusted: the handler re-reads
the order or listing from the API before acting on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from riff.channels.contract import WebhookEvent
from riff.channels.errors import Rejected
from riff.channels.reverb import consts

TOPIC_HEADERS = ("x-reverb-topic", "x-reverb-event", "x-webhook-topic")


def _topic(headers: Mapping[str, str], body: dict[str, Any]) -> str:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in TOPIC_HEADERS:
        if lowered.get(name):
            return lowered[name].strip()
    # The body is "the standard json representation of the object": an order has an order_number.
    if "order_number" in body:
        return "orders/update"
    if "id" in body and ("make" in body or "state" in body or "sku" in body):
        return "listings/update"
    raise Rejected("unrecognised Reverb webhook body (neither an order nor a listing)", channel=consts.SLUG)


def _fingerprint(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def order_dedupe_key(order_number: str, updated_at: str | None, body: dict[str, Any] | None = None) -> str:
    """The same order state seen twice (a repeated delivery, or a webhook then a poll) has one key."""
    return f"order:{order_number}:{updated_at or _fingerprint(body or {})}"


def parse(headers: Mapping[str, str], raw_body: bytes) -> list[WebhookEvent]:
    try:
        body = json.loads(raw_body or b"{}")
    except ValueError as exc:
        raise Rejected("webhook body is not JSON", channel=consts.SLUG) from exc
    if not isinstance(body, dict):
        raise Rejected("webhook body is not a JSON object", channel=consts.SLUG)
    topic = _topic(headers, body)
    if topic.startswith("orders/"):
        order_number = body.get("order_number")
        if not order_number:
            raise Rejected("order webhook without order_number", channel=consts.SLUG, field="order_number")
        key = order_dedupe_key(str(order_number), body.get("updated_at"), body)
        return [
            WebhookEvent(
                channel=consts.SLUG, topic=topic, external_id=str(order_number), dedupe_key=key, payload=body
            )
        ]
    if topic.startswith("listings/"):
        listing_id = body.get("id")
        if listing_id is None:
            raise Rejected("listing webhook without id", channel=consts.SLUG, field="id")
        key = f"listing:{listing_id}:{_fingerprint(body)}"
        return [
            WebhookEvent(
                channel=consts.SLUG, topic=topic, external_id=str(listing_id), dedupe_key=key, payload=body
            )
        ]
    # Topics RIFF does not act on (payments/*, app/uninstalled) are accepted and ignored.
    return []
