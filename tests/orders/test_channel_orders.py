"""Orders from every channel sandbox land in the one unified list, each exactly once, however often they
are polled (Reverb, eBay, Shopify, Discogs; Vintage & Rare reports no orders)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from riff.channels import service as channels
from riff.channels.contract import RemoteState
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff_sandbox.runner import RunningSandbox

CHANNELS = ("reverb", "ebay", "shopify", "discogs")


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningSandbox]]:
    from riff_sandbox.runner import start

    started: dict[str, RunningSandbox] = {}
    try:
        for slug in CHANNELS:
            started[slug] = start(slug, data_dir=tmp_path_factory.mktemp(slug), seed_size=3)
        yield started
    finally:
        for sandbox in started.values():
            sandbox.stop()


@pytest.fixture
def accounts(database: Database, settings: Settings, sandboxes: dict[str, RunningSandbox]) -> dict[str, Any]:
    from riff.channels.schemas import AccountCreate
    from riff.cli.sandbox_wiring import SANDBOX_ACCOUNTS

    found = {}
    with database.session() as session:
        for slug, sandbox in sandboxes.items():
            sandbox.control.reset(seed_size=3)
            config, secrets = SANDBOX_ACCOUNTS[slug](sandbox)
            account = channels.create_account(
                session,
                SecretBox(load_secret_key(settings)),
                AccountCreate(channel=slug, name="sandbox", is_sandbox=True, base_url=sandbox.api_base_url,
                              config=config, secrets=secrets),  # fmt: skip
            )
            session.expunge(account)
            found[slug] = account
    return found


def _first_live_listing(account: Any, settings: Settings) -> str:
    async def find() -> str:
        channel = channels.open_channel(account, load_secret_key(settings))
        try:
            async for listing in channel.fetch_listings():
                if listing.state == RemoteState.LIVE and (listing.quantity or 1) > 0:
                    return listing.remote_id
        finally:
            await channel.aclose()
        raise AssertionError(f"no live {account.channel} listing in the sandbox")

    return asyncio.run(find())


def _poll(database: Database, worker: Any, slug: str) -> None:
    with database.session() as session:
        channels.request_fetch_orders(session, slug)
    worker.process_available()


def test_every_channel_sandbox_order_appears_once(
    owner_client: TestClient,
    database: Database,
    settings: Settings,
    sandboxes: dict[str, RunningSandbox],
    accounts: dict[str, Any],
) -> None:
    import importlib

    from riff.jobs.worker import Worker

    for slug in CHANNELS:
        importlib.import_module(f"riff.channels.{slug}.tasks")
    worker = Worker(database, settings, with_scheduler=False, concurrency=1, kinds=[f"{s}.fetch_orders" for s in CHANNELS])
    for slug in CHANNELS:
        _poll(database, worker, slug)
        before = owner_client.get("/api/orders", params={"channel": slug, "limit": 200}).json()["total"]
        sandboxes[slug].control.purchase(_first_live_listing(accounts[slug], settings), buyer_index=2)
        _poll(database, worker, slug)
        _poll(database, worker, slug)  # the same orders again
        listed = owner_client.get("/api/orders", params={"channel": slug, "limit": 200}).json()
        remote_ids = [item["remote_order_id"] for item in listed["items"]]
        assert listed["total"] == before + 1, slug
        assert len(remote_ids) == len(set(remote_ids)), slug
    everything = owner_client.get("/api/orders", params={"limit": 200}).json()
    assert {item["channel"] for item in everything["items"]} == set(CHANNELS)
