"""Toolkit tests run against the Reverb sandbox (the first platform) over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import WebhookReceiver, running

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def api_client(sandbox: RunningSandbox, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.api_base_url,
        headers={
            "Authorization": f"Bearer {token or sandbox.token}",
            "Accept-Version": "3.0",
            "Accept": "application/hal+json",
            "Content-Type": "application/hal+json",
        },
        timeout=TIMEOUT,
        trust_env=False,
    )


@pytest.fixture(scope="module")
def module_reverb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running("reverb", tmp_path_factory.mktemp("reverb"), publish_delay_seconds=0.05) as sandbox:
        yield sandbox


@pytest.fixture
def reverb(module_reverb: RunningSandbox) -> RunningSandbox:
    """The module's Reverb sandbox, reset to fresh demo data for this test."""
    module_reverb.control.reset()
    return module_reverb


@pytest.fixture
def api(reverb: RunningSandbox) -> Iterator[httpx.Client]:
    with api_client(reverb) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


def first_listing(api: httpx.Client, state: str = "live", **params: str) -> dict:  # type: ignore[type-arg]
    response = api.get("/my/listings", params={"state": state, "per_page": 100, **params})
    assert response.status_code == 200, response.text
    listings = [
        item for item in response.json()["listings"] if not item["has_inventory"]
    ]  # one-of-a-kind items
    assert listings, f"no {state} listing in the demo data"
    return listings[0]  # type: ignore[no-any-return]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path
