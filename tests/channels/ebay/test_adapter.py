"""EbayChannel against the eBay sandbox over loopback HTTP (no database)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from lxml import etree

from riff.channels.contract import EndReason, ListingSnapshot, OrderStatus, RemoteState
from riff.channels.ebay.adapter import EbayChannel
from riff.channels.errors import AuthExpired, RateLimited, Rejected, Transient
from riff.channels.http import RequestCounters
from riff.core.clock import utcnow
from riff_sandbox.ebay import consts as sandbox_consts
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

from ..helpers import publish_three_ways, run_scenario
from .conftest import SECRETS, calls, make_channel, product

T = TypeVar("T")
NS = {"e": "urn:ebay:apis:eBLBaseComponents"}


def run(sandbox: RunningSandbox, scenario: Callable[[EbayChannel], Awaitable[T]], **config: Any) -> T:
    return run_scenario(lambda: make_channel(sandbox, **config), scenario)


def body_xml(request: dict[str, Any]) -> Any:
    return etree.fromstring(request["body"].encode())


def trading(sandbox: RunningSandbox, call_name: str, body: str) -> Any:
    """A raw Trading call with the sandbox's never-expiring user token (as a third-party tool would)."""
    headers = {
        "X-EBAY-API-CALL-NAME": call_name,
        "X-EBAY-API-SITEID": "3",
        "X-EBAY-API-COMPATIBILITY-LEVEL": "1415",
        "X-EBAY-API-IAF-TOKEN": sandbox_consts.DEFAULT_TOKEN,
        "Content-Type": "text/xml",
    }
    response = httpx.post(f"{sandbox.base_url}/ws/api.dll", content=body, headers=headers, timeout=10)
    return etree.fromstring(response.content)


def expire_access_tokens(sandbox: RunningSandbox) -> None:
    httpx.post(f"{sandbox.base_url}/_sandbox/ebay/expire_access_tokens").raise_for_status()


