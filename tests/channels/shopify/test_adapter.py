"""ShopifyChannel against the Shopify sandbox over loopback HTTP (no database)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from riff.channels.contract import EndReason, ListingSnapshot, OrderStatus, RemoteState
from riff.channels.errors import AuthExpired, ChannelError, RateLimited, Rejected, Transient
from riff.channels.http import RequestCounters
from riff.channels.shopify.adapter import InventoryConflict, ShopifyChannel
from riff.core.clock import utcnow
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

from ..helpers import publish_three_ways
from .conftest import (
    CLIENT_SECRET,
    graphql,
    make_channel,
    numeric,
    operations,
    product,
    remote_product,
    run,
    set_throttle,
)


def publish(sandbox: RunningSandbox, **overrides: Any) -> str:
    return run(sandbox, lambda channel: channel.publish(product(**overrides))).id


def snapshot(remote_id: str, **overrides: Any) -> ListingSnapshot:
    return ListingSnapshot(listing_id=7, remote_id=remote_id, product=product(**overrides))


def bodies(sandbox: RunningSandbox, operation: str) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in sandbox.control.requests(path_prefix="/admin/api")
        if (r["body"] or {}).get("operationName") == operation
    ]


class TestPublish:
    def test_product_with_one_tracked_variant_at_the_location(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        assert ref.state == RemoteState.LIVE
        assert ref.id.startswith("gid://shopify/Product/")
        assert ref.url and ref.url.endswith("/products/fender-telecaster-1968-olympic-white")
        remote = remote_product(sandbox, ref.id)
        assert remote["title"] == "Fender Telecaster 1968 - Olympic White"
        assert remote["status"] == "ACTIVE"
        assert remote["vendor"] == "Fender"
        assert remote["productType"] == "Electric Guitars"
        assert remote["descriptionHtml"] == "<p>1968 Fender Telecaster, all original.</p>"
        assert "Condition: Excellent" in remote["tags"] and "Year: 1968" in remote["tags"]
        assert [m["image"]["url"] for m in remote["media"]["nodes"]] == [
            "https://img.example.com/RIFF-S-0001/0.jpg",
            "https://img.example.com/RIFF-S-0001/1.jpg",
        ]
        variant = remote["variants"]["nodes"][0]
        assert variant == {
            "sku": "RIFF-S-0001",
            "price": "11999.00",
            "inventoryQuantity": 1,
            "inventoryItem": {"tracked": True},
        }
        assert operations(sandbox) == ["ProductsBySku", "ProductSet"]

    def test_a_retried_publish_never_creates_a_second_product(self, sandbox: RunningSandbox) -> None:
        first, again, by_id = run(sandbox, lambda channel: publish_three_ways(channel, product()))
        assert first == again == by_id
        assert operations(sandbox).count("ProductSet") == 1

    def test_relisting_an_archived_product_brings_it_back(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        run(sandbox, lambda channel: channel.archive(remote_id))
        ref = run(sandbox, lambda channel: channel.publish(product(price=Decimal("9999"))))
        assert ref.id == remote_id and ref.state == RemoteState.LIVE
        remote = remote_product(sandbox, remote_id)
        assert remote["status"] == "ACTIVE"
        assert remote["variants"]["nodes"][0]["price"] == "9999.00"

    def test_a_draft_account_creates_drafts(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()), publish=False)
        assert ref.state == RemoteState.DRAFT
        assert remote_product(sandbox, ref.id)["status"] == "DRAFT"

    def test_unmapped_values_are_refused_before_any_request(self, sandbox: RunningSandbox) -> None:
        with pytest.raises(Rejected) as caught:
            run(sandbox, lambda channel: channel.publish(product(condition="unheard-of")))
        assert caught.value.field == "condition"
        with pytest.raises(Rejected) as wrong_currency:
            run(sandbox, lambda channel: channel.publish(product(currency="USD")))
        assert wrong_currency.value.field == "currency"
        assert sandbox.control.requests(path_prefix="/admin/api") == []


class TestUpdate:
    def test_price_change_is_one_variant_update_with_only_the_price(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        sandbox.control.clear_requests()
        ref = run(
            sandbox, lambda channel: channel.update(snapshot(remote_id, price=Decimal("10500")), {"price"})
        )
        assert ref.state == RemoteState.LIVE
        assert operations(sandbox) == ["Product", "VariantsBulkUpdate"]
        variables = bodies(sandbox, "VariantsBulkUpdate")[0]["variables"]
        assert variables["variants"] == [{"id": variables["variants"][0]["id"], "price": "10500.00"}]
        assert remote_product(sandbox, remote_id)["variants"]["nodes"][0]["price"] == "10500.00"

    def test_quantity_is_adjusted_with_compare_and_set_and_an_idempotency_key(
        self, sandbox: RunningSandbox
    ) -> None:
        remote_id = publish(sandbox)
        sandbox.control.clear_requests()
        stocked = snapshot(remote_id, is_stocked_item=True, quantity=3)
        run(sandbox, lambda channel: channel.update(stocked, {"quantity"}))
        [sent] = bodies(sandbox, "InventoryAdjust")
        key = re.search(r'@idempotent\(key: "([0-9a-f-]{36})"\)', sent["query"])
        assert key is not None
        change = sent["variables"]["input"]["changes"][0]
        assert change["delta"] == 2 and change["changeFromQuantity"] == 1
        assert sent["variables"]["input"]["name"] == "available"
        assert remote_product(sandbox, remote_id)["variants"]["nodes"][0]["inventoryQuantity"] == 3

        run(sandbox, lambda channel: channel.update(stocked, {"quantity"}))  # already 3: no write
        assert len(bodies(sandbox, "InventoryAdjust")) == 1

    def test_an_inline_retry_resends_the_same_idempotency_key(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        sandbox.control.clear_requests()
        stocked = snapshot(remote_id, is_stocked_item=True, quantity=2)

        async def scenario(channel: ShopifyChannel) -> None:
            node = await channel.client.product(remote_id, await channel.location_id())
            assert node is not None
            sandbox.control.faults(error_5xx_burst=1, path_prefix="/admin/api")
            await channel._adjust_stock(node, 2, await channel.location_id(), 7, stocked.product.sku)

        run(sandbox, scenario)
        attempts = [
            r
            for r in sandbox.control.requests(path_prefix="/admin/api")
            if "InventoryAdjust" in str(r["body"])
        ]
        assert [r["fault"] for r in attempts] == ["server_error", None]
        assert attempts[0]["body"]["query"] == attempts[1]["body"]["query"]  # same @idempotent key
        assert remote_product(sandbox, remote_id)["variants"]["nodes"][0]["inventoryQuantity"] == 2

    def test_a_stale_quantity_is_not_overwritten(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox, is_stocked_item=True, quantity=3)

        async def scenario(channel: ShopifyChannel) -> None:
            location = await channel.location_id()
            stale = await channel.client.product(remote_id, location)  # RIFF read: 3
            assert stale is not None
            sandbox.control.edit_listing(numeric(remote_id), quantity=2)  # meanwhile a change on Shopify
            await channel._adjust_stock(stale, 5, location, 7, "RIFF-S-0001")

        with pytest.raises(InventoryConflict) as caught:
            run(sandbox, scenario)
        assert caught.value.retryable is False
        assert caught.value.field == "quantity"
        assert "changed from 3 to 2" in caught.value.message
        assert remote_product(sandbox, remote_id)["variants"]["nodes"][0]["inventoryQuantity"] == 2

    def test_product_fields_keep_the_shops_own_tags(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        sandbox.control.edit_listing(
            numeric(remote_id), tags=["staff-pick", "Year: 1968", "Condition: Excellent"]
        )
        changed = snapshot(remote_id, title="Fender Telecaster 1969", year=1969)
        run(sandbox, lambda channel: channel.update(changed, {"title", "year"}))
        remote = remote_product(sandbox, remote_id)
        assert remote["title"] == "Fender Telecaster 1969"
        assert "staff-pick" in remote["tags"] and "Year: 1969" in remote["tags"]
        assert "Year: 1968" not in remote["tags"]

    def test_unknown_fields_are_refused(self, sandbox: RunningSandbox) -> None:
        with pytest.raises(Rejected) as caught:
            run(sandbox, lambda channel: channel.update(snapshot("gid://shopify/Product/1"), {"colour"}))
        assert caught.value.field == "colour"


class TestEndAndArchive:
    def test_sold_elsewhere_shows_sold_out_and_ending_again_succeeds(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        ended = run(sandbox, lambda channel: channel.end(snapshot(remote_id), EndReason.SOLD_ELSEWHERE))
        assert ended.state == RemoteState.SOLD
        remote = remote_product(sandbox, remote_id)
        assert remote["status"] == "ACTIVE"
        assert remote["variants"]["nodes"][0]["inventoryQuantity"] == 0
        [sent] = bodies(sandbox, "InventorySet")
        assert sent["variables"]["input"]["quantities"][0]["changeFromQuantity"] == 1
        assert sent["variables"]["input"]["quantities"][0]["quantity"] == 0
        again = run(sandbox, lambda channel: channel.end(snapshot(remote_id), EndReason.SOLD_ELSEWHERE))
        assert again.state == RemoteState.SOLD
        assert len(bodies(sandbox, "InventorySet")) == 1  # nothing left to set

    def test_withdrawn_becomes_a_draft_with_no_stock(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        ended = run(sandbox, lambda channel: channel.end(snapshot(remote_id), EndReason.NOT_SOLD))
        assert ended.state == RemoteState.ENDED
        remote = remote_product(sandbox, remote_id)
        assert remote["status"] == "DRAFT"
        assert remote["variants"]["nodes"][0]["inventoryQuantity"] == 0
        listing = run(sandbox, lambda channel: channel.get_listing(remote_id))
        assert listing.state == RemoteState.ENDED

    def test_ending_wins_over_a_racing_stock_change(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox, is_stocked_item=True, quantity=3)

        async def scenario(channel: ShopifyChannel) -> None:
            location = await channel.location_id()
            stale = await channel.client.product(remote_id, location)
            assert stale is not None
            sandbox.control.edit_listing(numeric(remote_id), quantity=4)
            await channel._zero_stock(stale, location, 7, "RIFF-S-0001")

        run(sandbox, scenario)
        sets = bodies(sandbox, "InventorySet")
        assert [s["variables"]["input"]["quantities"][0]["changeFromQuantity"] for s in sets] == [3, 4]
        assert remote_product(sandbox, remote_id)["variants"]["nodes"][0]["inventoryQuantity"] == 0

    def test_archive_sets_archived_and_a_missing_product_is_not_found(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        run(sandbox, lambda channel: channel.archive(remote_id))
        run(sandbox, lambda channel: channel.archive(remote_id))  # archiving twice is fine
        assert remote_product(sandbox, remote_id)["status"] == "ARCHIVED"
        assert bodies(sandbox, "ProductUpdate")[0]["variables"]["product"] == {
            "id": remote_id,
            "status": "ARCHIVED",
        }
        with pytest.raises(ChannelError) as caught:
            run(
                sandbox, lambda channel: channel.end(snapshot("gid://shopify/Product/42"), EndReason.NOT_SOLD)
            )
        assert type(caught.value).__name__ == "NotFound"


class TestFetch:
    def test_every_listing_across_pages_and_since_a_time(self, tmp_path: Path) -> None:
        with running("shopify", tmp_path / "seeded", seed_size=120) as seeded:

            async def everything(channel: ShopifyChannel) -> list[str]:
                return [listing.remote_id async for listing in channel.fetch_listings()]

            ids = run(seeded, everything)
            pages = operations(seeded).count("Products")
            first = ids[0]
            seeded.control.edit_listing(numeric(first), title="Edited in Shopify's admin")

            async def recent(channel: ShopifyChannel) -> list[str]:
                since = utcnow() - dt.timedelta(minutes=5)
                return [listing.remote_id async for listing in channel.fetch_listings(since)]

            changed = run(seeded, recent)
        assert len(ids) == len(set(ids)) == 120
        assert pages == 3  # 50 + 50 + 20
        assert changed == [first]

    def test_orders_since_a_time_and_mark_shipped(self, sandbox: RunningSandbox) -> None:
        remote_id = publish(sandbox)
        placed = sandbox.control.purchase(remote_id)["order"]
        before = utcnow() - dt.timedelta(hours=1)
        orders = run(sandbox, lambda channel: channel.fetch_orders(before))
        assert [o.remote_id for o in orders] == [placed["admin_graphql_api_id"]]
        order = orders[0]
        assert order.status == OrderStatus.PAID
        assert order.lines[0].sku == "RIFF-S-0001"
        assert order.lines[0].remote_listing_id == remote_id
        assert order.total == Decimal(placed["total_price"])
        assert run(sandbox, lambda channel: channel.fetch_orders(utcnow() + dt.timedelta(hours=1))) == []
        assert bodies(sandbox, "Orders")[0]["variables"]["query"].startswith("updated_at:>'")

        shipped = run(sandbox, lambda channel: channel.mark_shipped(order.remote_id, "dhl", "3030302671"))
        assert shipped is not None and shipped.status == OrderStatus.SHIPPED
        [sent] = bodies(sandbox, "FulfillmentCreate")
        fulfillment = sent["variables"]["fulfillment"]
        assert fulfillment["trackingInfo"] == {"number": "3030302671", "company": "DHL Express"}
        assert fulfillment["notifyCustomer"] is True
        assert fulfillment["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"][0]["quantity"] == 1
        again = run(sandbox, lambda channel: channel.mark_shipped(order.remote_id, "dhl", "3030302671"))
        assert again is not None and again.status == OrderStatus.SHIPPED
        assert len(bodies(sandbox, "FulfillmentCreate")) == 1  # nothing left to fulfil


class TestFaults:
    def test_throttled_waits_exactly_the_cost_based_time(self, sandbox: RunningSandbox) -> None:
        set_throttle(sandbox, currently_available=5, restore_rate=1)
        with pytest.raises(RateLimited) as caught:
            run(sandbox, lambda channel: channel.publish(product()))
        cost = caught.value.body["extensions"]["cost"]
        requested = cost["requestedQueryCost"]
        available = cost["throttleStatus"]["currentlyAvailable"]
        assert cost["throttleStatus"]["restoreRate"] == 1.0
        assert caught.value.retry_after == pytest.approx((requested - available) / 1.0)
        assert caught.value.retry_after > 5  # too long to wait inline: the job engine reschedules
        assert caught.value.retryable is True
        assert operations(sandbox) == ["ProductsBySku"]

    def test_a_short_throttle_is_waited_inline(self, sandbox: RunningSandbox) -> None:
        set_throttle(sandbox, currently_available=0, restore_rate=100)
        counters = RequestCounters()

        async def scenario() -> Any:
            async with make_channel(sandbox, location_id=None, counters=counters) as channel:
                return await channel.location_id()

        assert asyncio.run(scenario()).startswith("gid://shopify/Location/")
        assert len(sandbox.control.requests(path_prefix="/admin")) == 2  # THROTTLED, then the same again
        assert [r["outcome"] for r in counters.snapshot("shopify")] == ["ok", "rate_limited"]

    def test_low_budget_is_paced_before_sending(self, sandbox: RunningSandbox) -> None:
        set_throttle(sandbox, currently_available=20, restore_rate=1)

        async def scenario(channel: ShopifyChannel) -> None:
            await channel.location_id()  # 12 requested, 4 actual: the answer says 16 points are left
            await channel.publish(product())  # the SKU look-up needs ~37: not sent at all

        sandbox_channel = {"location_id": None}

        with pytest.raises(RateLimited) as caught:
            run(sandbox, scenario, **sandbox_channel)
        assert caught.value.status_code is None  # raised by RIFF, not by Shopify
        assert caught.value.retry_after == pytest.approx(37 - 16, abs=1.0)  # (needed - left) / restore rate
        assert operations(sandbox) == ["Locations"]

    def test_a_burst_of_5xx_is_retried(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(error_5xx_burst=2, path_prefix="/admin/api")
        counters = RequestCounters()

        async def scenario() -> str:
            async with make_channel(sandbox, location_id=None, counters=counters) as channel:
                return await channel.location_id()

        assert asyncio.run(scenario())
        assert counters.total("shopify", "POST", "graphql:Locations") == 3
        assert [r["outcome"] for r in counters.snapshot("shopify")] == ["ok", "retry"]

    def test_too_many_5xx_is_transient_for_the_job_engine(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(error_5xx_burst=10)
        with pytest.raises(Transient) as caught:
            run(sandbox, lambda channel: channel.publish(product()))
        assert caught.value.retryable is True

    @pytest.mark.parametrize("how", ["fault", "wrong token"])
    def test_an_invalid_token_is_auth_expired(self, sandbox: RunningSandbox, how: str) -> None:
        if how == "fault":
            sandbox.control.faults(token_expired=True)
            channel = make_channel(sandbox)
        else:
            channel = ShopifyChannel(
                config={"currency": "GBP"}, secrets={"token": "shpat_revoked"}, base_url=sandbox.api_base_url
            )

        async def scenario() -> Any:
            async with channel:
                return await channel.publish(product())

        with pytest.raises(AuthExpired) as caught:
            asyncio.run(scenario())
        assert caught.value.retryable is False
        assert caught.value.status_code == 401
        assert (
            caught.value.message
            == "[API] Invalid API key or access token (unrecognized login or wrong password)"
        )

    def test_user_errors_reach_the_caller_verbatim_with_the_field_path(self, sandbox: RunningSandbox) -> None:
        with pytest.raises(Rejected) as caught:
            run(sandbox, lambda channel: channel.publish(product(title="T" * 300)))
        assert caught.value.retryable is False
        assert caught.value.field == "input.title"
        assert caught.value.message == "input.title: Title is too long (maximum is 255 characters) [INVALID]"
        assert caught.value.body == [
            {
                "field": ["input", "title"],
                "message": "Title is too long (maximum is 255 characters)",
                "code": "INVALID",
            }
        ]

    def test_a_missing_shop_domain_is_a_clear_error(self) -> None:
        with pytest.raises(Rejected) as caught:
            ShopifyChannel(config={}, secrets={"token": "shpat_x"})
        assert caught.value.field == "shop_domain"


def test_the_location_found_is_offered_to_the_account(sandbox: RunningSandbox) -> None:
    channel = make_channel(sandbox, location_id=None)

    async def scenario() -> str:
        async with channel:
            return await channel.location_id()

    location = asyncio.run(scenario())
    assert channel.pending_account_updates() == ({"location_id": location}, {})
    configured = make_channel(sandbox, location_id=location)
    assert configured.pending_account_updates() is None
    found = graphql(sandbox, "query($id: ID!) { location(id: $id) { isActive } }", id=location)
    assert found["data"]["location"]["isActive"] is True


def test_the_sandbox_signs_with_the_secret_the_tests_use(sandbox: RunningSandbox) -> None:
    assert sandbox.control.info()["options"]["client_secret"] == CLIENT_SECRET
