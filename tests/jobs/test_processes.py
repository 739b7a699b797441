"""Real worker processes: SIGTERM mid-job, several processes sharing one queue, SIGKILL chaos, and the
scheduler across processes. Workers start as in production: ``python -m riff.jobs.worker_main``."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from riff.core.db import Database
from riff.jobs import Priority, service
from riff.jobs.models import Job

from . import handlers
from .conftest import WorkerProcesses, jobs_by_id, wait_for

POSTGRES_URL = os.environ.get("RIFF_TEST_POSTGRES_URL")
Effects = Callable[[], list[tuple[int, int, str]]]


def _enqueue_many(database: Database, count: int, kind: str = "test.record", **payload: object) -> list[int]:
    ids = []
    with database.session() as session:
        for _ in range(count):
            job = service.enqueue(session, kind, payload=dict(payload), priority=Priority.BULK)
            assert job is not None
            ids.append(job.id)
    return ids


def _status_counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        rows = session.execute(sa.select(Job.status, sa.func.count()).group_by(Job.status)).all()
    return {status: int(count) for status, count in rows}


def _all_completed(database: Database, total: int) -> Callable[[], bool]:
    return lambda: _status_counts(database).get("completed", 0) == total


def test_sigterm_mid_job_finishes_it_runs_hooks_and_exits(
    database: Database, worker_processes: WorkerProcesses, effects_table: Effects, tmp_path: Path
) -> None:
    hook_file = tmp_path / "hook.txt"
    with database.session() as session:
        running = service.enqueue(session, "test.slow", payload={"seconds": 1.5}, priority=Priority.URGENT)
        waiting = service.enqueue(session, "test.slow", payload={"seconds": 0.1}, priority=Priority.LOW)
    assert running is not None and waiting is not None
    process = worker_processes.start(
        concurrency=1, env={handlers.HOOK_FILE_ENV: str(hook_file)}, args=("--no-scheduler",)
    )
    wait_for(lambda: jobs_by_id(database)[running.id].status == "in_progress", 30, what="the job to start")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, worker_processes.log_text()
    jobs = jobs_by_id(database)
    assert (jobs[running.id].status, jobs[running.id].attempts) == ("completed", 1)
    assert jobs[waiting.id].status == "queued"  # no new claim after SIGTERM
    assert _status_counts(database).get("in_progress", 0) == 0
    assert [(job_id, attempt) for job_id, attempt, _ in effects_table()] == [(running.id, 1)]
    assert hook_file.read_text().startswith("shutdown hook ran in ")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_several_sqlite_worker_processes_claim_safely(
    database: Database, worker_processes: WorkerProcesses, effects_table: Effects
) -> None:
    ids = _enqueue_many(database, 300)
    for _ in range(3):
        worker_processes.start(concurrency=2, args=("--no-scheduler",))
    wait_for(_all_completed(database, 300), 90, what="300 jobs", interval=0.2)
    _assert_each_ran_once(database, ids, effects_table(), min_workers=2)


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES_URL, reason="needs RIFF_TEST_POSTGRES_URL")
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_four_postgres_worker_processes_finish_2000_jobs_exactly_once(
    database: Database, worker_processes: WorkerProcesses, effects_table: Effects
) -> None:
    ids = _enqueue_many(database, 2000)
    for _ in range(4):
        worker_processes.start(concurrency=4, args=("--no-scheduler",))
    wait_for(_all_completed(database, 2000), 120, what="2000 jobs", interval=0.25)
    _assert_each_ran_once(database, ids, effects_table(), min_workers=4)


def _assert_each_ran_once(
    database: Database, ids: list[int], effects: list[tuple[int, int, str]], min_workers: int
) -> None:
    jobs = jobs_by_id(database)
    assert sorted(jobs) == sorted(ids)
    assert {job.status for job in jobs.values()} == {"completed"}
    assert {job.attempts for job in jobs.values()} == {1}
    assert len(effects) == len(ids)  # zero duplicates ...
    assert sorted(job_id for job_id, _, _ in effects) == sorted(ids)  # ... and zero losses
    assert len({worker for _, _, worker in effects}) >= min_workers  # the work really was shared


@pytest.mark.slow
def test_chaos_sigkill_twenty_times_while_300_jobs_run(
    database: Database, worker_processes: WorkerProcesses, effects_table: Effects
) -> None:
    """Two worker processes; one of them is SIGKILLed at a random moment and restarted, 20 times.
    Every job must end completed exactly once: no job lost, none completed twice."""
    rng = random.Random(20261121)
    ids = []
    with database.session() as session:
        for _ in range(300):
            job = service.enqueue(session, "test.record", payload={"sleep": round(rng.uniform(0.1, 0.35), 3)})
            assert job is not None
            ids.append(job.id)
    live = [worker_processes.start(concurrency=4, args=("--no-scheduler",)) for _ in range(2)]
    wait_for(lambda: _status_counts(database).get("in_progress", 0) > 0, 30, what="work to start")
    kills = 0
    while kills < 20:
        time.sleep(rng.uniform(0.2, 0.7))
        victim = live.pop(rng.randrange(len(live)))
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        kills += 1
        live.append(worker_processes.start(concurrency=4, args=("--no-scheduler",)))
    remaining_at_last_kill = sum(n for status, n in _status_counts(database).items() if status != "completed")
    wait_for(_all_completed(database, 300), 120, what="300 jobs after the chaos", interval=0.25)

    jobs = jobs_by_id(database)
    effects = effects_table()
    by_job: dict[int, set[int]] = collections.defaultdict(set)
    for job_id, attempt, _ in effects:
        by_job[job_id].add(attempt)
    assert {job.status for job in jobs.values()} == {"completed"}
    assert sorted(by_job) == sorted(ids)  # nothing lost
    for job in jobs.values():
        # The attempt that completed the job did its work, and recorded its result.
        assert job.attempts in by_job[job.id] and job.result == {"attempt": job.attempts}
        assert by_job[job.id] <= set(range(1, job.attempts + 1))
    interrupted = sum(len(attempts) - 1 for attempts in by_job.values())
    rerun_jobs = sum(1 for job in jobs.values() if job.attempts > 1)
    # Re-runs only come from kills: each kill interrupts at most the victim's 4 running jobs.
    assert interrupted <= 20 * 4 and rerun_jobs <= 20 * 4
    assert rerun_jobs > 0, "the kills never landed mid-job; the test proved nothing"
    assert remaining_at_last_kill > 0, "the jobs finished before the chaos ended; the test proved nothing"


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES_URL, reason="needs RIFF_TEST_POSTGRES_URL")
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_three_worker_processes_fire_each_schedule_once(
    database: Database, worker_processes: WorkerProcesses, effects_table: Effects
) -> None:
    schedules = json.dumps({"every_second": {"cron": "* * * * * */1", "kind": "test.record"}})
    processes = [
        worker_processes.start(concurrency=2, env={"RIFF_JOBS_SCHEDULES": schedules}) for _ in range(3)
    ]
    wait_for(lambda: len(jobs_by_id(database)) >= 5, 30, what="five fire times", interval=0.1)
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        assert process.wait(timeout=30) == 0
    jobs = list(jobs_by_id(database).values())
    fire_times = [job.payload["fire_time"] for job in jobs]
    assert len(fire_times) == len(set(fire_times)), "a fire time was enqueued twice"
    assert {job.status for job in jobs} == {"completed"}
    # Consecutive seconds with no gaps (the first fire time after the baseline onward).
    seconds = sorted(int(time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))) for t in fire_times)
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))