def wait_for_calls(sandbox: RunningSandbox, call_name: str, count: int, timeout: float = 5.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(found := calls(sandbox, call_name)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


class TestPublish:
    def test_the_listing_carries_the_documented_fields(self, sandbox: RunningSandbox) -> None:
        channel = make_channel(sandbox)
        ref = asyncio.run(_publish_and_close(channel))
        assert ref.state == RemoteState.LIVE
        assert ref.url == f"{sandbox.api_base_url}/itm/{ref.id}"
        create = calls(sandbox, "AddFixedPriceItem")
        assert len(create) == 1
        headers = create[0]["headers"]
        assert headers["x-ebay-api-siteid"] == "3"
        assert headers["x-ebay-api-compatibility-level"] == "1415"
        assert headers["x-ebay-api-iaf-token"]
        item = body_xml(create[0]).find("e:Item", NS)
        assert item.findtext("e:Title", namespaces=NS) == "Fender Stratocaster 1965 Sunburst"
        assert item.findtext("e:PrimaryCategory/e:CategoryID", namespaces=NS) == "33034"
        assert item.findtext("e:ConditionID", namespaces=NS) == "3000"
        assert item.findtext("e:StartPrice", namespaces=NS) == "12500.00"
        assert item.find("e:StartPrice", NS).get("currencyID") == "GBP"
        assert item.findtext("e:SKU", namespaces=NS) == "RIFF-T-0001"
        assert item.findtext("e:Quantity", namespaces=NS) == "1"
        assert item.findtext("e:ListingType", namespaces=NS) == "FixedPriceItem"
        assert item.findtext("e:SellerProfiles/e:SellerShippingProfile/e:ShippingProfileID", namespaces=NS)
        assert re.fullmatch(r"[0-9A-F]{32}", item.findtext("e:UUID", namespaces=NS))
        specifics = {
            pair.findtext("e:Name", namespaces=NS): pair.findtext("e:Value", namespaces=NS)
            for pair in item.findall("e:ItemSpecifics/e:NameValueList", NS)
        }
        assert specifics == {
            "Brand": "Fender",
            "Model": "Stratocaster",
            "Year": "1965",
            "Body Colour": "Sunburst",
        }
        pictures = [p.text for p in item.findall("e:PictureDetails/e:PictureURL", NS)]
        assert pictures == [
            "https://img.example.com/RIFF-T-0001/0.jpg",
            "https://img.example.com/RIFF-T-0001/1.jpg",
        ]

    def test_a_long_title_is_cut_to_80_characters(self, sandbox: RunningSandbox) -> None:
        long_title = "Fender Stratocaster 1965 Sunburst " + "with original case and tremolo arm " * 3
        ref = run(sandbox, lambda channel: channel.publish(product(title=long_title)))
        sent = body_xml(calls(sandbox, "AddFixedPriceItem")[0]).findtext("e:Item/e:Title", namespaces=NS)
        assert len(sent) <= 80 and long_title.startswith(sent)
        assert ref.state == RemoteState.LIVE

    def test_a_retried_publish_never_creates_a_second_listing(self, sandbox: RunningSandbox) -> None:
        first, again, by_id = run(sandbox, lambda channel: publish_three_ways(channel, product()))
        assert first == again == by_id
        assert len(calls(sandbox, "AddFixedPriceItem")) == 1

    def test_an_add_that_timed_out_after_ebay_created_it_is_not_listed_twice(
        self, sandbox: RunningSandbox
    ) -> None:
        # eBay creates the listing but answers too late: the client gives up and retries with the same UUID.
        httpx.post(
            f"{sandbox.base_url}/_sandbox/ebay/slow_calls",
            json={"call_name": "AddFixedPriceItem", "delay_seconds": 1.0, "count": 1},
        ).raise_for_status()
        ref = run(sandbox, lambda channel: channel.publish(product()), timeout_seconds=0.3)

        creates = wait_for_calls(sandbox, "AddFixedPriceItem", 2)  # the slow one is logged when it answers
        assert len(creates) == 2  # the timed-out attempt and its retry
        uuids = {body_xml(r).findtext("e:Item/e:UUID", namespaces=NS) for r in creates}
        assert len(uuids) == 1  # the same UUID both times
        active = run(sandbox, lambda channel: _all_listings(channel))
        assert [listing.remote_id for listing in active] == [ref.id]

    def test_a_job_retry_after_the_timeout_finds_the_listing(self, sandbox: RunningSandbox) -> None:
        httpx.post(
            f"{sandbox.base_url}/_sandbox/ebay/slow_calls",
            json={"call_name": "AddFixedPriceItem", "delay_seconds": 0.6, "count": 3},
        ).raise_for_status()
        with pytest.raises(Transient):  # every inline attempt timed out: the job engine retries later
            run(sandbox, lambda channel: channel.publish(product()), timeout_seconds=0.15)
        wait_for_calls(sandbox, "AddFixedPriceItem", 3)  # the slow answers have all been sent meanwhile
        ref = run(sandbox, lambda channel: channel.publish(product()))
        assert [listing.remote_id for listing in run(sandbox, _all_listings)] == [ref.id]

    def test_a_listing_made_elsewhere_with_the_sku_is_found_through_the_duplicate_error(
        self, sandbox: RunningSandbox
    ) -> None:
        # Listed by another tool without SKU tracking: GetItem by SKU cannot see it, eBay's duplicate
        # listing policy names it, and RIFF adopts it instead of failing.
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<AddFixedPriceItemRequest xmlns="urn:ebay:apis:eBLBaseComponents"><Item>'
            "<Title>Fender Stratocaster 1965</Title><Description>Listed by hand</Description>"
            "<PrimaryCategory><CategoryID>33034</CategoryID></PrimaryCategory>"
            '<StartPrice currencyID="GBP">12000.00</StartPrice><ConditionID>3000</ConditionID>'
            "<Country>GB</Country><Currency>GBP</Currency><Location>London</Location>"
            "<ListingDuration>GTC</ListingDuration><ListingType>FixedPriceItem</ListingType>"
            "<Quantity>1</Quantity><SKU>RIFF-T-0001</SKU>"
            "<PictureDetails><PictureURL>https://img.example.com/x.jpg</PictureURL></PictureDetails>"
            "<ItemSpecifics><NameValueList><Name>Brand</Name><Value>Fender</Value></NameValueList></ItemSpecifics>"
            "<SellerProfiles><SellerShippingProfile><ShippingProfileID>252277357017</ShippingProfileID>"
            "</SellerShippingProfile><SellerReturnProfile><ReturnProfileID>252277356017</ReturnProfileID>"
            "</SellerReturnProfile></SellerProfiles></Item></AddFixedPriceItemRequest>"
        )
        existing = trading(sandbox, "AddFixedPriceItem", body).findtext("e:ItemID", namespaces=NS)
        assert existing

        ref = run(sandbox, lambda channel: channel.publish(product()))

        assert ref.id == existing
        assert ref.state == RemoteState.LIVE
        assert len(calls(sandbox, "AddFixedPriceItem")) == 2  # the manual one and RIFF's refused one

    def test_warnings_are_kept_not_failures(self, sandbox: RunningSandbox) -> None:
        async def scenario(channel: EbayChannel) -> list[str]:
            await channel.publish(product())
            return [warning.code for warning in channel.warnings]

        assert run(sandbox, scenario, postal_code=None) == ["21920002"]


async def _publish_and_close(channel: EbayChannel) -> Any:
    async with channel:
        return await channel.publish(product())


async def _all_listings(channel: EbayChannel) -> list[Any]:
    return [listing async for listing in channel.fetch_listings() if listing.state == RemoteState.LIVE]


class TestUpdateAndEnd:
    def test_price_change_is_one_revise_inventory_status_with_only_the_price(
        self, sandbox: RunningSandbox
    ) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        sandbox.control.clear_requests()
        snapshot = ListingSnapshot(remote_id=ref.id, product=product(price=Decimal("11999")))
        run(sandbox, lambda channel: channel.update(snapshot, {"price"}))
        revisions = calls(sandbox)
        assert [r["headers"]["x-ebay-api-call-name"] for r in revisions] == ["ReviseInventoryStatus"]
        status = body_xml(revisions[0]).find("e:InventoryStatus", NS)
        assert [child.tag.split("}")[1] for child in status] == ["ItemID", "SKU", "StartPrice"]
        assert status.findtext("e:StartPrice", namespaces=NS) == "11999.00"
        listing = run(sandbox, lambda channel: channel.get_listing(ref.id))
        assert listing.price == Decimal("11999.0")

    def test_other_fields_go_through_revise_fixed_price_item(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        sandbox.control.clear_requests()
        snapshot = ListingSnapshot(
            remote_id=ref.id,
            product=product(title="Fender Stratocaster 1965 Fiesta Red", finish="Fiesta Red"),
        )
        run(sandbox, lambda channel: channel.update(snapshot, {"title", "finish"}))
        revise = calls(sandbox, "ReviseFixedPriceItem")
        assert len(revise) == 1 and len(calls(sandbox)) == 1
        item = body_xml(revise[0]).find("e:Item", NS)
        assert [child.tag.split("}")[1] for child in item] == ["ItemID", "ItemSpecifics", "Title"]
        assert run(sandbox, lambda channel: channel.get_listing(ref.id)).title.endswith("Fiesta Red")

    def test_unknown_field_is_refused_before_any_call(self, sandbox: RunningSandbox) -> None:
        snapshot = ListingSnapshot(remote_id="1", product=product())
        with pytest.raises(Rejected) as caught:
            run(sandbox, lambda channel: channel.update(snapshot, {"colour_of_case"}))
        assert caught.value.field == "colour_of_case"
        assert calls(sandbox) == []

    def test_end_then_end_again(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        snapshot = ListingSnapshot(remote_id=ref.id, product=product())
        ended = run(sandbox, lambda channel: channel.end(snapshot, EndReason.SOLD_ELSEWHERE))
        again = run(
            sandbox, lambda channel: channel.end(snapshot, EndReason.NOT_SOLD)
        )  # "already closed" is fine
        assert ended.state == again.state == RemoteState.ENDED
        ends = calls(sandbox, "EndFixedPriceItem")
        assert [body_xml(r).findtext("e:EndingReason", namespaces=NS) for r in ends] == ["NotAvailable"] * 2
        assert run(sandbox, lambda channel: channel.get_listing(ref.id)).state == RemoteState.ENDED


class TestFetch:
    def test_all_listings_across_pages(self, tmp_path: Path) -> None:
        with running("ebay", tmp_path / "seeded", seed_size=60) as seeded:
            ids = run(seeded, lambda channel: _ids(channel), selling_page_size=10)
            pages = calls(seeded, "GetMyeBaySelling")
            active = [r for r in pages if body_xml(r).find("e:ActiveList", NS) is not None]
        assert len(ids) == len(set(ids)) >= 40
        assert len(active) >= 4  # the active list alone spans several pages of 10
        assert [
            body_xml(r).findtext("e:ActiveList/e:Pagination/e:PageNumber", namespaces=NS) for r in active
        ] == [str(n) for n in range(1, len(active) + 1)]

    def test_orders_since_a_time_and_mark_shipped(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        order_id = sandbox.control.purchase(ref.id)["order"]["order_id"]
        before = utcnow() - dt.timedelta(hours=1)
        orders = run(sandbox, lambda channel: channel.fetch_orders(before))
        assert [o.remote_id for o in orders] == [order_id]
        order = orders[0]
        assert order.status == OrderStatus.PAID
        assert order.lines[0].sku == "RIFF-T-0001"
        assert order.lines[0].remote_listing_id == ref.id
        assert order.total == Decimal("12525.00")  # price + the shipping profile's £25
        window = body_xml(calls(sandbox, "GetOrders")[0])
        assert window.findtext("e:ModTimeFrom", namespaces=NS) and window.findtext(
            "e:ModTimeTo", namespaces=NS
        )
        assert run(sandbox, lambda channel: channel.fetch_orders(utcnow() + dt.timedelta(hours=1))) == []

        shipped = run(sandbox, lambda channel: channel.mark_shipped(order_id, "dhl", "3030302671"))
        assert shipped is not None and shipped.status == OrderStatus.SHIPPED
        sale = body_xml(calls(sandbox, "CompleteSale")[0])
        assert sale.findtext("e:OrderID", namespaces=NS) == order_id
        assert sale.findtext("e:Shipped", namespaces=NS) == "true"
        details = "e:Shipment/e:ShipmentTrackingDetails/"
        assert sale.findtext(details + "e:ShippingCarrierUsed", namespaces=NS) == "DHL"
        assert sale.findtext(details + "e:ShipmentTrackingNumber", namespaces=NS) == "3030302671"

    def test_orders_across_pages(self, tmp_path: Path) -> None:
        with running("ebay", tmp_path / "seeded", seed_size=60) as seeded:
            orders = run(
                seeded, lambda c: c.fetch_orders(utcnow() - dt.timedelta(days=89)), orders_page_size=3
            )
            pages = calls(seeded, "GetOrders")
        assert len(orders) >= 6 and len(pages) == -(-len(orders) // 3)
        assert len({o.remote_id for o in orders}) == len(orders)


async def _ids(channel: EbayChannel) -> list[str]:
    return [listing.remote_id async for listing in channel.fetch_listings()]


class TestFaults:
    def test_call_limit_518_is_rate_limited_for_the_job_engine(self, sandbox: RunningSandbox) -> None:
        httpx.post(
            f"{sandbox.base_url}/_sandbox/ebay/call_limits",
            json={"daily_call_limits": {"GetMyeBaySelling": 0}},
        ).raise_for_status()
        with pytest.raises(RateLimited) as caught:
            run(sandbox, _ids)
        assert caught.value.retryable is True
        assert caught.value.retry_after is not None and caught.value.retry_after > 5  # not retried inline
        assert "Call usage limit has been reached" not in caught.value.message  # the LongMessage is shown
        assert caught.value.message.startswith("Your application has exceeded usage limit on this call")
        assert len(calls(sandbox, "GetMyeBaySelling")) == 1

    def test_a_burst_of_5xx_is_retried(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(error_5xx_burst=2, path_prefix="/ws/api.dll")
        counters = RequestCounters()

        async def scenario() -> list[str]:
            async with make_channel(sandbox, counters=counters) as channel:
                return await _ids(channel)

        assert asyncio.run(scenario()) == []
        assert counters.total("ebay", "POST", "/ws/api.dll#GetMyeBaySelling") == 5  # 2 failures + 3 lists
        outcomes = {r["outcome"] for r in counters.snapshot("ebay") if r["path"].endswith("GetMyeBaySelling")}
        assert outcomes == {"ok", "retry"}

    def test_too_many_5xx_is_transient(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(error_5xx_burst=10, path_prefix="/ws/api.dll")
        with pytest.raises(Transient) as caught:
            run(sandbox, _ids)
        assert caught.value.retryable is True

    def test_an_expired_access_token_is_refreshed_and_the_call_retried(self, sandbox: RunningSandbox) -> None:
        async def scenario(channel: EbayChannel) -> tuple[list[str], Any]:
            await channel.fetch_orders(utcnow() - dt.timedelta(days=1))  # refreshes the (missing) token
            await asyncio.to_thread(expire_access_tokens, sandbox)
            ids = await _ids(channel)  # eBay refuses the token (21917053): refresh, then the same call again
            return ids, channel.pending_account_updates()

        ids, updates = run(sandbox, scenario)
        assert ids == []
        tokens = sandbox.control.requests(path_prefix="/identity/v1/oauth2/token")
        assert len(tokens) == 2
        assert "grant_type=refresh_token" in tokens[1]["body"]
        sequence = [r["headers"]["x-ebay-api-call-name"] for r in calls(sandbox)]
        assert sequence[:3] == ["GetOrders", "GetMyeBaySelling", "GetMyeBaySelling"]
        config, secrets = updates
        assert secrets["access_token"]
        assert dt.datetime.fromisoformat(config["access_token_expires_at"]) > utcnow() + dt.timedelta(hours=1)

    def test_a_token_about_to_expire_is_refreshed_before_the_call(self, sandbox: RunningSandbox) -> None:
        soon = (utcnow() + dt.timedelta(seconds=60)).isoformat()
        channel = make_channel(
            sandbox,
            secrets={**SECRETS, "access_token": sandbox_consts.DEFAULT_TOKEN},
            access_token_expires_at=soon,
        )

        async def scenario() -> None:
            async with channel:
                await _ids(channel)

        asyncio.run(scenario())
        assert len(sandbox.control.requests(path_prefix="/identity/")) == 1
        assert all(
            r["headers"]["x-ebay-api-iaf-token"] != sandbox_consts.DEFAULT_TOKEN for r in calls(sandbox)
        )

    def test_a_revoked_refresh_token_is_auth_expired_with_a_clear_message(
        self, sandbox: RunningSandbox
    ) -> None:
        sandbox.control.revoke_token(sandbox_consts.DEFAULT_REFRESH_TOKEN)
        with pytest.raises(AuthExpired) as caught:
            run(sandbox, lambda channel: channel.publish(product()))
        assert caught.value.retryable is False
        assert "invalid_grant" in caught.value.message
        assert "refresh_token" in caught.value.message and "riff channels set" in caught.value.message
        assert calls(sandbox) == []  # no Trading call without a token

    def test_wrong_app_keys_are_auth_expired(self, sandbox: RunningSandbox) -> None:
        channel = make_channel(sandbox, secrets={**SECRETS, "client_secret": "wrong"})
        with pytest.raises(AuthExpired) as caught:
            asyncio.run(_publish_and_close(channel))
        assert "invalid_client" in caught.value.message

    def test_validation_error_carries_the_long_message_verbatim(self, sandbox: RunningSandbox) -> None:
        bad = product(category_remote_ids=["99999"])
        with pytest.raises(Rejected) as caught:
            run(sandbox, lambda channel: channel.publish(bad))
        answer = calls(sandbox, "AddFixedPriceItem")[0]
        assert caught.value.retryable is False
        assert caught.value.field == "category"
        assert (
            caught.value.message
            == "The category selected (99999) is not valid. Please select another category."
        )
        assert caught.value.body["errors"][0]["code"] == "107"
        assert answer["status"] == 200  # Trading failures are HTTP 200 with Ack=Failure

    def test_a_product_without_brand_is_sent_as_unbranded(self, sandbox: RunningSandbox) -> None:
        run(
            sandbox,
            lambda channel: channel.publish(product(brand=None, model=None, title="Vintage strat copy")),
        )
        item = body_xml(calls(sandbox, "AddFixedPriceItem")[0]).find("e:Item", NS)
        names = [
            p.findtext("e:Name", namespaces=NS) for p in item.findall("e:ItemSpecifics/e:NameValueList", NS)
        ]
        assert names[0] == "Brand"
        assert item.findtext("e:ItemSpecifics/e:NameValueList/e:Value", namespaces=NS) == "Unbranded"

    def test_expired_token_fault_without_refresh_token_is_auth_expired(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(token_expired=True)
        channel = make_channel(sandbox, secrets={"access_token": sandbox_consts.DEFAULT_TOKEN})
        with pytest.raises(AuthExpired) as caught:
            asyncio.run(_publish_and_close(channel))
        assert caught.value.message == "IAF token supplied is expired."
