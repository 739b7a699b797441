"""Shopify webhook deliveries -> verified, normalized ``WebhookEvent``s.

Shopify signs every delivery: ``X-Shopify-Hmac-Sha256`` is base64(HMAC-SHA256(app client secret, raw body))
(shopify.dev/docs/apps/build/webhooks/verify-deliveries). RIFF recomputes it over the exact bytes received
and compares in constant time; a mismatch is refused with 401 before anything is stored. Retries of one
delivery carry the same ``X-Shopify-Webhook-Id``: that is the inbox's dedupe key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from riff.channels.contract import WebhookEvent
from riff.channels.errors import ChannelError, Rejected
from riff.channels.shopify import consts
from riff.channels.shopify.mapping import to_gid
from riff.core.logging import get_logger

log = get_logger(__name__)


class SignatureInvalid(ChannelError):
    """A delivery whose HMAC does not match (forged, or signed with another app's secret): HTTP 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message, channel=consts.SLUG, status_code=401)


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, client_secret: str | None) -> None:
    """Raise ``SignatureInvalid`` unless the delivery is signed with ``client_secret``. Logs never carry the
    secret or the signatures, only which delivery failed."""
    lowered = {k.lower(): v for k, v in headers.items()}
    context = {
        "topic": lowered.get(consts.TOPIC_HEADER),
        "shop_domain": lowered.get(consts.SHOP_DOMAIN_HEADER),
        "webhook_id": lowered.get(consts.WEBHOOK_ID_HEADER),
    }
    if not client_secret:
        log.warning("shopify.webhook.signature.unverifiable", **context)
        raise SignatureInvalid(
            "the Shopify account has no client_secret, so webhook signatures cannot be verified"
        )
    received = lowered.get(consts.HMAC_HEADER, "")
    try:
        received_digest = base64.b64decode(received.encode(), validate=True)
    except (binascii.Error, ValueError):
        received_digest = b""
    expected = hmac.new(client_secret.encode(), body, hashlib.sha256).digest()
    if not received_digest or not hmac.compare_digest(expected, received_digest):
        log.warning("shopify.webhook.signature.invalid", present=bool(received), **context)
        raise SignatureInvalid("webhook signature (X-Shopify-Hmac-Sha256) does not match")


def parse(headers: Mapping[str, str], raw_body: bytes, client_secret: str | None) -> list[WebhookEvent]:
    verify(headers, raw_body, client_secret)
    lowered = {k.lower(): v for k, v in headers.items()}
    topic = (lowered.get(consts.TOPIC_HEADER) or "").strip()
    webhook_id = (lowered.get(consts.WEBHOOK_ID_HEADER) or "").strip()
    try:
        body = json.loads(raw_body or b"{}")
    except ValueError as exc:
        raise Rejected("webhook body is not JSON", channel=consts.SLUG) from exc
    if not isinstance(body, dict):
        raise Rejected("webhook body is not a JSON object", channel=consts.SLUG)
    if not topic:
        raise Rejected("webhook without X-Shopify-Topic", channel=consts.SLUG, field="topic")
    if not webhook_id:
        raise Rejected("webhook without X-Shopify-Webhook-Id", channel=consts.SLUG, field="webhook_id")
    object_id = _object_id(topic, body)
    if topic not in consts.WEBHOOK_TOPICS or object_id is None:
        # Topics RIFF does not act on (app/uninstalled, customers/*) are accepted and ignored.
        log.info("shopify.webhook.ignored", topic=topic)
        return []
    return [
        WebhookEvent(
            channel=consts.SLUG,
            topic=topic,
            external_id=object_id,
            dedupe_key=f"webhook:{webhook_id}",
            payload=body,
        )
    ]


def _object_id(topic: str, body: dict[str, Any]) -> str | None:
    """The object to re-read through the API: an Order, a Product, or (inventory) the InventoryItem."""
    if topic.startswith("orders/"):
        value = body.get("admin_graphql_api_id") or body.get("id")
        return to_gid("Order", value) if value else None
    if topic.startswith("products/"):
        value = body.get("admin_graphql_api_id") or body.get("id")
        return to_gid("Product", value) if value else None
    if topic.startswith("inventory_levels/"):
        value = body.get("inventory_item_id")
        return to_gid("InventoryItem", value) if value else None
    return None
