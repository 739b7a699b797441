"""End to end against the sandboxes over loopback HTTP: RIFF's app served by uvicorn receives the
sandboxes' webhooks; a worker runs the jobs (in the test's thread, so every step is deterministic).

One product on Reverb, eBay and Shopify: a price change in RIFF is one update call per channel; a price
edited on Reverb comes back through the conflict rule; a purchase on Reverb ends the item everywhere else,
leaves stock at zero, and the order is recorded once although its webhook is delivered twice and the
order poll sees it too."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient

from riff.channels import service as channels
from riff.channels.models import Listing, ListingState
from riff.channels.registry import CHANNELS
from riff.channels.schemas import AccountCreate
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff.orders.models import Order
from riff.sync.consts import EventKind
from riff_sandbox.ebay import consts as ebay_sandbox
from riff_sandbox.runner import RunningSandbox, start

from .conftest import events
from .factories import create_product

pytestmark = pytest.mark.slow

HOOK_TOKEN = "e2e-webhook-path-token-0123456789abcdef"
EBAY_CONFIG = {
    "shipping_profile_id": "252277357017",
    "return_profile_id": "252277356017",
    "postal_code": "WC2H 8NA",
}
EBAY_SECRETS = {
    "client_id": ebay_sandbox.APP_ID,
    "client_secret": ebay_sandbox.CERT_ID,
    "dev_id": ebay_sandbox.DEV_ID,
    "refresh_token": ebay_sandbox.DEFAULT_REFRESH_TOKEN,
}
SHOPIFY_CLIENT_SECRET = "sandbox-shopify-client-secret"  # the sandbox's default; it signs its webhooks
FAST_POLL = {"publish_poll_attempts": 20, "publish_poll_interval_seconds": 0.05}
WEBHOOK_TOPICS = {
    "reverb": ("orders/create", "orders/update", "orders/paid", "listings/update"),
    "ebay": ("FixedPriceTransaction", "ItemSold"),
    "shopify": ("orders/create", "orders/updated", "orders/paid"),
}


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[dict[str, RunningSandbox]]:
    names = [name for name in ("reverb", "ebay", "shopify") if name in CHANNELS]
    started: dict[str, RunningSandbox] = {}
    try:
        for name in names:
            started[name] = start(name, data_dir=tmp_path / name, seed_size=0)
        yield started
    finally:
        for sandbox in started.values():
            sandbox.stop()


@pytest.fixture
def riff_url(app: Any) -> Iterator[str]:
    """RIFF's own app on a free loopback port: where the sandboxes deliver their webhooks."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "RIFF's app did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    thread.join(10)


def _accounts(database: Database, settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    box = SecretBox(load_secret_key(settings))
    configs: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
        "reverb": ({"currency": "GBP", "shipping_profile_id": "15655", **FAST_POLL}, {"token": sandboxes["reverb"].token or ""}),
        "ebay": (dict(EBAY_CONFIG), dict(EBAY_SECRETS)),
        "shopify": ({"currency": "GBP"}, {"token": sandboxes["shopify"].token or "", "client_secret": SHOPIFY_CLIENT_SECRET}),
    }  # fmt: skip
    with database.session() as session:
        for name, sandbox in sandboxes.items():
            config, secrets = configs[name]
            channels.create_account(
                session,
                box,
                AccountCreate(
                    channel=name, base_url=sandbox.api_base_url, is_sandbox=True, config=config,
                    secrets={**secrets, "webhook_token": HOOK_TOKEN},
                ),
            )  # fmt: skip


def _listings(database: Database, product_id: int) -> dict[str, Listing]:
    with database.read_session() as session:
        rows = session.scalars(sa.select(Listing).where(Listing.product_id == product_id))
        found = {listing.channel: listing for listing in rows}
        for listing in found.values():
            session.expunge(listing)
        return found


def _update_calls(sandbox: RunningSandbox) -> int:
    """Write calls that change an existing listing, from the sandbox's request log."""
    if sandbox.name == "reverb":
        return len(sandbox.control.requests(path_prefix="/api/listings/", method="PUT"))
    if sandbox.name == "ebay":
        requests = sandbox.control.requests(path_prefix="/ws/api.dll")
        names = [r["headers"].get("x-ebay-api-call-name") for r in requests]
        return sum(1 for n in names if n and n.startswith("Revise"))
    requests = sandbox.control.requests(path_prefix="/admin/api")
    names = [(r["body"] or {}).get("operationName") or "" for r in requests]
    return sum(1 for n in names if "Update" in n or "Set" in n)


def _drain(worker: Any, rounds: int = 5) -> int:
    done = 0
    for _ in range(rounds):
        ran = worker.process_available()
        done += ran
        if not ran:
            break
    return done


