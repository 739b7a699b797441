"""The job engine's domain logic: enqueue (inside the caller's transaction), claim, finish, recover,
retry/cancel, stats. Nothing here commits; the caller's unit of work (request, CLI, worker) does."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from riff.core.clock import utcnow
from riff.core.logging import get_logger
from riff.jobs import metrics, notify, registry
from riff.jobs.config import JobsSettings, get_jobs_settings
from riff.jobs.consts import (
    MAX_COALESCE_KEY_CHARS,
    MAX_KIND_CHARS,
    PRUNABLE_STATUSES,
    JobStatus,
    Priority,
)
from riff.jobs.errors import ErrorInfo, JobNotFound, JobStateConflict, LeaseExpired
from riff.jobs.models import Job
from riff.jobs.repository import ClaimedJob, JobRepository

# What a finishing step needs from a job: a claim's snapshot, or the ORM row (lease recovery).
AnyJob = Job | ClaimedJob

log = get_logger(__name__)

_rng = random.Random()


def enqueue(
    session: Session,
    kind: str,
    *,
    payload: Mapping[str, Any] | None = None,
    channel: str | None = None,
    product_id: int | None = None,
    listing_id: int | None = None,
    priority: int = Priority.NORMAL,
    coalesce_key: str | None = None,
    run_after: dt.datetime | None = None,
    max_attempts: int | None = None,
) -> Job | None:
    """Add a job in the caller's transaction: it exists if and only if the caller's change commits.

    With ``coalesce_key``, a job that is still queued (not started) under the same key absorbs this
    request instead: it keeps the more urgent priority and the earlier ``run_after``, and takes this
    payload. Returns the new job, or None when the request was absorbed. A job that has already started
    does not absorb anything, because it may have read the product before this change.
    """
    if not kind or len(kind) > MAX_KIND_CHARS:
        raise ValueError(f"job kind must be 1-{MAX_KIND_CHARS} characters")
    if coalesce_key is not None and not 0 < len(coalesce_key) <= MAX_COALESCE_KEY_CHARS:
        raise ValueError(f"coalesce_key must be 1-{MAX_COALESCE_KEY_CHARS} characters")
    if run_after is not None and run_after.tzinfo is None:
        raise ValueError("run_after must be timezone-aware")
    now = utcnow()
    attempts_allowed = max_attempts or _default_max_attempts(kind)
    values: dict[str, Any] = {
        "kind": kind,
        "channel": channel,
        "product_id": product_id,
        "listing_id": listing_id,
        "payload": dict(payload or {}),
        "status": JobStatus.QUEUED.value,
        "priority": int(priority),
        "attempts": 0,
        "max_attempts": attempts_allowed,
        "run_after": run_after or now,
        "coalesce_key": coalesce_key,
        "created_at": now,
    }
    repository = JobRepository(session)
    if coalesce_key is None:
        job: Job | None = repository.insert(values)
    else:
        job = _enqueue_coalesced(repository, values)
    notify.mark_enqueued(session)
    if job is not None:
        metrics.enqueued(kind)
    return job


def _enqueue_coalesced(repository: JobRepository, values: dict[str, Any]) -> Job | None:
    # Insert-or-merge can lose a race only one way: the queued job we would merge into starts between our
    # INSERT (conflict) and UPDATE (no longer queued). Then nothing holds the key and the next INSERT wins.
    for _ in range(5):
        job = repository.insert_unless_queued(values)
        if job is not None:
            return job
        merged = repository.merge_into_queued(
            values["coalesce_key"],
            priority=values["priority"],
            run_after=values["run_after"],
            payload=values["payload"],
            max_attempts=values["max_attempts"],
        )
        if merged is not None:
            log.debug("jobs.enqueue.coalesced", kind=values["kind"], job_id=merged)
            return None
    raise RuntimeError(f"could not enqueue or coalesce {values['coalesce_key']!r}")  # pragma: no cover


def _default_max_attempts(kind: str) -> int:
    spec = registry.get_handler(kind)
    if spec is not None and spec.max_attempts:
        return spec.max_attempts
    return get_jobs_settings().default_max_attempts


# ---- claiming --------------------------------------------------------------------------------------


def claim_jobs(
    session: Session,
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    kinds: Iterable[str] | None = None,
    concurrency_limits: Mapping[str, int] | None = None,
) -> list[ClaimedJob]:
    """Claim up to ``limit`` runnable jobs for ``owner``, in priority order, honouring per-channel caps
    across every worker. One function for both databases:

    - PostgreSQL: candidates are selected ``FOR UPDATE SKIP LOCKED``, so any number of workers on any
      number of hosts take disjoint rows. A capped channel's claims are serialised by a transaction-scoped
      advisory lock and its running count is re-read under that lock (READ COMMITTED sees every claim
      committed before the lock was granted), so two workers can never both fill the last slot.
    - SQLite: the worker's session runs ``BEGIN IMMEDIATE``; the whole claim holds the write lock, so
      it is atomic against other processes on the host.
    """
    if limit <= 0:
        return []
    now = utcnow()
    repository = JobRepository(session)
    caps = dict(concurrency_limits or {})
    candidates = repository.claim_candidates(now=now, limit=limit, kinds=kinds, caps=caps)
    chosen = [job_id for job_id, _ in candidates]
    capped = sorted({channel for _, channel in candidates if channel is not None and channel in caps})
    if capped:
        chosen = _recheck_caps(repository, candidates, capped, caps, now)
    lease_until = now + dt.timedelta(seconds=lease_seconds)
    return repository.mark_claimed(chosen, owner=owner, now=now, lease_until=lease_until)


def _recheck_caps(
    repository: JobRepository,
    candidates: Sequence[tuple[int, str | None]],
    capped: Sequence[str],
    caps: Mapping[str, int],
    now: dt.datetime,
) -> list[int]:
    for channel in capped:  # sorted: a fixed lock order, so workers never deadlock on each other
        repository.lock_channel(channel)
    running = repository.running_counts(capped, now)
    room = {channel: caps[channel] - running.get(channel, 0) for channel in capped}
    kept: list[int] = []
    for job_id, job_channel in candidates:
        if job_channel is not None and job_channel in room:
            if room[job_channel] <= 0:
                continue  # stays queued (its row lock goes at commit)
            room[job_channel] -= 1
        kept.append(job_id)
    return kept


def has_runnable(session: Session, kinds: Iterable[str] | None) -> bool:
    return JobRepository(session).has_runnable(kinds, now=utcnow())


def next_run_after(session: Session, kinds: Iterable[str] | None) -> dt.datetime | None:
    """When the next queued job that is not runnable yet (backing off, scheduled) becomes runnable."""
    return JobRepository(session).next_run_after(kinds, after=utcnow())


def extend_leases(session: Session, ids: Sequence[int], *, owner: str, lease_seconds: float) -> int:
    now = utcnow()
    return JobRepository(session).extend_leases(
        ids, owner=owner, now=now, lease_until=now + dt.timedelta(seconds=lease_seconds)
    )


# ---- finishing an attempt ----------------------------------------------------------------------


def complete_attempt(
    session: Session,
    job: AnyJob,
    *,
    owner: str,
    result: dict[str, Any] | None,
    pending_id: bool = False,
) -> bool:
    """Record success. False if this attempt no longer holds the job (its lease expired and another
    attempt took over): the outcome is then dropped, so a job is never completed twice."""
    now = utcnow()
    status = JobStatus.COMPLETED_PENDING_ID if pending_id else JobStatus.COMPLETED
    return JobRepository(session).complete(
        job.id,
        owner=owner,
        attempt=job.attempts,
        status=status.value,
        result=result,
        finished_at=None if pending_id else now,
    )


def fail_attempt(
    session: Session,
    job: AnyJob,
    error: ErrorInfo,
    *,
    owner: str | None,
    jobs_settings: JobsSettings,
    rng: random.Random | None = None,
) -> JobStatus | None:
    """Record a failed attempt: back to ``queued`` (after ``retry_after`` exactly, else the backoff) while
    the error is retryable and attempts remain, else ``failed``. Returns the new status, or None if this
    attempt had lost the job already."""
    now = utcnow()
    repository = JobRepository(session)
    error_values = _error_values(error, now)
    if not error.retryable or job.attempts >= job.max_attempts:
        finished = repository.finish_attempt(
            job.id,
            owner=owner,
            attempt=job.attempts,
            values={
                **error_values,
                "status": JobStatus.FAILED.value,
                "finished_at": now,
                "lease_owner": None,
                "lease_expires_at": None,
            },
        )
        return JobStatus.FAILED if finished else None
    delay = (
        error.retry_after
        if error.retry_after is not None
        else backoff_for(job.kind, jobs_settings).delay(job.attempts, rng or _rng)
    )
    run_after = now + dt.timedelta(seconds=delay)
    return _requeue(repository, job, owner=owner, run_after=run_after, extra=error_values)


def _requeue(
    repository: JobRepository,
    job: AnyJob,
    *,
    owner: str | None,
    run_after: dt.datetime,
    extra: dict[str, Any],
) -> JobStatus | None:
    values = {
        **extra,
        "status": JobStatus.QUEUED.value,
        "run_after": run_after,
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if job.coalesce_key is None:
        done = repository.finish_attempt(job.id, owner=owner, attempt=job.attempts, values=values)
        return JobStatus.QUEUED if done else None
    # Another queued job may hold the key by now (enqueued while this one ran). It will read the same,
    # newer state, so this job steps aside instead of breaking the one-queued-per-key rule.
    try:
        with repository.session.begin_nested():
            done = repository.finish_attempt(job.id, owner=owner, attempt=job.attempts, values=values)
        return JobStatus.QUEUED if done else None
    except IntegrityError:
        pass
    holder = repository.queued_id_for_key(job.coalesce_key)
    done = repository.finish_attempt(
        job.id,
        owner=owner,
        attempt=job.attempts,
        values={
            **extra,
            "status": JobStatus.CANCELLED.value,
            "result": {"superseded_by": holder},
            "finished_at": utcnow(),
            "lease_owner": None,
            "lease_expires_at": None,
        },
    )
    if done and holder is not None:
        repository.session.execute(
            sa.update(Job)
            .where(Job.id == holder, Job.priority > job.priority)
            .values(priority=job.priority)
            .execution_options(synchronize_session=False)
        )
    return JobStatus.CANCELLED if done else None


def backoff_for(kind: str, jobs_settings: JobsSettings) -> registry.Backoff:
    spec = registry.get_handler(kind)
    if spec is not None and spec.backoff is not None:
        return spec.backoff
    return registry.Backoff(
        base_seconds=jobs_settings.backoff_base_seconds,
        max_seconds=jobs_settings.backoff_max_seconds,
        jitter=jobs_settings.backoff_jitter,
    )


def _error_values(error: ErrorInfo, now: dt.datetime) -> dict[str, Any]:
    return {
        "last_error_message": error.message,
        "last_error_class": error.error_class,
        "last_error_retryable": error.retryable,
        "last_error_at": now,
    }


def recover_expired_leases(session: Session, *, jobs_settings: JobsSettings, limit: int = 100) -> list[int]:
    """Requeue (or fail, when out of attempts) jobs whose worker stopped renewing the lease: killed,
    crashed, or hung past its timeout. The attempt stays counted."""
    now = utcnow()
    repository = JobRepository(session)
    recovered: list[int] = []
    for job in repository.expired_leases(now, limit):
        error = ErrorInfo(
            message=f"lease held by {job.lease_owner} expired at {job.lease_expires_at:%Y-%m-%d %H:%M:%S} UTC "
            "(worker killed, crashed or hung)",
            error_class=f"{LeaseExpired.__module__}.{LeaseExpired.__qualname__}",
            retryable=True,
            retry_after=None,
        )
        status = fail_attempt(session, job, error, owner=job.lease_owner, jobs_settings=jobs_settings)
        if status is not None:
            recovered.append(job.id)
            log.warning(
                "jobs.lease.expired", job_id=job.id, kind=job.kind, attempt=job.attempts, now=status.value
            )
    return recovered


def release_jobs(session: Session, owner: str, reason: str) -> list[int]:
    """Hand back every job ``owner`` holds (a forced shutdown): queued again at once, attempt counted."""
    repository = JobRepository(session)
    released: list[int] = []
    for job in repository.held_by(owner):
        now = utcnow()
        error = ErrorInfo(
            message=reason, error_class="riff.jobs.worker.ForcedShutdown", retryable=True, retry_after=0.0
        )
        # A shutdown is not the job's fault: it must not use up the job's last attempt.
        extra = {**_error_values(error, now), "max_attempts": max(job.max_attempts, job.attempts + 1)}
        if _requeue(repository, job, owner=owner, run_after=now, extra=extra):
            released.append(job.id)
    return released


# ---- operator actions --------------------------------------------------------------------------


RETRYABLE_FROM = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED)
CANCELLABLE_FROM = (JobStatus.QUEUED, JobStatus.FAILED)


def get_job(session: Session, job_id: int) -> Job:
    job = JobRepository(session).get(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist", field="id")
    return job


def retry_job(session: Session, job_id: int) -> Job:
    """Run a failed or cancelled job again from scratch (attempts reset), or a queued one right now."""
    repository = JobRepository(session)
    job = repository.get_for_update(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist", field="id")
    if job.status not in RETRYABLE_FROM:
        raise JobStateConflict(
            f"job {job_id} is {job.status}; only failed, cancelled or queued jobs can be retried"
        )
    now = utcnow()
    if job.status != JobStatus.QUEUED and job.coalesce_key is not None:
        holder = repository.queued_id_for_key(job.coalesce_key)
        if holder is not None:
            raise JobStateConflict(
                f"job {holder} with the same coalesce key is already queued and will do this work",
                details={"queued_job_id": holder},
            )
    values: dict[str, Any] = {"status": JobStatus.QUEUED.value, "run_after": now, "finished_at": None}
    if job.status != JobStatus.QUEUED:
        values["attempts"] = 0
    if not repository.set_values(job_id, values, from_statuses=[job.status]):
        raise JobStateConflict(f"job {job_id} changed while retrying; try again")  # pragma: no cover
    session.refresh(job)
    notify.mark_enqueued(session)
    log.info("jobs.job.retry_requested", job_id=job_id, kind=job.kind)
    return job


def cancel_job(session: Session, job_id: int) -> Job:
    """Cancel a queued job (it will not run) or a failed one (acknowledged; it stays for the record).
    A running job cannot be cancelled: its marketplace call may already have happened."""
    repository = JobRepository(session)
    job = repository.get_for_update(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id} does not exist", field="id")
    if job.status not in CANCELLABLE_FROM:
        raise JobStateConflict(f"job {job_id} is {job.status}; only queued or failed jobs can be cancelled")
    values = {"status": JobStatus.CANCELLED.value, "finished_at": utcnow()}
    if not repository.set_values(job_id, values, from_statuses=[job.status]):
        raise JobStateConflict(f"job {job_id} started while cancelling; it cannot be cancelled now")
    session.refresh(job)
    log.info("jobs.job.cancelled", job_id=job_id, kind=job.kind)
    return job


def resolve_pending_id(session: Session, job_id: int, result: dict[str, Any] | None = None) -> bool:
    """V&R: the remote id of a ``completed_pending_id`` job was found; the job is now ``completed``."""
    values = {"status": JobStatus.COMPLETED.value, "finished_at": utcnow()}
    if result is not None:
        values["result"] = result
    return JobRepository(session).set_values(job_id, values, from_statuses=[JobStatus.COMPLETED_PENDING_ID])


def fail_pending_id(session: Session, job_id: int, message: str) -> bool:
    """V&R: the remote id could not be resolved; the job ends ``failed`` with ``message``."""
    now = utcnow()
    values = {
        "status": JobStatus.FAILED.value,
        "finished_at": now,
        "last_error_message": message,
        "last_error_class": "riff.jobs.errors.PendingIdUnresolved",
        "last_error_retryable": False,
        "last_error_at": now,
    }
    return JobRepository(session).set_values(job_id, values, from_statuses=[JobStatus.COMPLETED_PENDING_ID])


def update_job_payload(
    session: Session,
    job_id: int,
    changes: Mapping[str, Any],
    *,
    statuses: Sequence[str] = (JobStatus.IN_PROGRESS, JobStatus.COMPLETED_PENDING_ID),
) -> bool:
    """Merge ``changes`` into a job's payload while it is in one of ``statuses``: a running handler recording
    what a later phase needs (V&R writes its match criteria before submitting a listing, so a worker killed
    in between leaves them behind), or a batch noting progress on a ``completed_pending_id`` job."""
    repository = JobRepository(session)
    job = repository.get(job_id)
    if job is None or job.status not in [str(s) for s in statuses]:
        return False
    payload = {**(job.payload or {}), **dict(changes)}
    return repository.set_values(job_id, {"payload": payload}, from_statuses=[str(s) for s in statuses])


# ---- visibility --------------------------------------------------------------------------------


def list_jobs(
    session: Session,
    *,
    statuses: Sequence[str] | None = None,
    channel: str | None = None,
    kind: str | None = None,
    product_id: int | None = None,
    listing_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[Job], int]:
    repository = JobRepository(session)
    statement = repository.filtered(
        statuses=statuses, channel=channel, kind=kind, product_id=product_id, listing_id=listing_id
    )
    return repository.paginate(statement, limit=limit, offset=offset)


@dataclasses.dataclass
class QueueStats:
    by_status: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    oldest_queued_age_seconds: float | None
    failed_last_hour: int
    errors_last_hour: int
    expired_leases: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


NO_CHANNEL = "-"


def queue_stats(session: Session) -> QueueStats:
    now = utcnow()
    repository = JobRepository(session)
    by_status = {status.value: 0 for status in JobStatus}
    by_channel: dict[str, dict[str, int]] = {}
    for status, channel, count in repository.counts_by_status_channel():
        by_status[status] = by_status.get(status, 0) + count
        by_channel.setdefault(channel or NO_CHANNEL, {})[status] = count
    oldest = repository.oldest_runnable_queued(now)
    hour_ago = now - dt.timedelta(hours=1)
    return QueueStats(
        by_status=by_status,
        by_channel=by_channel,
        oldest_queued_age_seconds=None if oldest is None else max(0.0, (now - oldest).total_seconds()),
        failed_last_hour=repository.count_where(
            Job.status == JobStatus.FAILED.value, Job.finished_at >= hour_ago
        ),
        errors_last_hour=repository.count_where(Job.last_error_at >= hour_ago),
        expired_leases=repository.count_expired_leases(now),
    )


def prune_finished(session: Session, *, retention_days: int, batch: int = 1000) -> int:
    """Delete one batch of completed/cancelled jobs older than the retention period (failed ones stay)."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    return JobRepository(session).delete_finished_before([s.value for s in PRUNABLE_STATUSES], cutoff, batch)
