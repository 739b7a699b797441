"""Contract tests: Shopify's documented examples (data/, copied from shared/reference/api_samples/shopify)
sent to the Shopify sandbox over loopback HTTP; answers must have the documented shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def documented_path(url: str) -> str:
    """https://{shop}.myshopify.com/admin/api/2025-10/graphql.json -> /admin/api/2025-10/graphql.json"""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.fixture(scope="module")
def module_shopify(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with running("shopify", tmp_path_factory.mktemp("shopify"), seed_size=30) as sandbox:
        yield sandbox


@pytest.fixture
def shopify(module_shopify: RunningSandbox) -> RunningSandbox:
    module_shopify.control.reset()
    return module_shopify


@pytest.fixture
def http(shopify: RunningSandbox) -> Iterator[httpx.Client]:
    """Sends the documented headers, with the sandbox's token in place of ``shpat_<...>``."""
    headers = {"Content-Type": "application/json", "X-Shopify-Access-Token": shopify.token or ""}
    with httpx.Client(base_url=shopify.base_url, headers=headers, timeout=TIMEOUT, trust_env=False) as client:
        yield client


def call(http: httpx.Client, request: dict[str, Any], **variables: Any) -> httpx.Response:
    """Send a documented ``_request`` (its URL path and body), with some variables replaced."""
    body = dict(request["body"])
    body["variables"] = {**(body.get("variables") or {}), **variables}
    return http.post(documented_path(request["url"]), json=body)


def query(http: httpx.Client, document: str, version: str = "2026-04", **variables: Any) -> dict[str, Any]:
    response = http.post(
        f"/admin/api/{version}/graphql.json", json={"query": document, "variables": variables}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
