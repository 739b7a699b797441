"""Contract tests: the V&R sandbox behaves like www.vintageandrare.com as RIFF's references describe it
(shared/reference/000_*.txt, original_riff.md 3.4). Plain httpx with browser headers, over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
BROWSER_HEADERS = {
    "User-Agent": USER_AGENT,
    "Accept-Language": "en-GB,en;q=0.9",
    "Accept": "text/html,*/*;q=0.8",
}
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@pytest.fixture(scope="module")
def module_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running(
        "vintage_and_rare", tmp_path_factory.mktemp("vr"), seed_size=30, maintenance_window_utc=None
    ) as sandbox:
        yield sandbox


@pytest.fixture
def site(module_site: RunningSandbox) -> RunningSandbox:
    module_site.control.reset()
    return module_site


def clearance(site: RunningSandbox, user_agent: str = USER_AGENT, **extra: Any) -> str:
    body = site.control._call("POST", "/vintage_and_rare/clearance", json={"user_agent": user_agent, **extra})
    return str(body["value"])


def browser(
    site: RunningSandbox, *, cleared: bool = True, headers: dict[str, str] | None = None
) -> httpx.Client:
    """A client that looks like a browser that already passed the challenge."""
    client = httpx.Client(
        base_url=site.base_url,
        headers={**BROWSER_HEADERS, **(headers or {})},
        timeout=TIMEOUT,
        trust_env=False,
    )
    if cleared:
        client.cookies.set("cf_clearance", clearance(site, client.headers["user-agent"]))
    return client


def logged_in(site: RunningSandbox) -> httpx.Client:
    client = browser(site)
    response = client.post("/do_login", data={"username": "sandbox-dealer", "pass": "sandbox-password",
                                              "open_where": "header"})  # fmt: skip
    assert response.status_code == 302 and response.headers["location"] == "/account"
    return client


@pytest.fixture
def http(site: RunningSandbox) -> Iterator[httpx.Client]:
    client = logged_in(site)
    try:
        yield client
    finally:
        client.close()


def ajax_headers(site: RunningSandbox) -> dict[str, str]:
    return {"X-Requested-With": "XMLHttpRequest", "Origin": site.base_url, "Referer": site.base_url + "/"}


def settings(site: RunningSandbox, **changes: Any) -> dict[str, Any]:
    return site.control._call("POST", "/vintage_and_rare/settings", json=changes)  # type: ignore[no-any-return]


def item(site: RunningSandbox, item_id: int | str) -> dict[str, Any]:
    return site.control._call("GET", f"/vintage_and_rare/items/{item_id}")  # type: ignore[no-any-return]
