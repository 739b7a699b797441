"""eBay tests run over real HTTP against the eBay sandbox on loopback (Trading API + OAuth endpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from riff.channels import service
from riff.channels.contract import ProductSnapshot
from riff.channels.ebay.adapter import EbayChannel
from riff.channels.http import RequestCounters
from riff.channels.schemas import AccountCreate
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff_sandbox.ebay import consts as sandbox_consts

if TYPE_CHECKING:
    from riff_sandbox.runner import RunningSandbox

from ..factories import WEBHOOK_TOKEN, product_snapshot

SHIPPING_PROFILE = "252277357017"
RETURN_PROFILE = "252277356017"
CONFIG: dict[str, Any] = {
    "shipping_profile_id": SHIPPING_PROFILE,
    "return_profile_id": RETURN_PROFILE,
    "postal_code": "WC2H 8NA",
}
SECRETS: dict[str, str] = {
    "client_id": sandbox_consts.APP_ID,
    "client_secret": sandbox_consts.CERT_ID,
    "dev_id": sandbox_consts.DEV_ID,
    "refresh_token": sandbox_consts.DEFAULT_REFRESH_TOKEN,
}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("ebay", tmp_path / "sandbox", seed_size=0) as started:
        yield started


def make_channel(
    sandbox: RunningSandbox,
    *,
    secrets: dict[str, str] | None = None,
    counters: RequestCounters | None = None,
    **config: Any,
) -> EbayChannel:
    return EbayChannel(
        config={**CONFIG, **config},
        secrets=secrets if secrets is not None else SECRETS,
        base_url=sandbox.api_base_url,
        counters=counters,
    )


def product(sku: str = "RIFF-T-0001", **overrides: Any) -> ProductSnapshot:
    values = {"product_id": 7, "description": "<p>Refretted in 1990; original pickups.</p>", **overrides}
    return product_snapshot(sku, **values)


def create_ebay_account(
    database: Database, settings: Settings, sandbox: RunningSandbox, **config: Any
) -> int:
    with database.session() as session:
        account = service.create_account(
            session,
            SecretBox(load_secret_key(settings)),
            AccountCreate(
                channel="ebay",
                base_url=sandbox.api_base_url,
                is_sandbox=True,
                config={**CONFIG, **config},
                secrets={**SECRETS, "webhook_token": WEBHOOK_TOKEN},
            ),
        )
        return account.id


@pytest.fixture
def account_id(database: Database, settings: Settings, sandbox: RunningSandbox) -> int:
    return create_ebay_account(database, settings, sandbox)


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    import riff.channels.ebay.tasks  # noqa: F401 - registers the ebay.* handlers
    from riff.jobs.worker import Worker

    return Worker(database, settings, with_scheduler=False, import_handlers=False, concurrency=1)


def calls(sandbox: RunningSandbox, call_name: str | None = None) -> list[dict[str, Any]]:
    """Trading API requests in the sandbox's log (optionally of one call)."""
    found = sandbox.control.requests(path_prefix="/ws/api.dll")
    if call_name is None:
        return found
    return [r for r in found if r["headers"].get("x-ebay-api-call-name") == call_name]
