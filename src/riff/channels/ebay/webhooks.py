"""eBay Platform Notifications (SOAP XML) -> normalized ``WebhookEvent``s.

eBay POSTs a SOAP envelope whose Body is a Trading response (``GetItemTransactionsResponse`` for
FixedPriceTransaction / AuctionCheckoutComplete, ``GetItemResponse`` for ItemSold and the item events) with
``NotificationEventName``. The Header carries ``NotificationSignature`` = base64(MD5(Timestamp + DevID +
AppID + CertID)), Timestamp being the Body's (developer.ebay.com KB 1201). RIFF checks it when the account
has the keyset (dev_id, client_id, client_secret), refuses stale timestamps, and in any case re-reads the
order or item through the API before acting: the body only says what to look at.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from riff.channels.contract import WebhookEvent
from riff.channels.ebay import consts
from riff.channels.ebay.trading import Element, findall, local, parse_timestamp, text
from riff.channels.ebay.trading import parse as parse_xml
from riff.channels.errors import Rejected
from riff.core.clock import utcnow


def signature(timestamp: str, dev_id: str, app_id: str, cert_id: str) -> str:
    digest = hashlib.md5(f"{timestamp}{dev_id}{app_id}{cert_id}".encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def _body_payload(envelope: Element) -> Element:
    if local(envelope.tag) != "Envelope":
        return envelope  # a bare Trading response (tests, or a proxy that unwrapped it)
    body = envelope.find(f"{{{consts.SOAP_ENVELOPE_NAMESPACE}}}Body")
    payload = (
        next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    )
    if payload is None:
        raise Rejected("eBay notification without a SOAP Body payload", channel=consts.SLUG)
    return payload


def _header_signature(envelope: Element) -> str | None:
    for node in envelope.iter():
        if isinstance(node.tag, str) and local(node.tag) == "NotificationSignature":
            return (node.text or "").strip() or None
    return None


def _event_name(headers: Mapping[str, str], payload: Element) -> str:
    name = text(payload, "NotificationEventName")
    if name:
        return name
    lowered = {k.lower(): v for k, v in headers.items()}
    action = lowered.get("soapaction", "").strip().strip('"')
    return action.removeprefix(consts.SOAP_ACTION_PREFIX) if action else ""


def verify(
    envelope: Element,
    payload: Element,
    *,
    keyset: tuple[str, str, str] | None,
    max_age_seconds: float,
    now: dt.datetime | None = None,
) -> None:
    """Check NotificationSignature and the timestamp's age; raises ``Rejected``. Without a keyset only the
    secret path token (checked by the endpoint) protects the URL."""
    if keyset is None:
        return
    timestamp = text(payload, "Timestamp") or ""
    given = _header_signature(envelope)
    expected = signature(timestamp, *keyset)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Rejected("eBay notification signature does not match", channel=consts.SLUG)
    sent = parse_timestamp(timestamp)
    age = abs(((now or utcnow()) - sent).total_seconds()) if sent else None
    if age is None or age > max_age_seconds:
        raise Rejected(
            f"eBay notification timestamp {timestamp!r} is too old or missing", channel=consts.SLUG
        )


def parse(
    headers: Mapping[str, str],
    raw_body: bytes,
    *,
    keyset: tuple[str, str, str] | None = None,
    max_age_seconds: float = consts.NOTIFICATION_MAX_AGE_SECONDS,
    now: dt.datetime | None = None,
) -> list[WebhookEvent]:
    try:
        envelope = parse_xml(raw_body)
    except ValueError as exc:
        raise Rejected("eBay notification body is not XML", channel=consts.SLUG) from exc
    payload = _body_payload(envelope)
    verify(envelope, payload, keyset=keyset, max_age_seconds=max_age_seconds, now=now)
    event = _event_name(headers, payload)
    timestamp = text(payload, "Timestamp") or ""
    item_id = text(payload, "Item/ItemID")
    if event in consts.ORDER_EVENTS:
        return _transaction_events(event, payload, item_id, timestamp)
    if event in consts.LISTING_EVENTS:
        if not item_id:
            raise Rejected(f"eBay {event} notification without an ItemID", channel=consts.SLUG)
        return [
            WebhookEvent(
                channel=consts.SLUG,
                topic=event,
                external_id=item_id,
                dedupe_key=f"notification:{event}:{item_id}:{timestamp}",
                payload={"event": event, "item_id": item_id, "timestamp": timestamp},
            )
        ]
    return []  # events RIFF does not act on are accepted and ignored


def _transaction_events(
    event: str, payload: Element, item_id: str | None, timestamp: str
) -> list[WebhookEvent]:
    events = []
    for transaction in findall(payload, "TransactionArray/Transaction"):
        transaction_id = text(transaction, "TransactionID") or ""
        order_id = text(transaction, "ContainingOrder/OrderID") or text(transaction, "OrderLineItemID")
        if not order_id and item_id and transaction_id:
            order_id = f"{item_id}-{transaction_id}"  # an OrderLineItemID is accepted where an OrderID is
        if not order_id:
            continue
        data: dict[str, Any] = {
            "event": event,
            "item_id": item_id,
            "transaction_id": transaction_id,
            "order_id": order_id,
            "timestamp": timestamp,
        }
        events.append(
            WebhookEvent(
                channel=consts.SLUG,
                topic=event,
                external_id=order_id,
                # One transaction is one fact: the same notification redelivered has the same key.
                dedupe_key=f"notification:{event}:{item_id or ''}:{transaction_id or order_id}",
                payload=data,
            )
        )
    if not events:
        raise Rejected(f"eBay {event} notification without a transaction", channel=consts.SLUG)
    return events
