"""The worker in-process: outcomes, retries and backoff (frozen clock), leases, wake-ups, shutdown."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings
from riff.jobs import (
    HookContext,
    JobContext,
    JobLeaseLost,
    PermanentJobError,
    Priority,
    RetryableJobError,
    Worker,
    job_handler,
    on_worker_shutdown,
    service,
)
from riff.jobs.config import JobsSettings
from riff.jobs.models import Job
from riff.jobs.registry import Backoff, remove_shutdown_hook

from .conftest import jobs_by_id, wait_for

calls: list[tuple[str, int, int]] = []  # (kind, job id, attempt)


class ChannelStyleError(Exception):
    """Shaped like riff.channels.errors: only the two attributes the engine reads."""

    def __init__(self, message: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


ERRORS: dict[str, Any] = {
    "unknown": lambda p: ValueError("unexpected response shape"),
    "permanent": lambda p: PermanentJobError("Reverb rejected the listing: make is required"),
    "retryable": lambda p: RetryableJobError("try later", retry_after=p.get("retry_after")),
    "channel_429": lambda p: ChannelStyleError("429 Too Many Requests", True, p.get("retry_after")),
    "channel_auth": lambda p: ChannelStyleError("401 token expired", False),
}


@job_handler("tw.raise", max_attempts=4)
def raise_error(ctx: JobContext) -> None:
    calls.append((ctx.kind, ctx.job_id, ctx.attempt))
    raise ERRORS[ctx.payload["error"]](ctx.payload)


@job_handler("tw.ok")
def succeed(ctx: JobContext) -> dict[str, Any]:
    calls.append((ctx.kind, ctx.job_id, ctx.attempt))
    return {"echo": ctx.payload}


@job_handler("tw.async")
async def succeed_async(ctx: JobContext) -> dict[str, Any]:
    await asyncio.sleep(0)
    calls.append((ctx.kind, ctx.job_id, ctx.attempt))
    return {"thread": threading.current_thread().name}


@job_handler("tw.async_slow", timeout_seconds=0.2)
async def too_slow(ctx: JobContext) -> None:
    await asyncio.sleep(5)


@job_handler("tw.pending")
def pending(ctx: JobContext) -> Any:
    return ctx.pending_id({"match_criteria": {"brand": "Fender"}})


@job_handler("tw.heartbeat")
def heartbeat(ctx: JobContext) -> None:
    ctx.heartbeat()


@job_handler("tw.sleep")
def sleep(ctx: JobContext) -> dict[str, Any]:
    time.sleep(float(ctx.payload.get("seconds", 0.5)))
    calls.append((ctx.kind, ctx.job_id, ctx.attempt))
    return {"stopped_early": ctx.stop_requested}


@job_handler("tw.custom_backoff", max_attempts=3, backoff=Backoff(base_seconds=1, factor=3, jitter=0))
def custom_backoff(ctx: JobContext) -> None:
    raise RuntimeError("flaky")


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls.clear()


@pytest.fixture
def worker(database: Database, settings: Settings, jobs_settings: JobsSettings) -> Worker:
    return Worker(
        database,
        settings,
        jobs_settings=jobs_settings,
        with_scheduler=False,
        import_handlers=False,
        worker_id="test-worker",
    )


def _enqueue(database: Database, kind: str, **kwargs: Any) -> Job:
    with database.session() as session:
        job = service.enqueue(session, kind, **kwargs)
    assert job is not None
    return job


def _job(database: Database, job_id: int) -> Job:
    return jobs_by_id(database)[job_id]


class TestOutcomes:
    def test_success_stores_the_result(self, database: Database, worker: Worker) -> None:
        job = _enqueue(database, "tw.ok", payload={"sku": "RIFF-1"})
        assert worker.process_available() == 1
        stored = _job(database, job.id)
        assert (stored.status, stored.attempts, stored.result) == (
            "completed",
            1,
            {"echo": {"sku": "RIFF-1"}},
        )
        assert stored.finished_at is not None and stored.lease_owner is None

    def test_async_handlers_run_on_the_runner_threads_loop(
        self, database: Database, settings: Settings, jobs_settings: JobsSettings
    ) -> None:
        jobs = [_enqueue(database, "tw.async") for _ in range(3)]
        worker = Worker(
            database,
            settings,
            jobs_settings=jobs_settings,
            with_scheduler=False,
            import_handlers=False,
            concurrency=2,
        )
        worker.start_in_thread()
        try:
            wait_for(lambda: all(_job(database, j.id).status == "completed" for j in jobs), 10)
        finally:
            worker.stop(10)
        threads = {_job(database, j.id).result["thread"] for j in jobs}  # type: ignore[index]
        assert threads <= {"riff-job-runner-0", "riff-job-runner-1"}

    def test_permanent_error_fails_at_once_with_the_message(self, database: Database, worker: Worker) -> None:
        job = _enqueue(database, "tw.raise", payload={"error": "permanent"})
        worker.process_available()
        stored = _job(database, job.id)
        assert (stored.status, stored.attempts) == ("failed", 1)
        assert stored.last_error_message == "Reverb rejected the listing: make is required"
        assert stored.last_error_class == "riff.jobs.errors.PermanentJobError"
        assert stored.last_error_retryable is False

    def test_channel_auth_error_is_permanent_and_keeps_its_class(
        self, database: Database, worker: Worker
    ) -> None:
        job = _enqueue(database, "tw.raise", payload={"error": "channel_auth"})
        worker.process_available()
        stored = _job(database, job.id)
        assert (stored.status, stored.last_error_message) == ("failed", "401 token expired")
        assert stored.last_error_class is not None and stored.last_error_class.endswith(".ChannelStyleError")

    def test_pending_id_result(self, database: Database, worker: Worker) -> None:
        job = _enqueue(database, "tw.pending")
        worker.process_available()
        stored = _job(database, job.id)
        assert (stored.status, stored.finished_at) == ("completed_pending_id", None)
        with database.session() as session:
            assert service.resolve_pending_id(session, job.id, {"vr_id": "123"})
        assert (_job(database, job.id).status, _job(database, job.id).result) == (
            "completed",
            {"vr_id": "123"},
        )

    def test_async_timeout_is_retryable(self, database: Database, worker: Worker) -> None:
        job = _enqueue(database, "tw.async_slow")
        worker.process_available(max_jobs=1)
        stored = _job(database, job.id)
        assert (stored.status, stored.last_error_class) == ("queued", "riff.jobs.errors.JobTimeout")

    def test_unknown_kind_fails_permanently(
        self, database: Database, settings: Settings, jobs_settings: JobsSettings
    ) -> None:
        job = _enqueue(database, "nobody.handles_this")
        worker = Worker(
            database,
            settings,
            jobs_settings=jobs_settings,
            with_scheduler=False,
            import_handlers=False,
            kinds=["nobody.handles_this"],
        )
        worker.process_available()
        stored = _job(database, job.id)
        assert (stored.status, stored.last_error_class) == ("failed", "riff.jobs.errors.UnknownJobKind")

    def test_workers_leave_kinds_without_a_handler_queued(self, database: Database, worker: Worker) -> None:
        job = _enqueue(database, "nobody.handles_this")
        assert worker.process_available() == 0
        assert _job(database, job.id).status == "queued"


def test_the_prune_job_deletes_old_finished_jobs(
    database: Database, worker: Worker, frozen_clock: FrozenClock
) -> None:
    import riff.jobs.tasks  # noqa: F401 - registers jobs.prune (workers import every tasks module)

    old = [_enqueue(database, "tw.ok") for _ in range(3)]
    failed = _enqueue(database, "tw.raise", payload={"error": "permanent"})
    worker.process_available()
    frozen_clock.advance(days=15)
    prune = _enqueue(database, "jobs.prune")
    worker.process_available()
    jobs = jobs_by_id(database)
    assert jobs[prune.id].result == {"deleted": 3}
    assert sorted(jobs) == [failed.id, prune.id] and not set(jobs) & {job.id for job in old}


class TestRetries:
    def test_backoff_schedule_on_the_frozen_clock(
        self, database: Database, settings: Settings, frozen_clock: FrozenClock
    ) -> None:
        exact = JobsSettings(backoff_base_seconds=10, backoff_jitter=0, _env_file=None)  # type: ignore[call-arg]
        worker = Worker(database, settings, jobs_settings=exact, with_scheduler=False, import_handlers=False)
        job = _enqueue(database, "tw.raise", payload={"error": "unknown"})
        delays = []
        for _ in range(3):
            before = frozen_clock.now
            assert worker.process_available() == 1
            stored = _job(database, job.id)
            assert stored.status == "queued"
            delays.append((stored.run_after - before).total_seconds())
            assert worker.process_available() == 0  # not due yet
            frozen_clock.advance(seconds=delays[-1] - 0.001)
            assert worker.process_available() == 0  # still not due a millisecond before
            frozen_clock.advance(seconds=0.001)
        assert delays == [10.0, 20.0, 40.0]
        assert worker.process_available() == 1  # fourth and last attempt
        stored = _job(database, job.id)
        assert (stored.status, stored.attempts, stored.last_error_message) == (
            "failed",
            4,
            "unexpected response shape",
        )
        assert (stored.last_error_class, stored.last_error_retryable) == ("builtins.ValueError", True)
        assert [attempt for _, _, attempt in calls] == [1, 2, 3, 4]

    def test_jitter_stays_within_its_bounds(
        self, database: Database, worker: Worker, jobs_settings: JobsSettings, frozen_clock: FrozenClock
    ) -> None:
        jobs = [_enqueue(database, "tw.raise", payload={"error": "unknown"}) for _ in range(20)]
        worker.process_available()
        delays = {(_job(database, j.id).run_after - frozen_clock.now).total_seconds() for j in jobs}
        assert all(7.5 <= delay <= 12.5 for delay in delays)  # base 10 s +/- 25 %
        assert len(delays) > 1  # actually jittered

    def test_handler_backoff_overrides_the_default(
        self, database: Database, worker: Worker, frozen_clock: FrozenClock
    ) -> None:
        job = _enqueue(database, "tw.custom_backoff")
        delays = []
        for _ in range(2):
            before = frozen_clock.now
            worker.process_available()
            delays.append((_job(database, job.id).run_after - before).total_seconds())
            frozen_clock.advance(seconds=delays[-1])
        worker.process_available()
        assert delays == [1.0, 3.0]
        assert _job(database, job.id).status == "failed"

    @pytest.mark.parametrize("error", ["retryable", "channel_429"])
    def test_retry_after_is_honoured_exactly(
        self, error: str, database: Database, worker: Worker, frozen_clock: FrozenClock
    ) -> None:
        job = _enqueue(database, "tw.raise", payload={"error": error, "retry_after": 42.5})
        worker.process_available()
        stored = _job(database, job.id)
        assert stored.status == "queued"
        assert stored.run_after == frozen_clock.now + dt.timedelta(seconds=42.5)
        frozen_clock.advance(seconds=42.4)
        assert worker.process_available() == 0
        frozen_clock.advance(seconds=0.1)
        assert worker.process_available() == 1

    def test_a_retry_steps_aside_for_a_newer_equivalent_job(self, database: Database, worker: Worker) -> None:
        old = _enqueue(
            database, "tw.raise", payload={"error": "unknown"}, coalesce_key="k:1", priority=Priority.HIGH
        )
        with database.session() as session:
            [claimed] = service.claim_jobs(session, owner="test-worker", limit=1, lease_seconds=60)
        newer = _enqueue(
            database, "tw.raise", payload={"error": "unknown"}, coalesce_key="k:1", priority=Priority.LOW
        )
        worker._execute(claimed, asyncio.new_event_loop(), claim_next=False)
        old_row, newer_row = _job(database, old.id), _job(database, newer.id)
        assert (old_row.status, old_row.result) == ("cancelled", {"superseded_by": newer.id})
        assert (newer_row.status, newer_row.priority) == ("queued", Priority.HIGH)


class TestLeases:
    def test_an_expired_lease_is_recovered_and_the_job_rerun(
        self, database: Database, worker: Worker, frozen_clock: FrozenClock
    ) -> None:
        job = _enqueue(database, "tw.ok")
        with database.session() as session:
            [claimed] = service.claim_jobs(session, owner="killed-worker", limit=1, lease_seconds=2)
        worker._sweep()
        assert _job(database, job.id).status == "in_progress"  # lease still valid
        frozen_clock.advance(seconds=3)
        worker._sweep()
        stored = _job(database, job.id)
        assert (stored.status, stored.attempts, stored.last_error_class) == (
            "queued",
            1,
            "riff.jobs.errors.LeaseExpired",
        )
        frozen_clock.advance(seconds=60)  # past the backoff
        worker.process_available()
        stored = _job(database, job.id)
        assert (stored.status, stored.attempts) == ("completed", 2)
        # The killed worker's attempt can never record an outcome now.
        with database.session() as session:
            assert not service.complete_attempt(session, claimed, owner="killed-worker", result=None)

    def test_a_job_out_of_attempts_fails_when_its_lease_expires(
        self, database: Database, worker: Worker, frozen_clock: FrozenClock
    ) -> None:
        job = _enqueue(database, "tw.ok", max_attempts=1)
        with database.session() as session:
            service.claim_jobs(session, owner="killed-worker", limit=1, lease_seconds=2)
        frozen_clock.advance(seconds=3)
        worker._sweep()
        assert _job(database, job.id).status == "failed"

    def test_heartbeat_extends_the_lease_and_detects_a_lost_one(
        self, database: Database, worker: Worker, jobs_settings: JobsSettings, frozen_clock: FrozenClock
    ) -> None:
        _enqueue(database, "tw.heartbeat")
        with database.session() as session:
            [claimed] = service.claim_jobs(session, owner=worker.worker_id, limit=1, lease_seconds=2)
        worker._track(claimed)
        frozen_clock.advance(seconds=1.5)
        worker._heartbeat_for(claimed)()
        assert _job(database, claimed.id).lease_expires_at == frozen_clock.now + dt.timedelta(seconds=2)
        frozen_clock.advance(seconds=1.5)
        worker._renew_leases()  # the automatic renewal does the same for every running job
        assert _job(database, claimed.id).lease_expires_at == frozen_clock.now + dt.timedelta(seconds=2)
        frozen_clock.advance(seconds=5)
        Worker(
            database,
            worker.settings,
            jobs_settings=jobs_settings,
            with_scheduler=False,
            import_handlers=False,
        )._sweep()
        with pytest.raises(JobLeaseLost):
            worker._heartbeat_for(claimed)()


class TestPriority:
    def test_an_urgent_delist_overtakes_a_bulk_republish(self, database: Database, worker: Worker) -> None:
        bulk = [_enqueue(database, "tw.ok", priority=Priority.BULK, payload={"n": n}) for n in range(10)]
        worker.process_available(max_jobs=3)
        urgent = _enqueue(database, "tw.ok", priority=Priority.URGENT, payload={"delist": True})
        worker.process_available()
        order = [job_id for _, job_id, _ in calls]
        assert order == [b.id for b in bulk[:3]] + [urgent.id] + [b.id for b in bulk[3:]]


class TestWakeUp:
    def test_an_enqueue_in_this_process_starts_the_job_without_polling(
        self, database: Database, settings: Settings
    ) -> None:
        slow_poll = JobsSettings(poll_seconds=30, _env_file=None)  # type: ignore[call-arg]
        worker = Worker(
            database, settings, jobs_settings=slow_poll, with_scheduler=False, import_handlers=False
        )
        worker.start_in_thread()
        try:
            time.sleep(0.3)  # let the worker go idle
            latencies = []
            for _ in range(5):
                started = time.monotonic()
                job = _enqueue(database, "tw.ok")
                wait_for(lambda job=job: _job(database, job.id).status == "completed", 5, interval=0.002)  # type: ignore[misc]
                latencies.append(time.monotonic() - started)
        finally:
            worker.stop(10)
        assert max(latencies) < 1.0

    def test_a_commit_from_another_process_wakes_the_worker(
        self, database: Database, settings: Settings
    ) -> None:
        """No SQLAlchemy session events involved: PostgreSQL NOTIFY, or the SQLite WAL watcher."""
        slow_poll = JobsSettings(poll_seconds=30, _env_file=None)  # type: ignore[call-arg]
        worker = Worker(
            database, settings, jobs_settings=slow_poll, with_scheduler=False, import_handlers=False
        )
        worker.start_in_thread()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            job_id = _insert_like_another_process(database)
            wait_for(lambda: _job(database, job_id).status == "completed", 5, interval=0.005)
            latency = time.monotonic() - started
        finally:
            worker.stop(10)
        assert latency < 1.0


def _insert_like_another_process(database: Database) -> int:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    columns = "kind, payload, status, priority, attempts, max_attempts, run_after, created_at"
    if database.dialect == "postgresql":
        import psycopg

        url = database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url) as conn:
            row = conn.execute(
                f"INSERT INTO jobs ({columns}) VALUES ('tw.ok', '{{}}', 'queued', 50, 0, 5, now(), now()) RETURNING id"
            ).fetchone()
            conn.execute("SELECT pg_notify('riff_jobs', '')")
        assert row is not None
        return int(row[0])
    conn = sqlite3.connect(database.engine.url.database or "")
    try:
        cursor = conn.execute(
            f"INSERT INTO jobs ({columns}) VALUES ('tw.ok', '{{}}', 'queued', 50, 0, 5, ?, ?)",
            (now.isoformat(sep=" "), now.isoformat(sep=" ")),
        )
        conn.commit()
        return int(cursor.lastrowid or 0)
    finally:
        conn.close()


class TestShutdown:
    def test_stop_finishes_the_running_job_and_runs_hooks(
        self, database: Database, settings: Settings, jobs_settings: JobsSettings
    ) -> None:
        hook_ran = threading.Event()

        def hook(ctx: HookContext) -> None:
            assert _count_in_progress(ctx.database) == 0
            hook_ran.set()

        on_worker_shutdown(hook)
        try:
            running = _enqueue(database, "tw.sleep", payload={"seconds": 0.5})
            waiting = _enqueue(database, "tw.sleep", payload={"seconds": 0.5}, priority=Priority.LOW)
            worker = Worker(
                database,
                settings,
                jobs_settings=jobs_settings,
                with_scheduler=False,
                import_handlers=False,
                concurrency=1,
            )
            worker.start_in_thread()
            wait_for(lambda: _job(database, running.id).status == "in_progress", 5)
            worker.stop(10)
        finally:
            remove_shutdown_hook(hook)
        assert worker.stopped and hook_ran.is_set()
        stored = _job(database, running.id)
        assert (stored.status, stored.result) == ("completed", {"stopped_early": True})
        assert _job(database, waiting.id).status == "queued"  # never claimed after the stop
        assert _count_in_progress(database) == 0

    def test_forced_stop_hands_running_jobs_back(
        self, database: Database, settings: Settings, jobs_settings: JobsSettings
    ) -> None:
        job = _enqueue(database, "tw.sleep", payload={"seconds": 1.5}, max_attempts=1)
        worker = Worker(
            database,
            settings,
            jobs_settings=jobs_settings,
            with_scheduler=False,
            import_handlers=False,
            concurrency=1,
        )
        worker.start_in_thread()
        wait_for(lambda: _job(database, job.id).status == "in_progress", 5)
        worker.stop(10, force=True)
        stored = _job(database, job.id)
        assert (stored.status, stored.attempts, stored.max_attempts) == ("queued", 1, 2)
        assert stored.last_error_class == "riff.jobs.worker.ForcedShutdown"


def _count_in_progress(database: Database) -> int:
    with database.session() as session:
        return int(
            session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.status == "in_progress"))
            or 0
        )
