"""Contract tests: the Discogs sandbox answers the documented requests (samples/, copied from
shared/reference/api_samples/discogs) with the documented shapes, over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
USER_AGENT = "RiffContractTests/1.0 +https://riff.example"
SEED_SIZE = 120


def client_for(sandbox: RunningSandbox, *, token: str | None = None, auth: bool = True) -> httpx.Client:
    headers = {"User-Agent": USER_AGENT}
    if auth:
        headers["Authorization"] = f"Discogs token={token or sandbox.token}"
    return httpx.Client(base_url=sandbox.api_base_url, headers=headers, timeout=TIMEOUT, trust_env=False)


@pytest.fixture(scope="module")
def module_discogs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    # A one-second window so the rate-limit tests are quick; 60 requests as on Discogs.
    with running(
        "discogs", tmp_path_factory.mktemp("discogs"), seed_size=SEED_SIZE, rate_limit_window_seconds=1.0
    ) as sandbox:
        yield sandbox


@pytest.fixture
def discogs(module_discogs: RunningSandbox) -> RunningSandbox:
    module_discogs.control.reset()
    return module_discogs


@pytest.fixture
def http(discogs: RunningSandbox) -> Iterator[httpx.Client]:
    with client_for(discogs) as client:
        yield client
