"""Shopify tests run over real HTTP against the Shopify sandbox on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest

from riff.channels import service
from riff.channels.contract import ProductSnapshot
from riff.channels.http import RequestCounters
from riff.channels.schemas import AccountCreate
from riff.channels.shopify.adapter import ShopifyChannel
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings

if TYPE_CHECKING:
    from riff_sandbox.runner import RunningSandbox

from ..factories import product_snapshot
from ..helpers import run_scenario

T = TypeVar("T")
CLIENT_SECRET = "sandbox-shopify-client-secret"  # the sandbox's default; it signs the webhooks it sends
WEBHOOK_TOKEN = "shopify-hook-path-token-abcdefghijklmnop"
API_VERSION = "2026-04"


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("shopify", tmp_path_factory.mktemp("shopify"), seed_size=0) as started:
        yield started


@pytest.fixture
def sandbox(module_sandbox: RunningSandbox) -> RunningSandbox:
    module_sandbox.control.reset()  # empty shop, faults off, a full cost bucket, no webhook registrations
    return module_sandbox


PRIMARY_LOCATION = "gid://shopify/Location/76543210"  # the sandbox shop's first location


def make_channel(
    sandbox: RunningSandbox, *, counters: RequestCounters | None = None, **config: Any
) -> ShopifyChannel:
    """A channel as a saved account has it: location known (pass ``location_id=None`` to discover it)."""
    return ShopifyChannel(
        config={"currency": "GBP", "location_id": PRIMARY_LOCATION, **config},
        secrets={"token": sandbox.token or "", "client_secret": CLIENT_SECRET},
        base_url=sandbox.api_base_url,
        counters=counters,
    )


def run(sandbox: RunningSandbox, scenario: Callable[[ShopifyChannel], Awaitable[T]], **config: Any) -> T:
    return run_scenario(lambda: make_channel(sandbox, **config), scenario)


TELECASTER: dict[str, Any] = {
    "title": "Fender Telecaster 1968 - Olympic White",
    "model": "Telecaster",
    "year": 1968,
    "finish": "Olympic White",
    "description": "<p>1968 Fender Telecaster, all original.</p>",
    "price": Decimal("11999.00"),
    "category_slug": "electric-guitars",
}


def product(sku: str = "RIFF-S-0001", **overrides: Any) -> ProductSnapshot:
    return product_snapshot(sku, **(TELECASTER | overrides))


def graphql(
    sandbox: RunningSandbox, query: str, version: str = API_VERSION, **variables: Any
) -> dict[str, Any]:
    """A raw Admin API call (for checking the sandbox's state); returns the whole body."""
    with httpx.Client(base_url=sandbox.base_url, timeout=10, trust_env=False) as client:
        response = client.post(
            f"/admin/api/{version}/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": sandbox.token or ""},
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]


PRODUCT_QUERY = """query($id: ID!) { product(id: $id) {
  id title status vendor productType tags descriptionHtml
  media(first: 10) { nodes { ... on MediaImage { image { url } } } }
  variants(first: 1) { nodes { sku price inventoryQuantity inventoryItem { tracked } } }
} }"""


def remote_product(sandbox: RunningSandbox, product_id: str) -> dict[str, Any]:
    return graphql(sandbox, PRODUCT_QUERY, id=product_id)["data"]["product"]  # type: ignore[no-any-return]


def set_throttle(sandbox: RunningSandbox, **values: float) -> dict[str, Any]:
    """Shape the sandbox's cost bucket: maximum_available, currently_available, restore_rate."""
    response = httpx.post(
        f"{sandbox.base_url}/_sandbox/shopify/throttle", json=values, timeout=10, trust_env=False
    )
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


def operations(sandbox: RunningSandbox) -> list[str]:
    """The operation names of RIFF's GraphQL requests the sandbox received, in order (the tests' own
    unnamed read-backs are left out)."""
    names = [
        (r["body"] or {}).get("operationName") for r in sandbox.control.requests(path_prefix="/admin/api")
    ]
    return [str(name) for name in names if name]


def numeric(gid: str) -> str:
    """gid://shopify/Product/123 -> 123 (the control API takes ids in its path)."""
    return gid.rsplit("/", 1)[-1]


def create_shopify_account(
    session: Any, master_key: bytes, *, base_url: str, token: str, config: dict[str, Any] | None = None
) -> Any:
    return service.create_account(
        session,
        SecretBox(master_key),
        AccountCreate(
            channel="shopify",
            name="default",
            base_url=base_url,
            is_sandbox=True,
            config={"currency": "GBP", **(config or {})},
            secrets={"token": token, "client_secret": CLIENT_SECRET, "webhook_token": WEBHOOK_TOKEN},
        ),
    )


@pytest.fixture
def account_id(database: Database, settings: Settings, sandbox: RunningSandbox) -> int:
    with database.session() as session:
        account = create_shopify_account(
            session, load_secret_key(settings), base_url=sandbox.api_base_url, token=sandbox.token or ""
        )
        return int(account.id)


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    import riff.channels.shopify.tasks  # noqa: F401 - registers the shopify.* handlers
    from riff.jobs.worker import Worker

    return Worker(database, settings, with_scheduler=False, import_handlers=False, concurrency=1)
