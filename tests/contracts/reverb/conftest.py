"""Contract tests: Reverb's documented examples (samples/, copied from shared/reference/api_samples/reverb)
sent to the Reverb sandbox over loopback HTTP; responses must have the documented shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def client_for(sandbox: RunningSandbox, documented_headers: dict[str, str] | None = None) -> httpx.Client:
    """A client sending the documented headers, with the sandbox's token in place of <personal_token>."""
    headers = {
        "Content-Type": "application/hal+json",
        "Accept": "application/hal+json",
        "Accept-Version": "3.0",
        **(documented_headers or {}),
    }
    headers["Authorization"] = f"Bearer {sandbox.token}"
    return httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=TIMEOUT, trust_env=False)


def api_path(documented_url: str) -> str:
    """https://api.reverb.com/api/listings -> /api/listings (the sandbox serves the same paths)."""
    return "/" + documented_url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture(scope="module")
def module_reverb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running("reverb", tmp_path_factory.mktemp("reverb"), publish_delay_seconds=0.05) as sandbox:
        yield sandbox


@pytest.fixture
def reverb(module_reverb: RunningSandbox) -> RunningSandbox:
    module_reverb.control.reset()
    return module_reverb


@pytest.fixture
def http(reverb: RunningSandbox) -> Iterator[httpx.Client]:
    with client_for(reverb) as client:
        yield client


def seeded(http: httpx.Client, state: str = "live", **extra: Any) -> dict[str, Any]:
    """A one-of-a-kind demo listing in ``state`` (as /my/listings renders it, with sku)."""
    listings = http.get("/api/my/listings", params={"state": state, "per_page": 100}).json()["listings"]
    return next(  # type: ignore[no-any-return]
        item
        for item in listings
        if not item["has_inventory"] and all(item.get(k) == v for k, v in extra.items())
    )
