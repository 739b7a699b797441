"""Reverb tests run over real HTTP against the Reverb sandbox on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from riff.channels.reverb.adapter import ReverbChannel
from riff.core.db import Database
from riff.core.security import load_secret_key
from riff.core.settings import Settings

if TYPE_CHECKING:
    from riff_sandbox.runner import RunningSandbox

from ..factories import create_reverb_account

FAST_POLL = {"publish_poll_attempts": 20, "publish_poll_interval_seconds": 0.05}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("reverb", tmp_path / "sandbox", seed_size=0) as started:
        yield started


def make_channel(sandbox: RunningSandbox, **config: Any) -> ReverbChannel:
    return ReverbChannel(
        config={"currency": "GBP", "shipping_profile_id": "15655", **FAST_POLL, **config},
        secrets={"token": sandbox.token or "sandbox-reverb-token"},
        base_url=sandbox.api_base_url,
    )


@pytest.fixture
def account_id(database: Database, settings: Settings, sandbox: RunningSandbox) -> int:
    with database.session() as session:
        account = create_reverb_account(
            session,
            load_secret_key(settings),
            base_url=sandbox.api_base_url,
            token=sandbox.token or "sandbox-reverb-token",
            config=FAST_POLL,
        )
        return account.id


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    import riff.channels.reverb.tasks  # noqa: F401 - registers the reverb.* handlers
    from riff.jobs.worker import Worker

    return Worker(database, settings, with_scheduler=False, concurrency=1)
