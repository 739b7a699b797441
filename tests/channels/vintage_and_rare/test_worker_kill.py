"""A worker killed with SIGKILL at the worst moments loses nothing: real ``riff worker`` subprocesses, the
V&R sandbox, the database (both backends)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.channels.models import Listing, ListingState
from riff.core.db import Database
from riff.core.settings import Settings
from riff.jobs.models import Job
from riff_sandbox.runner import RunningSandbox

from .conftest import creates, exports, sandbox_items, sandbox_settings
from .factories import create_product

pytestmark = pytest.mark.slow

WAIT_SECONDS = 60.0


def _job(database: Database, kind: str) -> Job | None:
    with database.read_session() as session:
        job = session.scalars(sa.select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(1)).first()
        if job is not None:
            session.expunge(job)
        return job


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def spawn_worker(
    settings: Settings, database: Database, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def spawn() -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "RIFF_DATABASE_URL": database.url,
            "RIFF_SECRET_KEY": settings.secret_key.get_secret_value() if settings.secret_key else "",
            "RIFF_DATA_DIR": str(settings.data_dir),
            "RIFF_LOG_LEVEL": "WARNING",
            "RIFF_JOBS_LEASE_SECONDS": "2",
            "RIFF_JOBS_SWEEP_SECONDS": "0.5",
            "RIFF_JOBS_POLL_SECONDS": "0.2",
            "RIFF_JOBS_BACKOFF_BASE_SECONDS": "0.2",
            "RIFF_JOBS_RATE_LIMITS": json.dumps({"vintage_and_rare": {"rate": 1000, "burst": 1000}}),
        }
        log = (tmp_path / f"worker-{len(started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "riff.jobs.worker_main", "--concurrency", "1", "--no-scheduler"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield spawn
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _publish(client: TestClient, database: Database) -> int:
    with database.session() as session:
        product_id = create_product(session, sku="RIFF-KILL-1", model="Jazzmaster").id
    assert client.post(f"/api/products/{product_id}/listings/vintage_and_rare").status_code == 202
    return product_id


def _listing(database: Database) -> Listing:
    with database.read_session() as session:
        listing = session.scalars(sa.select(Listing).where(Listing.channel == "vintage_and_rare")).one()
        session.expunge(listing)
        return listing


def _kill(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def test_killed_while_the_form_is_submitted(
    owner_client: TestClient,
    database: Database,
    sandbox: RunningSandbox,
    account_id: int,
    spawn_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    """The site saved the item; the worker dies before it hears back. The restarted job resumes from its
    write-ahead criteria: no second listing, and the next batch finds the id."""
    sandbox_settings(sandbox, create_seconds=30)
    _publish(owner_client, database)
    first = spawn_worker()
    # The site stores the item, then takes 30 s to answer: kill the worker in between.
    _wait(lambda: len(sandbox_items(sandbox, external_id="RIFF-KILL-1")) == 1, "the item on the site")
    _kill(first)
    job = _job(database, "vintage_and_rare.publish")
    assert job is not None and job.status == "in_progress" and job.payload["submission_started"]
    sandbox_settings(sandbox, create_seconds=0)
    spawn_worker()
    _wait(lambda: (_job(database, "vintage_and_rare.publish") or job).status == "completed", "the id")
    listing = _listing(database)
    assert listing.state == ListingState.LIVE and listing.remote_id == "120021"
    assert len(sandbox_items(sandbox, external_id="RIFF-KILL-1")) == 1  # submitted once, ever
    assert exports(sandbox) == 1


def test_killed_while_the_batch_downloads_the_export(
    owner_client: TestClient,
    database: Database,
    sandbox: RunningSandbox,
    account_id: int,
    spawn_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    """Created, pending, the batch is mid-download: the job stays ``completed_pending_id`` and the restarted
    worker's batch resolves it."""
    sandbox_settings(sandbox, export_seconds=60)
    _publish(owner_client, database)
    first = spawn_worker()
    _wait(lambda: bool(sandbox.control.requests(path_prefix="/instruments/export_inventory")), "the download")
    _kill(first)
    job = _job(database, "vintage_and_rare.publish")
    assert job is not None and job.status == "completed_pending_id"
    assert job.payload["match_criteria"]["model"] == "Jazzmaster"
    sandbox_settings(sandbox, export_seconds=0)
    spawn_worker()
    _wait(lambda: (_job(database, "vintage_and_rare.publish") or job).status == "completed", "the id")
    assert _listing(database).remote_id == "120021" and creates(sandbox) == 1
