"""ReverbChannel against the Reverb sandbox over loopback HTTP (no database)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from riff.channels.contract import (
    EndReason,
    ListingSnapshot,
    OrderStatus,
    RemoteState,
)
from riff.channels.errors import AuthExpired, Rejected, Transient
from riff.channels.http import RequestCounters
from riff.channels.reverb.adapter import ReverbChannel
from riff.core.clock import utcnow
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

from ..factories import product_snapshot
from ..helpers import publish_three_ways, run_scenario
from .conftest import make_channel

T = TypeVar("T")
EXCELLENT = "df268ad1-c462-4ba6-b6db-e007e23922ea"
ELECTRIC_GUITARS = "dfd39027-d134-4353-b9e4-57dc6be791b9"


def run(sandbox: RunningSandbox, scenario: Callable[[ReverbChannel], Awaitable[T]], **config: Any) -> T:
    return run_scenario(lambda: make_channel(sandbox, **config), scenario)


product = product_snapshot


def api_get(sandbox: RunningSandbox, path: str, **params: Any) -> Any:
    headers = {
        "Authorization": f"Bearer {sandbox.token}",
        "Accept-Version": "3.0",
        "Accept": "application/hal+json",
    }
    with httpx.Client(base_url=sandbox.api_base_url, headers=headers, timeout=10) as client:
        response = client.get(path, params=params)
        response.raise_for_status()
        return response.json()


def requests_to(sandbox: RunningSandbox, method: str, path_prefix: str) -> list[dict[str, Any]]:
    return sandbox.control.requests(path_prefix=path_prefix, method=method)


class TestPublish:
    def test_listing_goes_live_with_the_right_fields(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        assert ref.state == RemoteState.LIVE
        listing = api_get(sandbox, f"/listings/{ref.id}")
        assert listing["make"] == "Fender"
        assert listing["model"] == "Stratocaster"
        assert listing["finish"] == "Sunburst"
        assert listing["condition"]["uuid"] == EXCELLENT
        assert [c["uuid"] for c in listing["categories"]] == [ELECTRIC_GUITARS]
        assert Decimal(listing["price"]["amount"]) == Decimal("12500.00")
        assert listing["price"]["currency"] == "GBP"
        assert listing["state"]["slug"] == "live"
        assert ref.url and ref.id in ref.url
        mine = api_get(sandbox, "/my/listings", sku="RIFF-T-0001", state="all")["listings"]
        assert [str(item["id"]) for item in mine] == [ref.id]

    def test_a_retried_publish_never_creates_a_second_listing(self, sandbox: RunningSandbox) -> None:
        first, again, by_id = run(sandbox, lambda channel: publish_three_ways(channel, product()))
        assert first == again == by_id
        assert len(requests_to(sandbox, "POST", "/api/listings")) == 1

    def test_a_draft_account_leaves_drafts(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()), publish=False)
        assert ref.state == RemoteState.DRAFT


class TestUpdateAndEnd:
    def test_price_change_is_exactly_one_put_with_only_the_price(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        sandbox.control.clear_requests()
        snapshot = ListingSnapshot(remote_id=ref.id, product=product(price=Decimal("11999")))
        run(sandbox, lambda channel: channel.update(snapshot, {"price"}))
        puts = requests_to(sandbox, "PUT", "/api/listings")
        assert len(puts) == 1
        assert puts[0]["body"] == {"price": {"amount": "11999.00", "currency": "GBP"}}
        assert len(sandbox.control.requests(method="POST")) == 0
        assert Decimal(api_get(sandbox, f"/listings/{ref.id}")["price"]["amount"]) == Decimal("11999.00")

    def test_end_then_end_again(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        snapshot = ListingSnapshot(remote_id=ref.id, product=product())
        ended = run(sandbox, lambda channel: channel.end(snapshot, EndReason.SOLD_ELSEWHERE))
        assert ended.state == RemoteState.ENDED
        assert api_get(sandbox, f"/listings/{ref.id}")["state"]["slug"] == "ended"
        again = run(
            sandbox, lambda channel: channel.end(snapshot, EndReason.NOT_SOLD)
        )  # "already ended" is fine
        assert again.state == RemoteState.ENDED
        ends = requests_to(sandbox, "PUT", f"/api/my/listings/{ref.id}/state/end")
        assert [r["body"] for r in ends] == [{"reason": "not_sold"}, {"reason": "not_sold"}]


class TestFetch:
    def test_all_listings_across_several_pages(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path / "seeded", seed_size=120) as seeded:
            total = api_get(seeded, "/my/listings", state="all", per_page=1)["total"]

            async def scenario(channel: ReverbChannel) -> list[str]:
                return [listing.remote_id async for listing in channel.fetch_listings()]

            ids = run(seeded, scenario)
            pages = requests_to(seeded, "GET", "/api/my/listings")
        assert total > 100
        assert len(ids) == total == len(set(ids))
        assert len(pages) >= 4  # the per_page=1 probe + three pages of 50

    def test_orders_since_a_time_and_mark_shipped(self, sandbox: RunningSandbox) -> None:
        ref = run(sandbox, lambda channel: channel.publish(product()))
        order_number = str(sandbox.control.purchase(ref.id)["order"]["order_number"])
        before = utcnow() - dt.timedelta(hours=1)
        orders = run(sandbox, lambda channel: channel.fetch_orders(before))
        assert [o.remote_id for o in orders] == [order_number]
        order = orders[0]
        assert order.status == OrderStatus.PAID
        assert order.lines[0].sku == "RIFF-T-0001"
        assert order.lines[0].remote_listing_id == ref.id
        assert run(sandbox, lambda channel: channel.fetch_orders(utcnow() + dt.timedelta(hours=1))) == []

        shipped = run(sandbox, lambda channel: channel.mark_shipped(order_number, "dhl", "3030302671"))
        assert shipped is not None and shipped.status == OrderStatus.SHIPPED
        ships = requests_to(sandbox, "POST", f"/api/my/orders/selling/{order_number}/ship")
        assert ships[0]["body"]["provider"] == "DHL"
        assert ships[0]["body"]["tracking_number"] == "3030302671"


class TestFaults:
    def test_a_burst_of_5xx_is_retried(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(error_5xx_burst=2, path_prefix="/api/my/listings")
        counters = RequestCounters()

        async def scenario() -> list[str]:
            channel = ReverbChannel(
                config={"currency": "GBP", "shipping_profile_id": "1"},
                secrets={"token": sandbox.token},
                base_url=sandbox.api_base_url,
                counters=counters,
            )
            async with channel:
                return [listing.remote_id async for listing in channel.fetch_listings()]

        assert asyncio.run(scenario()) == []
        assert counters.total("reverb", "GET", "/my/listings") == 3
        assert [r["outcome"] for r in counters.snapshot("reverb")] == ["ok", "retry"]

    def test_too_many_5xx_is_transient_for_the_job_engine(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(error_5xx_burst=10)

        async def scenario(channel: ReverbChannel) -> Any:
            return [item async for item in channel.fetch_listings()]

        with pytest.raises(Transient) as caught:
            run(sandbox, scenario)
        assert caught.value.retryable is True

    def test_short_429_is_waited_inline(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(rate_limit={"every_nth": 2, "retry_after_seconds": 1})

        async def scenario(channel: ReverbChannel) -> Any:
            await channel.fetch_orders(utcnow() - dt.timedelta(days=1))  # request 1: ok
            return await channel.fetch_orders(utcnow() - dt.timedelta(days=1))  # request 2: 429, then ok

        assert run(sandbox, scenario) == []
        assert len(requests_to(sandbox, "GET", "/api/my/orders")) == 3

    def test_expired_token_is_auth_expired(self, sandbox: RunningSandbox) -> None:
        sandbox.control.faults(token_expired=True)
        with pytest.raises(AuthExpired) as caught:
            run(sandbox, lambda channel: channel.publish(product()))
        assert caught.value.retryable is False
        assert caught.value.status_code == 401

    def test_validation_error_carries_the_platform_message(self, sandbox: RunningSandbox) -> None:
        bad = product(category_remote_ids=["00000000-0000-0000-0000-000000000000"])
        with pytest.raises(Rejected) as caught:
            run(sandbox, lambda channel: channel.publish(bad))
        assert caught.value.retryable is False
        assert caught.value.status_code in (400, 412, 422)
        body = caught.value.body
        assert isinstance(body, dict) and body.get("message")
        assert body["message"] in caught.value.message
