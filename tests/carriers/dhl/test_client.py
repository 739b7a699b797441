"""The DHL client against the DHL sandbox over loopback HTTP: Basic auth, retries that keep the
Message-Reference (one label), DHL's words on a refusal, Retry-After on a 429."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from riff.carriers.dhl import mapping
from riff.carriers.dhl.client import DhlClient
from riff.channels.errors import AuthExpired, RateLimited, Rejected, Transient
from riff.channels.http import RequestCounters

if TYPE_CHECKING:
    from riff_sandbox.runner import RunningSandbox

SAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "dhl" / "samples"
REFERENCE = "0d1e2f30-4152-4637-8899-aabbccddeeff"


def request_body() -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / "shipment_request.json").read_text())["body"]
    body["plannedShippingDateAndTime"] = mapping.planned_shipping_date(dt.datetime.now(dt.UTC))
    return body


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("dhl", tmp_path_factory.mktemp("dhl")) as started:
        yield started


@pytest.fixture(autouse=True)
def _reset(sandbox: RunningSandbox) -> None:
    sandbox.control.reset()


def client(sandbox: RunningSandbox, **kwargs: Any) -> DhlClient:
    key, secret = (sandbox.token or ":").split(":", 1)
    return DhlClient(key, secret, base_url=sandbox.api_base_url, counters=RequestCounters(), **kwargs)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_5xx_burst_is_retried_with_the_same_reference_and_buys_one_label(sandbox: RunningSandbox) -> None:
    sandbox.control._call("POST", "/dhl/lose-responses", json={"count": 1})  # bought, then the answer is lost
    sandbox.control.faults(error_5xx_burst=1, path_prefix="/mydhlapi/shipments")  # and the first try fails

    async def scenario() -> dict[str, Any]:
        async with client(sandbox) as dhl:
            return await dhl.create_shipment(request_body(), message_reference=REFERENCE)

    body = run(scenario())
    created = sandbox.control._call("GET", "/dhl/shipments")["shipments"]
    assert [s["shipmentTrackingNumber"] for s in created] == [body["shipmentTrackingNumber"]]
    posts = sandbox.control.requests(path_prefix="/mydhlapi/shipments", method="POST")
    assert [p["status"] for p in posts] == [503, 500, 201]
    assert {p["headers"]["message-reference"] for p in posts} == {REFERENCE}
    assert posts[0]["headers"]["authorization"] == "Basic [redacted]"
    assert posts[0]["headers"]["x-version"] == "3.1.0"


def test_a_refusal_carries_dhls_detail_verbatim(sandbox: RunningSandbox) -> None:
    body = request_body()
    del body["customerDetails"]["receiverDetails"]["postalAddress"]["postalCode"]

    async def scenario() -> None:
        async with client(sandbox) as dhl:
            await dhl.create_shipment(body, message_reference=REFERENCE)

    with pytest.raises(Rejected) as refused:
        run(scenario())
    answer = sandbox.control.requests(path_prefix="/mydhlapi/shipments")[0]
    assert refused.value.status_code == 400
    assert (
        refused.value.message
        == "420505: The postal code is missing for the receiver's country US. Provide a postal code."
    )
    assert answer["status"] == 400
    assert refused.value.retryable is False


def test_429_gives_retry_after_and_bad_credentials_are_auth_errors(sandbox: RunningSandbox) -> None:
    sandbox.control.faults(rate_limit={"every_nth": 1, "retry_after_seconds": 30})

    async def rates() -> None:
        async with client(sandbox) as dhl:
            await dhl.tracking("1103733901")

    with pytest.raises(RateLimited) as limited:
        run(rates())
    assert limited.value.retry_after == 30.0
    sandbox.control.clear_faults()

    async def wrong() -> None:
        async with DhlClient("nobody", "wrong", base_url=sandbox.api_base_url) as dhl:
            await dhl.tracking("1103733901")

    with pytest.raises(AuthExpired):
        run(wrong())
    with pytest.raises(Rejected):
        run(client(sandbox).tracking("../../_sandbox/reset"))


def test_a_dhl_that_stays_down_is_transient(sandbox: RunningSandbox) -> None:
    sandbox.control.faults(error_5xx_burst=5)

    async def scenario() -> None:
        async with client(sandbox, max_attempts=2) as dhl:
            await dhl.create_shipment(request_body(), message_reference=REFERENCE)

    with pytest.raises(Transient) as down:
        run(scenario())
    assert down.value.retryable and "999: Process failure occurred" in down.value.message
    assert sandbox.control._call("GET", "/dhl/shipments")["count"] == 0
