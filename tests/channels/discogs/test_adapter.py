"""DiscogsChannel against the sandbox over HTTP: listings, orders, credentials and the User-Agent rule."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from riff.channels.contract import EndReason, ListingSnapshot, OrderStatus, ProductSnapshot, RemoteState
from riff.channels.discogs.client import DiscogsClient
from riff.channels.discogs.mapping import RECORD_KEY
from riff.channels.errors import AuthExpired, NotFound, Rejected
from riff.channels.http import HttpWiring
from riff_sandbox.runner import RunningSandbox

from .conftest import make_channel


def record_product(**overrides: Any) -> ProductSnapshot:
    values: dict[str, Any] = {
        "product_id": 7,
        "sku": "REC-TEST-1",
        "title": "Kraftwerker - Autobahnen",
        "condition": "excellent",
        "description": "Clean copy, original inner.",
        "price": Decimal("42.00"),
        "currency": "USD",
        "attributes": {
            RECORD_KEY: {
                "release_id": 1900012,
                "media_condition": "Near Mint (NM or M-)",
                "sleeve_condition": "Very Good Plus (VG+)",
            }
        },
    }
    return ProductSnapshot(**{**values, **overrides})


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_publish_update_end(sandbox: RunningSandbox) -> None:
    async def scenario() -> None:
        async with make_channel(sandbox) as channel:
            ref = await channel.publish(record_product())
            assert ref.state == RemoteState.LIVE and ref.url and ref.url.endswith(f"/sell/item/{ref.id}")
            listing = await channel.get_listing(ref.id)
            assert (listing["status"], listing["condition"], listing["external_id"]) == (
                "For Sale",
                "Near Mint (NM or M-)",
                "REC-TEST-1",
            )
            # A retry with the stored remote id reuses the listing.
            again = await channel.publish(record_product(), remote_id=ref.id)
            assert again.id == ref.id

            snapshot = ListingSnapshot(remote_id=ref.id, product=record_product(price=Decimal("39.50")))
            await channel.update(snapshot, {"price"})
            assert (await channel.get_listing(ref.id))["price"]["value"] == 39.5
            # Release fields are Discogs' own: accepted, nothing is sent.
            await channel.update(snapshot, {"title", "images"})

            ended = await channel.end(snapshot, EndReason.SOLD_ELSEWHERE)
            assert ended.state == RemoteState.ENDED
            with pytest.raises(NotFound):
                await channel.get_listing(ref.id)

    _run(scenario())
    assert (
        len(sandbox.control.requests(path_prefix="/marketplace/listings", method="POST")) == 2
    )  # create + edit


def test_unmapped_values_are_refused_before_any_request(sandbox: RunningSandbox) -> None:
    no_release = record_product(attributes={})
    other_currency = record_product(currency="GBP")

    async def scenario() -> None:
        async with make_channel(sandbox) as channel:
            with pytest.raises(Rejected) as missing:
                await channel.publish(no_release)
            with pytest.raises(Rejected) as currency:
                await channel.publish(other_currency)
            assert missing.value.field == "release_id"
            assert currency.value.field == "currency"

    _run(scenario())
    assert sandbox.control.requests(path_prefix="/marketplace") == []


def test_validation_message_is_verbatim(sandbox: RunningSandbox) -> None:
    async def scenario() -> None:
        async with make_channel(sandbox) as channel:
            ref = await channel.publish(record_product())
            sandbox.control.purchase(ref.id)
            snapshot = ListingSnapshot(remote_id=ref.id, product=record_product(price=Decimal("10")))
            with pytest.raises(Rejected) as refused:
                await channel.update(snapshot, {"price"})
            assert refused.value.message == "This listing is Sold and can no longer be edited."
            # Ending a listing that sold on Discogs is fine.
            assert (await channel.end(snapshot, EndReason.SOLD_HERE)).state == RemoteState.SOLD

    _run(scenario())


def test_orders_and_shipping(sandbox: RunningSandbox) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)

    async def scenario() -> None:
        async with make_channel(sandbox) as channel:
            ref = await channel.publish(record_product())
            bought = sandbox.control.purchase(ref.id)
            orders = await channel.fetch_orders(since)
            assert [o.remote_id for o in orders] == [bought["order"]["id"]]
            order = orders[0]
            assert order.status == OrderStatus.PAID and order.remote_status == "Payment Received"
            assert order.lines[0].remote_listing_id == ref.id and order.lines[0].price == Decimal("42.00")
            assert order.shipping_address is not None and order.shipping_address.name

            shipped = await channel.mark_shipped(order.remote_id, "USPS", "9400 1000 0000 0000 0000 00")
            assert shipped is not None and shipped.status == OrderStatus.SHIPPED

    _run(scenario())
    message = sandbox.control.requests(path_prefix="/marketplace/orders/", method="POST")[0]["body"]
    assert message["status"] == "Shipped" and "9400 1000 0000 0000 0000 00" in message["message"]


def test_bad_token_is_auth_expired(sandbox: RunningSandbox) -> None:
    async def scenario() -> None:
        channel = make_channel(sandbox)
        channel.client.http._client.headers["Authorization"] = "Discogs token=wrong"
        async with channel:
            with pytest.raises(AuthExpired) as refused:
                await channel.get_listing("1")
        assert refused.value.status_code == 401
        assert refused.value.message == "You must authenticate to access this resource."

    _run(scenario())


def test_user_agent_is_required(sandbox: RunningSandbox) -> None:
    with pytest.raises(ValidationError, match="names your application"):
        make_channel(sandbox, user_agent="python-httpx/0.28.1")
    with pytest.raises(ValidationError):
        make_channel(sandbox, user_agent="")

    async def scenario() -> None:
        # A client that sends no User-Agent: Discogs (and the sandbox) answer an empty 403.
        client = DiscogsClient(sandbox.token or "", HttpWiring(sandbox.api_base_url), user_agent="")
        try:
            with pytest.raises(AuthExpired) as refused:
                await client.get_release(1900001)
        finally:
            await client.aclose()
        assert refused.value.status_code == 403
        assert "User-Agent" in refused.value.message and "user_agent" in refused.value.message
        assert refused.value.field == "user_agent"

    _run(scenario())
