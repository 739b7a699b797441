"""The worker: claims jobs, runs their handlers, records the outcome, keeps leases alive.

Threads of one worker process:
- the dispatcher (the thread that calls ``run()``): claims up to the number of free slots whenever it is
  woken (in-process enqueue, PostgreSQL NOTIFY, another SQLite connection committing, a slot freeing up, the next retry
  coming due) or the fallback poll interval passes;
- ``concurrency`` runner threads, each owning an asyncio event loop, so ``async def`` handlers (httpx
  channel clients) and plain functions both run;
- a lease keeper: renews the leases of running jobs and requeues jobs whose lease expired anywhere
  (a worker killed with SIGKILL, a crashed host);
- optionally the scheduler, a LISTEN connection (PostgreSQL) or a data_version watcher (SQLite).

Shutdown (SIGTERM/SIGINT or ``stop()``): stop claiming, let running jobs finish, run the registered
shutdown hooks, exit with nothing left ``in_progress``. A second signal (or ``stop(force=True)``) hands
the running jobs back to the queue at once instead.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import queue
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterable
from types import FrameType
from typing import Any

from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.settings import Settings, get_settings
from riff.jobs import metrics, notify, registry, service
from riff.jobs.config import JobsSettings, get_jobs_settings
from riff.jobs.consts import JobStatus
from riff.jobs.errors import JobError, JobTimeout, UnknownJobKind, classify
from riff.jobs.repository import ClaimedJob
from riff.jobs.scheduler import Scheduler

log = get_logger(__name__)

FINALIZE_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
ERROR_PAUSE_SECONDS = 1.0


class JobLeaseLost(JobError):
    """Raised by ``ctx.heartbeat()`` when this attempt no longer holds the job (its lease expired and the
    job was handed to another attempt): stop working, the outcome would be discarded anyway."""


@dataclasses.dataclass
class _Running:
    job: ClaimedJob
    started: float  # time.monotonic()
    deadline: float


class Worker:
    def __init__(
        self,
        database: Database,
        settings: Settings | None = None,
        *,
        jobs_settings: JobsSettings | None = None,
        concurrency: int | None = None,
        kinds: Iterable[str] | None = None,
        with_scheduler: bool = True,
        import_handlers: bool = True,
        worker_id: str | None = None,
    ) -> None:
        """``kinds``: only claim these (default: every registered kind). ``import_handlers``: import every
        ``riff.*.tasks`` module and ``RIFF_JOBS_IMPORT_MODULES`` now, so an embedded worker (``riff up``)
        knows every handler; an import error raises here rather than leaving jobs unclaimed."""
        self.database = database
        self.settings = settings or get_settings()
        self.jobs_settings = jobs_settings or get_jobs_settings()
        # The worker's own bookkeeping (claims, outcomes, leases) may use a separate pool; handlers and the
        # rest of the process keep ``database``.
        if import_handlers:
            registry.import_handler_modules(self.jobs_settings.import_modules)
        self._books = _bookkeeping_database(database, self.jobs_settings)
        self.concurrency = max(1, concurrency or self.settings.worker_concurrency)
        self._kinds = frozenset(kinds) if kinds is not None else None
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.scheduler = Scheduler(database, self.jobs_settings) if with_scheduler else None
        self._caps = self.jobs_settings.resolved_concurrency_limits()
        self._stop = threading.Event()  # stop claiming
        self._force = threading.Event()  # hand running jobs back now
        self._wake = threading.Event()
        self._service_stop = threading.Event()  # scheduler, listener, watcher
        self._keeper_stop = threading.Event()
        self._running: dict[int, _Running] = {}
        self._running_lock = threading.Lock()
        self._overdue_reported: set[tuple[int, int]] = set()
        self._queue: queue.Queue[ClaimedJob | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._finished = threading.Event()
        self._started = False  # a Worker runs once: start it, stop it, make a new one to run again
        self._thread: threading.Thread | None = None
        self._listener: Any = None
        self.log = log.bind(worker_id=self.worker_id)

    # ---- public lifecycle ---------------------------------------------------------------------

    @property
    def kinds(self) -> frozenset[str]:
        return self._kinds if self._kinds is not None else registry.registered_kinds()

    def run(self) -> None:
        """Run until stopped; SIGTERM/SIGINT stop it gracefully when called from the main thread."""
        self._mark_started()
        previous = self._install_signal_handlers()
        try:
            self._run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def start_in_thread(self) -> threading.Thread:
        """Run in a background thread (``riff up`` embeds a worker in the web process); ``stop()`` ends it."""
        self._mark_started()
        self._thread = threading.Thread(target=self._run, name=f"riff-worker-{self.worker_id}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None, *, force: bool = False) -> None:
        """Stop claiming and wait (up to ``timeout``) until running jobs finished and hooks ran."""
        self.request_stop(force=force)
        if self._started:
            self._finished.wait(timeout)

    def _mark_started(self) -> None:
        if self._started:
            raise RuntimeError("a Worker runs once; create a new one")
        self._started = True

    def request_stop(self, *, force: bool = False) -> None:
        if force:
            self._force.set()
        self._stop.set()
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._finished.is_set()

    def running_job_ids(self) -> list[int]:
        with self._running_lock:
            return list(self._running)

    def process_available(self, max_jobs: int | None = None) -> int:
        """Claim and run runnable jobs one at a time in the calling thread until none is left (or
        ``max_jobs`` ran). For tests and scripts; no threads, no heartbeats."""
        done = 0
        loop = asyncio.new_event_loop()
        try:
            while max_jobs is None or done < max_jobs:
                jobs = self._claim(1)
                if not jobs:
                    break
                self._track(jobs[0])
                try:
                    self._execute(jobs[0], loop, claim_next=False)
                finally:
                    self._untrack(jobs[0].id)
                done += 1
        finally:
            loop.close()
        return done

    # ---- main loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        notify.register_wake_event(self._wake)
        try:
            self._start_threads()
            self.log.info("jobs.worker.started", concurrency=self.concurrency, database=self.database.dialect)
            self._dispatch_loop()
        finally:
            self._shutdown()
            notify.unregister_wake_event(self._wake)
            self._finished.set()

    def _dispatch_loop(self) -> None:
        poll = self.jobs_settings.poll_seconds
        while not self._stop.is_set():
            self._wake.clear()  # before reading state: a wake-up that arrives from here on is not lost
            free = self.concurrency - self._busy()
            if free <= 0:
                self._wake.wait(poll)
                continue
            try:
                jobs = self._claim(free)
            except Exception as exc:  # database unreachable: keep trying, slowly
                self.log.error("jobs.claim.error", error=type(exc).__name__, message=str(exc)[:300])
                self._stop.wait(ERROR_PAUSE_SECONDS)
                continue
            for job in jobs:
                self._track(job)
                self._queue.put(job)
            if len(jobs) == free:
                continue
            self._wake.wait(self._until_next_due(poll))

    def _until_next_due(self, poll: float) -> float:
        try:
            with self._books.read_session() as session:
                next_at = service.next_run_after(session, self.kinds)
        except Exception:  # only an optimisation; polling covers it
            return poll
        if next_at is None:
            return poll
        return min(poll, max(0.001, (next_at - utcnow()).total_seconds()))

    def _claim(self, limit: int) -> list[ClaimedJob]:
        if self.database.dialect == "sqlite" and self.kinds:
            # Every commit anywhere wakes an idle SQLite worker (data_version watcher); look before taking the
            # database write lock, so idle workers never queue behind the web process's writes.
            with self._books.read_session() as session:
                if not service.has_runnable(session, self.kinds):
                    return []
        with self._books.session() as session:
            return self._claim_in(session, limit)

    def _claim_in(self, session: Any, limit: int) -> list[ClaimedJob]:
        kinds = self.kinds
        if not kinds or limit <= 0:
            return []
        jobs = service.claim_jobs(
            session,
            owner=self.worker_id,
            limit=limit,
            lease_seconds=self.jobs_settings.lease_seconds,
            kinds=kinds,
            concurrency_limits=self._caps,
        )
        for job in jobs:
            metrics.JOBS_CLAIMED.labels(kind=job.kind).inc()
        return jobs

    def _busy(self) -> int:
        with self._running_lock:
            return len(self._running)

    def _track(self, job: ClaimedJob) -> None:
        spec = registry.get_handler(job.kind)
        timeout = spec.timeout_seconds if spec else 0.0
        now = time.monotonic()
        with self._running_lock:
            self._running[job.id] = _Running(job=job, started=now, deadline=now + timeout)

    def _untrack(self, job_id: int) -> None:
        with self._running_lock:
            self._running.pop(job_id, None)
        self._wake.set()

    # ---- threads -------------------------------------------------------------------------------

    def _start_threads(self) -> None:
        for index in range(self.concurrency):
            self._spawn(self._runner_loop, f"riff-job-runner-{index}")
        self._spawn(self._keeper_loop, "riff-jobs-lease-keeper")
        if self.scheduler is not None:
            scheduler = self.scheduler
            self._spawn(lambda: scheduler.run(self._service_stop), "riff-jobs-scheduler")
        if self.database.dialect == "postgresql":
            self._listener = notify.PostgresListener(self.database, self._wake, self._service_stop)
        else:
            self._listener = notify.SqliteChangeWatcher(self.database, self._wake, self._service_stop)
        self._listener.start()

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _runner_loop(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            while True:
                job: ClaimedJob | None = self._queue.get()
                if job is None:
                    return
                # A runner that finishes a job claims its next one in the same transaction that records
                # the outcome (one commit per job instead of two); the dispatcher only feeds idle runners.
                while job is not None:
                    next_job: ClaimedJob | None = None
                    try:
                        next_job = self._execute(job, loop, claim_next=True)
                    except Exception as exc:  # never lose the runner thread; the lease expires and recovers
                        self.log.exception("jobs.runner.error", job_id=job.id, error=type(exc).__name__)
                    finally:
                        self._untrack(job.id)
                    job = next_job
        finally:
            loop.close()

    def _keeper_loop(self) -> None:
        interval = self.jobs_settings.heartbeat_interval
        sweep_every = self.jobs_settings.sweep_seconds
        last_sweep = 0.0
        while not self._keeper_stop.wait(min(interval, sweep_every)):
            self._renew_leases()
            if time.monotonic() - last_sweep >= sweep_every and not self._stop.is_set():
                last_sweep = time.monotonic()
                self._sweep()

    def _renew_leases(self) -> None:
        now = time.monotonic()
        with self._running_lock:
            alive = [job_id for job_id, running in self._running.items() if running.deadline > now]
            overdue = [running.job for running in self._running.values() if running.deadline <= now]
        for job in overdue:
            # A sync handler cannot be interrupted; letting its lease lapse hands the job to another attempt.
            if (job.id, job.attempts) not in self._overdue_reported:
                self._overdue_reported.add((job.id, job.attempts))
                self.log.error("jobs.job.timeout_overrun", job_id=job.id, kind=job.kind, attempt=job.attempts)
        if not alive:
            return
        try:
            with self._books.session() as session:
                service.extend_leases(
                    session, alive, owner=self.worker_id, lease_seconds=self.jobs_settings.lease_seconds
                )
        except Exception as exc:
            self.log.error("jobs.lease.renew_error", error=type(exc).__name__, message=str(exc)[:300])

    def _sweep(self) -> None:
        try:
            with self._books.session() as session:
                recovered = service.recover_expired_leases(session, jobs_settings=self.jobs_settings)
        except Exception as exc:
            self.log.error("jobs.lease.sweep_error", error=type(exc).__name__, message=str(exc)[:300])
            return
        if recovered:
            metrics.LEASES_RECOVERED.inc(len(recovered))
            notify.wake_local_workers()

    # ---- running one job -------------------------------------------------------------------------

    def _heartbeat_for(self, job: ClaimedJob) -> Any:
        def heartbeat() -> None:
            with self._running_lock:
                running = self._running.get(job.id)
            if running is not None and running.deadline <= time.monotonic():
                raise JobTimeout(f"job {job.id} ran past its timeout", None)
            with self._books.session() as session:
                renewed = service.extend_leases(
                    session, [job.id], owner=self.worker_id, lease_seconds=self.jobs_settings.lease_seconds
                )
            if not renewed:
                raise JobLeaseLost(f"job {job.id} attempt {job.attempts} no longer holds its lease")

        return heartbeat

    def _execute(
        self, job: ClaimedJob, loop: asyncio.AbstractEventLoop, *, claim_next: bool
    ) -> ClaimedJob | None:
        """Run one attempt and record its outcome; with ``claim_next``, also claim (and track) the next
        job in the same transaction and return it."""
        spec = registry.get_handler(job.kind)
        job_log = self.log.bind(job_id=job.id, kind=job.kind, attempt=job.attempts)
        ctx = registry.JobContext(
            job_id=job.id,
            kind=job.kind,
            payload=dict(job.payload or {}),
            channel=job.channel,
            product_id=job.product_id,
            listing_id=job.listing_id,
            attempt=job.attempts,
            max_attempts=job.max_attempts,
            database=self.database,
            settings=self.settings,
            jobs_settings=self.jobs_settings,
            logger=job_log,
            worker_id=self.worker_id,
            _heartbeat=self._heartbeat_for(job),
            _stop_event=self._stop,
        )
        started = time.perf_counter()
        try:
            if spec is None:
                raise UnknownJobKind(f"no handler registered for job kind {job.kind!r}")
            if spec.is_async:
                outcome = loop.run_until_complete(self._run_async(spec, ctx))
            else:
                outcome = spec.func(ctx)
        except (Exception, asyncio.CancelledError) as exc:
            return self._record_failure(job, exc, job_log, time.perf_counter() - started, claim_next)
        pending = isinstance(outcome, registry.PendingIdResult)
        result = outcome.result if isinstance(outcome, registry.PendingIdResult) else outcome
        if result is not None and not isinstance(result, dict):
            result = {"value": result}
        seconds = time.perf_counter() - started
        recorded, next_job = self._finalize(
            lambda session: service.complete_attempt(
                session, job, owner=self.worker_id, result=result, pending_id=pending
            ),
            job_log,
            claim_next,
        )
        if recorded:
            metrics.attempt_finished(job.kind, job.channel, "completed", seconds, None)
            job_log.info("jobs.job.completed", duration_ms=round(seconds * 1000, 1), pending_id=pending)
        else:
            job_log.warning("jobs.job.lease_lost", outcome="completed", duration_ms=round(seconds * 1000, 1))
        return next_job

    async def _run_async(self, spec: registry.HandlerSpec, ctx: registry.JobContext) -> Any:
        try:
            return await asyncio.wait_for(spec.func(ctx), spec.timeout_seconds)  # type: ignore[arg-type]
        except TimeoutError as exc:
            raise JobTimeout(f"handler ran longer than {spec.timeout_seconds:g}s", None) from exc

    def _record_failure(
        self, job: ClaimedJob, exc: BaseException, job_log: Any, seconds: float, claim_next: bool
    ) -> ClaimedJob | None:
        info = classify(exc)
        status, next_job = self._finalize(
            lambda session: service.fail_attempt(
                session, job, info, owner=self.worker_id, jobs_settings=self.jobs_settings
            ),
            job_log,
            claim_next,
        )
        outcome = "failed" if status == JobStatus.FAILED else "retry"
        metrics.attempt_finished(job.kind, job.channel, outcome, seconds, info.retryable)
        fields = {
            "error": info.error_class,
            "message": info.message[:300],
            "retryable": info.retryable,
            "retry_after": info.retry_after,
        }
        if status == JobStatus.FAILED:
            job_log.error("jobs.job.failed", **fields)
        elif status is None:
            job_log.warning("jobs.job.lease_lost", outcome="error", **fields)
        else:
            job_log.warning("jobs.job.retry_scheduled", new_status=status.value, **fields)
        return next_job

    def _finalize(self, write: Any, job_log: Any, claim_next: bool) -> tuple[Any, ClaimedJob | None]:
        """Record an outcome (and claim the next job in the same transaction), retrying briefly if the
        database hiccups. If it stays unreachable the lease lapses and the job runs again: at-least-once,
        never lost."""
        if claim_next and not self._stop.is_set():
            try:
                with self._books.session() as session:
                    outcome = write(session)
                    next_jobs = self._claim_in(session, 1) if not self._stop.is_set() else []
                for next_job in next_jobs:
                    self._track(next_job)
                return outcome, (next_jobs[0] if next_jobs else None)
            except Exception as exc:  # the whole transaction rolled back: record the outcome alone below
                job_log.error("jobs.job.record_error", error=type(exc).__name__, message=str(exc)[:300])
        for pause in (*FINALIZE_RETRY_SECONDS, None):
            try:
                with self._books.session() as session:
                    return write(session), None
            except Exception as exc:
                job_log.error("jobs.job.record_error", error=type(exc).__name__, message=str(exc)[:300])
                if pause is None or self._force.is_set():
                    return None, None
                time.sleep(pause)
        return None, None  # pragma: no cover

    # ---- shutdown -------------------------------------------------------------------------------

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def handle(signum: int, _frame: FrameType | None) -> None:
            force = self._stop.is_set()
            self.log.info("jobs.worker.signal", signal=signal.Signals(signum).name, force=force)
            self.request_stop(force=force)

        previous: dict[int, Any] = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.getsignal(signum)
            signal.signal(signum, handle)
        return previous

    def _shutdown(self) -> None:
        self._stop.set()
        self._service_stop.set()
        grace = self.jobs_settings.shutdown_grace_seconds
        deadline = None if grace is None else time.monotonic() + grace
        while self._busy() and not self._force.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            self._wake.wait(0.1)
            self._wake.clear()
        if self._busy():
            self._release_running("worker shut down before the job finished")
        else:
            for _ in range(self.concurrency):
                self._queue.put(None)
        self._keeper_stop.set()
        for thread in self._threads:
            if thread.name.startswith("riff-job-runner") and self._busy():
                continue  # stuck in a handler after a forced stop: leave it (daemon thread)
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.join(timeout=2)
        if not self._force.is_set():
            self._run_shutdown_hooks()
        if self._books is not self.database:
            self._books.dispose()
        self.log.info("jobs.worker.stopped")

    def _release_running(self, reason: str) -> None:
        try:
            with self._books.session() as session:
                released = service.release_jobs(session, self.worker_id, reason)
        except Exception as exc:  # the leases will expire and the sweep of another worker recovers them
            self.log.error("jobs.worker.release_error", error=type(exc).__name__, message=str(exc)[:300])
            return
        self.log.warning("jobs.worker.released", job_ids=released)

    def _run_shutdown_hooks(self) -> None:
        ctx = registry.HookContext(
            database=self.database,
            settings=self.settings,
            jobs_settings=self.jobs_settings,
            worker_id=self.worker_id,
            logger=self.log,
        )
        for hook in registry.shutdown_hooks():
            try:
                outcome = hook(ctx)
                if asyncio.iscoroutine(outcome):
                    asyncio.run(outcome)
            except Exception as exc:
                self.log.exception(
                    "jobs.worker.shutdown_hook_error",
                    hook=getattr(hook, "__qualname__", repr(hook)),
                    error=type(exc).__name__,
                )


def _bookkeeping_database(database: Database, jobs_settings: JobsSettings) -> Database:
    """On PostgreSQL with ``async_commit``, a pool whose sessions commit without waiting for the WAL flush
    (``synchronous_commit=off``). Only the job rows' bookkeeping goes through it: if the PostgreSQL server
    itself crashes, the last fraction of a second of claims and outcomes may be lost, which means a job
    runs again (exactly what a worker crash means; handlers are idempotent), never that one is lost:
    enqueues are the callers' own transactions, and a handler's writes commit durably in its own session,
    which also flushes every earlier bookkeeping record. In exchange each job stops paying one disk flush.
    """
    if database.dialect != "postgresql" or not jobs_settings.async_commit:
        return database
    return Database(
        database.engine.url.render_as_string(hide_password=False),
        connect_args={"options": "-c synchronous_commit=off"},
    )
