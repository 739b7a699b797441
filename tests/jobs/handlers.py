"""Handlers for job-engine tests, importable by worker subprocesses as ``jobs.handlers``
(with ``tests/`` on ``PYTHONPATH``, the same name pytest gives it).

``test.record`` writes its side effect into ``job_effects`` keyed by (job id, attempt), idempotently, so a
test can count how often each job's handler ran and which attempt completed it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from riff.core.db import Database
from riff.jobs import HookContext, JobContext, job_handler, on_worker_shutdown

EFFECTS_TABLE = "job_effects"
HOOK_FILE_ENV = "RIFF_TEST_SHUTDOWN_HOOK_FILE"


def create_effects_table(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {EFFECTS_TABLE}")
        conn.exec_driver_sql(
            f"CREATE TABLE {EFFECTS_TABLE} (job_id BIGINT NOT NULL, attempt INTEGER NOT NULL, "
            "worker VARCHAR(200) NOT NULL, PRIMARY KEY (job_id, attempt))"
        )


def drop_effects_table(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {EFFECTS_TABLE}")


def effects(database: Database) -> list[tuple[int, int, str]]:
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT job_id, attempt, worker FROM {EFFECTS_TABLE}").all()
    return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]


def _record(ctx: JobContext) -> None:
    # The handler's own unit of work, through Core to keep thousands of them cheap.
    with ctx.database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Durable against worker kills (what these tests do); not waiting for the disk keeps them fast.
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        conn.execute(
            sa.text(
                f"INSERT INTO {EFFECTS_TABLE} (job_id, attempt, worker) VALUES (:job_id, :attempt, :worker) "
                "ON CONFLICT DO NOTHING"
            ),
            {"job_id": ctx.job_id, "attempt": ctx.attempt, "worker": ctx.worker_id},
        )


@job_handler("test.noop")
def noop(ctx: JobContext) -> None:
    return None


@job_handler("test.record", max_attempts=50)
def record(ctx: JobContext) -> dict[str, Any]:
    time.sleep(float(ctx.payload.get("sleep", 0)))
    _record(ctx)
    return {"attempt": ctx.attempt}


@job_handler("test.async_record", max_attempts=50)
async def async_record(ctx: JobContext) -> dict[str, Any]:
    await asyncio.sleep(float(ctx.payload.get("sleep", 0)))
    await asyncio.to_thread(_record, ctx)
    return {"attempt": ctx.attempt}


@job_handler("test.slow")
def slow(ctx: JobContext) -> dict[str, Any]:
    deadline = time.monotonic() + float(ctx.payload.get("seconds", 1))
    while time.monotonic() < deadline:
        time.sleep(0.05)
    _record(ctx)
    return {"slept": ctx.payload.get("seconds", 1)}


@on_worker_shutdown
def _write_hook_file(ctx: HookContext) -> None:
    path = os.environ.get(HOOK_FILE_ENV)
    if path:
        Path(path).write_text(f"shutdown hook ran in {ctx.worker_id}\n")
