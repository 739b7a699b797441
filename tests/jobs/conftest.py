"""Fixtures for job-engine tests: fast engine settings, the side-effect table, worker subprocesses."""

from __future__ import annotations

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

from riff.core.db import Database
from riff.jobs.config import JobsSettings
from riff.jobs.models import Job

from . import handlers

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def jobs_settings() -> JobsSettings:
    return JobsSettings(
        lease_seconds=2.0,
        sweep_seconds=0.5,
        poll_seconds=0.5,
        backoff_base_seconds=10.0,
        backoff_max_seconds=3600.0,
        backoff_jitter=0.25,
        schedules={},
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def effects_table(database: Database) -> Iterator[Callable[[], list[tuple[int, int, str]]]]:
    handlers.create_effects_table(database)
    yield lambda: handlers.effects(database)
    handlers.drop_effects_table(database)


def jobs_by_id(database: Database) -> dict[int, Job]:
    with database.session() as session:
        return {job.id: job for job in session.scalars(sa.select(Job).order_by(Job.id))}


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


class WorkerProcesses:
    """Worker subprocesses started like production (``python -m riff.jobs.worker_main``)."""

    def __init__(self, database: Database, tmp_path: Path) -> None:
        self.database = database
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    def start(
        self, *, concurrency: int = 2, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> subprocess.Popen[bytes]:
        environment = {
            **os.environ,
            "RIFF_DATABASE_URL": self.database.url,
            "RIFF_DATA_DIR": str(self.tmp_path / "data"),
            "RIFF_LOG_LEVEL": "WARNING",
            "RIFF_JOBS_LEASE_SECONDS": "2",
            "RIFF_JOBS_SWEEP_SECONDS": "0.5",
            "RIFF_JOBS_POLL_SECONDS": "0.5",
            "RIFF_JOBS_BACKOFF_BASE_SECONDS": "0.05",
            "RIFF_JOBS_BACKOFF_MAX_SECONDS": "0.5",
            # tests/jobs is the package ``jobs`` here, as under pytest (a top-level ``tests`` package that
            # a dependency ships would shadow ``tests.jobs``).
            "PYTHONPATH": str(REPO_ROOT / "tests"),
            **(env or {}),
        }
        log_path = self.tmp_path / f"worker-{len(self.processes)}.log"
        log_file = log_path.open("wb")
        self._logs.append(log_file)
        command = [
            sys.executable,
            "-m",
            "riff.jobs.worker_main",
            "--concurrency",
            str(concurrency),
            "--no-discover",
            "--import",
            "jobs.handlers",
            *args,
        ]
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def log_text(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in sorted(self.tmp_path.glob("worker-*.log"))
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log_file in self._logs:
            log_file.close()


@pytest.fixture
def worker_processes(database: Database, tmp_path: Path) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(database, tmp_path)
    yield processes
    processes.stop_all()