def test_one_product_on_every_channel(
    owner_client: TestClient,
    database: Database,
    settings: Settings,
    sandboxes: dict[str, RunningSandbox],
    riff_url: str,
) -> None:
    from riff.jobs.worker import Worker

    _accounts(database, settings, sandboxes)
    worker = Worker(database, settings, with_scheduler=False, concurrency=1)
    with database.session() as session:
        product_id = create_product(session, sku="RIFF-E2E-1", base_price=Decimal("12500.00")).id

    # Publish to every channel: one job each, all live.
    published = owner_client.post(f"/api/sync/products/{product_id}/publish")
    assert published.status_code == 202, published.text
    assert sorted(published.json()["channels"]) == sorted(sandboxes)
    _drain(worker)
    listings = _listings(database, product_id)
    assert {c: listing.state for c, listing in listings.items()} == dict.fromkeys(
        sandboxes, ListingState.LIVE
    )

    # A price change in RIFF: exactly one update call per channel.
    for sandbox in sandboxes.values():
        sandbox.control.clear_requests()
    version = owner_client.get(f"/api/products/{product_id}").json()["version"]
    changed = owner_client.patch(
        f"/api/products/{product_id}", json={"price": "11000.00", "version": version}
    )
    assert changed.status_code == 200, changed.text
    _drain(worker)
    assert {name: _update_calls(s) for name, s in sandboxes.items()} == dict.fromkeys(sandboxes, 1)
    assert {c: listing.remote_price for c, listing in _listings(database, product_id).items()} == {
        c: Decimal("11000.00") for c in sandboxes
    }

    # Webhooks from every sandbox to RIFF's running app.
    for name, sandbox in sandboxes.items():
        for topic in WEBHOOK_TOPICS[name]:
            sandbox.control.register_webhook(f"{riff_url}/webhooks/{name}/{HOOK_TOKEN}", topic)

    # A price edited on Reverb: the pull (or the listing webhook) brings it in; RIFF owns prices, so its
    # own price goes back to Reverb, and the decision is an auditable sync_event.
    reverb = sandboxes["reverb"]
    reverb_listing = listings["reverb"]
    time.sleep(0.01)
    reverb.control.edit_listing(reverb_listing.remote_id or "", price="9500.00")
    reverb.control.clear_requests()
    pulled = owner_client.post("/api/sync/reverb")
    assert pulled.status_code == 202
    _drain(worker)
    (decision,) = events(database, EventKind.REMOTE_PRICE)
    assert decision.outcome == "pushed_local" and decision.channel == "reverb"
    assert decision.before["remote_price"] == "11000.00" and decision.after["remote_price"] == "9500.00"  # type: ignore[index]
    puts = reverb.control.requests(path_prefix="/api/listings/", method="PUT")
    assert len(puts) == 1 and "11000" in str(puts[0]["body"])

    # A purchase on Reverb: the item ends everywhere else, stock 0, the order recorded once.
    for sandbox in sandboxes.values():
        sandbox.control.clear_requests()
    reverb.control.purchase(reverb_listing.remote_id or "")
    deliveries = reverb.control.wait_for_deliveries(3)
    assert deliveries and all(d["response_status"] == 200 for d in deliveries), deliveries
    _drain(worker)
    after = _listings(database, product_id)
    assert after["reverb"].state == ListingState.SOLD
    assert {c: after[c].state for c in sandboxes if c != "reverb"} == {
        c: ListingState.ENDED for c in sandboxes if c != "reverb"
    }
    assert owner_client.get(f"/api/products/{product_id}").json()["quantity"] == 0
    if "ebay" in sandboxes:
        ends = [r for r in sandboxes["ebay"].control.requests(path_prefix="/ws/api.dll")
                if (r["headers"].get("x-ebay-api-call-name") or "").startswith("End")]  # fmt: skip
        assert len(ends) == 1

    # The same delivery again, then the order poll: still one order, no oversell.
    order_delivery = next(d for d in reverb.control.deliveries("orders/create"))
    reverb.control.redeliver(order_delivery["id"])
    reverb.control.wait_for_deliveries(len(deliveries) + 1)
    with database.session() as session:
        channels.request_fetch_orders(session, "reverb")
    _drain(worker)
    with database.read_session() as session:
        orders = list(session.scalars(sa.select(Order).where(Order.source != "inferred")))
        assert [(o.channel, o.oversold) for o in orders] == [("reverb", False)]
    assert events(database, EventKind.OVERSELL) == []
    status = owner_client.get("/api/sync/status").json()
    assert status["sale_to_delist"]["sales"] == 1 and status["sale_to_delist"]["p50_ms"] is not None
