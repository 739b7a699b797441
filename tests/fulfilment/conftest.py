"""Fulfilment tests: RIFF against the DHL sandbox and the Reverb sandbox over loopback HTTP, jobs run by
an in-process worker, on both databases. Sandboxes are started once per module and reset per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from riff.core.db import Database
from riff.core.security import load_secret_key
from riff.core.settings import Settings
from riff.fulfilment.settings import reset_fulfilment_settings

if TYPE_CHECKING:
    from riff_sandbox.runner import RunningSandbox

from .factories import create_account

FAST_POLL = {"publish_poll_attempts": 20, "publish_poll_interval_seconds": 0.05}


@pytest.fixture(scope="module")
def dhl_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running("dhl", tmp_path_factory.mktemp("dhl"), tracking_step_seconds=3600) as started:
        yield started


@pytest.fixture
def dhl(dhl_module: RunningSandbox) -> RunningSandbox:
    dhl_module.control.reset()
    return dhl_module


@pytest.fixture(scope="module")
def reverb_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from riff_sandbox.testing import running

    with running(
        "reverb", tmp_path_factory.mktemp("reverb"), seed_size=0, publish_delay_seconds=0
    ) as started:
        yield started


@pytest.fixture
def reverb(reverb_module: RunningSandbox) -> RunningSandbox:
    reverb_module.control.reset(seed_size=0)
    return reverb_module


@pytest.fixture
def fulfilment_env(monkeypatch: pytest.MonkeyPatch, dhl: RunningSandbox) -> Iterator[dict[str, str]]:
    """RIFF's fulfilment settings pointed at the DHL sandbox (the environment, as in production)."""
    key, secret = (dhl.token or ":").split(":", 1)
    values = {
        "RIFF_DHL_BASE_URL": dhl.api_base_url,
        "RIFF_DHL_API_KEY": key,
        "RIFF_DHL_API_SECRET": secret,
        "RIFF_DHL_ACCOUNT_NUMBER": "123456789",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RIFF_ALERT_URLS", raising=False)
    reset_fulfilment_settings()
    yield values
    reset_fulfilment_settings()


@pytest.fixture
def reverb_account(database: Database, settings: Settings, reverb: RunningSandbox) -> int:
    with database.session() as session:
        return create_account(
            session,
            load_secret_key(settings),
            "reverb",
            base_url=reverb.api_base_url,
            config={"currency": "GBP", "shipping_profile_id": "15655", **FAST_POLL},
            secrets={"token": reverb.token or ""},
        ).id


@pytest.fixture
def worker(database: Database, settings: Settings) -> Any:
    import riff.channels.reverb.tasks  # noqa: F401 - registers the reverb.* handlers
    import riff.fulfilment.tasks  # noqa: F401 - registers the fulfilment.* handlers
    from riff.jobs.worker import Worker

    return Worker(database, settings, with_scheduler=False, concurrency=1)


def jobs(database: Database, kind: str) -> list[Any]:
    from riff.jobs.models import Job

    with database.read_session() as session:
        found = list(session.scalars(sa.select(Job).where(Job.kind == kind).order_by(Job.id)))
        for job in found:
            session.expunge(job)
        return found


def data_dir(settings: Settings) -> Path:
    return Path(settings.data_dir)
