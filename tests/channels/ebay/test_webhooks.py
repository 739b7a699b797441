"""Parsing eBay Platform Notifications: SOAP envelope, NotificationSignature, event names, dedupe keys."""

from __future__ import annotations

import datetime as dt

import pytest

from riff.channels.ebay import webhooks
from riff.channels.errors import Rejected
from riff_sandbox.ebay import render
from riff_sandbox.ebay.shop import EbayShop

KEYSET = ("dev-id", "app-id", "cert-id")
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HEADERS = {
    "Content-Type": "text/xml",
    "SOAPAction": '"http://developer.ebay.com/notification/FixedPriceTransaction"',
}


def _records() -> tuple[dict[str, object], dict[str, object]]:
    item = EbayShop.__new__(EbayShop)._new_item(  # a record as the sandbox stores it, without a store
        "257100000001",
        {
            "title": "Fender Stratocaster 1965",
            "category_id": "33034",
            "start_price": "12500",
            "currency": "GBP",
            "sku": "RIFF-1",
            "quantity": 1,
        },
        NOW,
    )
    order = {
        "order_id": "26-13456-07919",
        "status": "Completed",
        "currency": "GBP",
        "sales_record": 1001,
        "buyer": {"first_name": "Jo", "last_name": "Tester"},
        "tracking": [],
        "transactions": [
            {
                "transaction_id": "2985700000001",
                "item_id": "257100000001",
                "sku": "RIFF-1",
                "title": "Fender Stratocaster 1965",
                "condition_id": "3000",
                "quantity": 1,
                "price": "12500.00",
                "created": NOW.isoformat(),
            }
        ],
    }
    return item, order


def notification(topic: str = "FixedPriceTransaction", keyset: tuple[str, str, str] = KEYSET) -> bytes:
    item, order = _records()
    transactions = order["transactions"]
    assert isinstance(transactions, list)
    return render.notification(
        topic,
        item,
        order,
        transactions[0],
        base_url="http://127.0.0.1:1",
        now=NOW,
        keyset=keyset,
        correlation_id="c0ffee",
    ).encode()


def test_a_transaction_notification_names_the_order() -> None:
    [event] = webhooks.parse(HEADERS, notification(), keyset=KEYSET, now=NOW)
    assert event.topic == "FixedPriceTransaction"
    assert event.external_id == "26-13456-07919"
    assert event.payload["item_id"] == "257100000001"
    assert event.payload["transaction_id"] == "2985700000001"
    again = webhooks.parse(HEADERS, notification(), keyset=KEYSET, now=NOW + dt.timedelta(seconds=5))
    assert again[0].dedupe_key == event.dedupe_key  # the same delivery twice -> one key
    other = webhooks.parse(HEADERS, notification("AuctionCheckoutComplete"), keyset=KEYSET, now=NOW)
    assert other[0].dedupe_key != event.dedupe_key


def test_an_item_notification_names_the_item() -> None:
    [event] = webhooks.parse({}, notification("ItemSold"), keyset=KEYSET, now=NOW)
    assert (event.topic, event.external_id) == ("ItemSold", "257100000001")


def test_the_signature_is_checked_when_the_keyset_is_known() -> None:
    with pytest.raises(Rejected, match="signature"):
        webhooks.parse(HEADERS, notification(keyset=("x", "y", "z")), keyset=KEYSET, now=NOW)
    # Without the keyset only the secret path token protects the endpoint.
    assert webhooks.parse(HEADERS, notification(keyset=("x", "y", "z")), keyset=None, now=NOW)


def test_a_replayed_old_notification_is_refused() -> None:
    with pytest.raises(Rejected, match="too old"):
        webhooks.parse(HEADERS, notification(), keyset=KEYSET, now=NOW + dt.timedelta(hours=1))


def test_the_signature_is_ebays_formula() -> None:
    # base64(MD5(Timestamp + DevID + AppID + CertID)), KB 1201.
    assert webhooks.signature("2022-01-14T18:35:50.478Z", "d", "a", "c") == render.notification_signature(
        "2022-01-14T18:35:50.478Z", "d", "a", "c"
    )
    assert webhooks.signature("t", "", "", "") == "41jvpIn1gGLxDdcxa2Vkng=="  # base64 of md5(b"t")


def test_malformed_and_unknown_bodies() -> None:
    with pytest.raises(Rejected):
        webhooks.parse({}, b"{not xml", keyset=None)
    body = notification().replace(b"FixedPriceTransaction", b"BestOffer")
    assert webhooks.parse({}, body, keyset=None, now=NOW) == []  # accepted, nothing to do
