"""Discogs tests run over real HTTP against the Discogs sandbox on loopback. The sandbox's rate-limit
window is one second (60 requests per second) instead of Discogs' minute, so paced tests stay quick."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
from sqlalchemy.orm import Session

from riff.channels import service
from riff.channels.discogs.adapter import DiscogsChannel
from riff.channels.models import ChannelAccount
from riff.channels.schemas import AccountCreate
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

SEED_SIZE = 538  # the record shop's inventory in the reference document
SMALL_SEED_SIZE = 150
WINDOW_SECONDS = 1.0
USER_AGENT = "RiffTests/1.0 +https://riff.example"
CONFIG = {"username": "riff_records", "user_agent": USER_AGENT, "rate_limit_window_seconds": WINDOW_SECONDS}
INVENTORY = "/users/riff_records/inventory"


def _running(
    tmp_path_factory: pytest.TempPathFactory, name: str, seed_size: int
) -> AbstractContextManager[RunningSandbox]:
    return running(
        "discogs",
        tmp_path_factory.mktemp(name),
        seed_size=seed_size,
        rate_limit_window_seconds=WINDOW_SECONDS,
    )


@pytest.fixture(scope="module")
def module_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    with _running(tmp_path_factory, "discogs", SEED_SIZE) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(module_sandbox: RunningSandbox) -> RunningSandbox:
    module_sandbox.control.reset()
    return module_sandbox


@pytest.fixture(scope="module")
def module_small_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """150 listings (2 pages): for behaviour that does not need the full inventory."""
    with _running(tmp_path_factory, "discogs-small", SMALL_SEED_SIZE) as sandbox:
        yield sandbox


@pytest.fixture
def small_sandbox(module_small_sandbox: RunningSandbox) -> RunningSandbox:
    module_small_sandbox.control.reset()
    return module_small_sandbox


def make_channel(sandbox: RunningSandbox, **config: Any) -> DiscogsChannel:
    return DiscogsChannel(
        config={**CONFIG, **config}, secrets={"token": sandbox.token or ""}, base_url=sandbox.api_base_url
    )


def create_discogs_account(
    session: Session, master_key: bytes, *, base_url: str, token: str, config: dict[str, Any] | None = None
) -> ChannelAccount:
    return service.create_account(
        session,
        SecretBox(master_key),
        AccountCreate(
            channel="discogs",
            name="default",
            base_url=base_url,
            is_sandbox=True,
            config={**CONFIG, **(config or {})},
            secrets={"token": token},
        ),
    )


@pytest.fixture
def account_id(database: Database, settings: Settings, sandbox: RunningSandbox) -> int:
    with database.session() as session:
        return create_discogs_account(
            session, load_secret_key(settings), base_url=sandbox.api_base_url, token=sandbox.token or ""
        ).id


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    import riff.channels.discogs.tasks  # noqa: F401 - registers the discogs.* handlers
    from riff.jobs.config import JobsSettings
    from riff.jobs.worker import Worker

    # The job engine's own limiter would space requests 1 s apart (Discogs' real rate); the sandbox's
    # window is a second here, so give the bucket the same scale.
    jobs_settings = JobsSettings(rate_limits={"discogs": {"rate": 60.0, "burst": 60.0}})
    return Worker(
        database,
        settings,
        jobs_settings=jobs_settings,
        with_scheduler=False,
        import_handlers=False,
        concurrency=1,
    )
