"""All SQL of the job engine. Where a guarantee needs a different mechanism per database, the difference
is kept inside one method here (the service never asks which database it is talking to)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from riff.core.db import is_postgres
from riff.core.models import JSONType, UTCDateTime
from riff.core.repository import RepositoryBase
from riff.jobs.consts import JobStatus
from riff.jobs.models import COALESCING, Job, RateLimitBucket, SchedulerRun

QUEUED = JobStatus.QUEUED.value
IN_PROGRESS = JobStatus.IN_PROGRESS.value
# Namespace of the transaction-scoped advisory locks that serialise claims on capped channels ("RIFF").
ADVISORY_LOCK_NAMESPACE = 0x52494646
_NO_SYNC = {"synchronize_session": False}
# Status tests as literals, not bound parameters: SQLite (always) and PostgreSQL (generic prepared plans)
# only use a partial index when the query repeats its predicate's constant.
_STATUS_QUEUED = sa.text(f"jobs.status = '{QUEUED}'")
_STATUS_RUNNING = sa.text(f"jobs.status = '{IN_PROGRESS}'")


def _insert(session: Session) -> Any:
    return postgresql.insert if is_postgres(session) else sqlite.insert


@dataclasses.dataclass
class ClaimedJob:
    """A claimed job as the worker sees it: a plain snapshot of the row taken by the claim (cheaper than an
    ORM instance on the hottest path, and never tempting anyone to mutate it outside a session)."""

    id: int
    kind: str
    channel: str | None
    product_id: int | None
    listing_id: int | None
    payload: dict[str, Any]
    status: str
    priority: int
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    coalesce_key: str | None
    last_error_message: str | None
    last_error_class: str | None
    last_error_retryable: bool | None
    last_error_at: dt.datetime | None
    result: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobRepository(RepositoryBase[Job]):
    model = Job

    def _core(self) -> sa.Connection:
        # The session's connection, in the session's transaction. The per-job statements (claim, complete)
        # run through Core: ORM execution costs more CPU than the statements themselves.
        return self.session.connection()

    # ---- enqueue -------------------------------------------------------------------------------

    def insert(self, values: dict[str, Any]) -> Job:
        return self.session.scalars(sa.insert(Job).values(**values).returning(Job)).one()

    def insert_unless_queued(self, values: dict[str, Any]) -> Job | None:
        """INSERT unless a queued job holds the same coalesce key (the partial unique index decides,
        atomically, even against a concurrent transaction in another process)."""
        statement = (
            _insert(self.session)(Job)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Job.coalesce_key], index_where=COALESCING)
            .returning(Job)
        )
        return self.session.scalars(statement).one_or_none()

    def merge_into_queued(
        self,
        coalesce_key: str,
        *,
        priority: int,
        run_after: dt.datetime,
        payload: dict[str, Any],
        max_attempts: int,
    ) -> int | None:
        """Fold a new request into the queued job with the same key: keep the more urgent priority and
        the earlier run_after; the newest payload wins. None if that job has started meanwhile."""
        statement = (
            sa.update(Job)
            .where(Job.coalesce_key == coalesce_key, _STATUS_QUEUED)
            .values(
                priority=sa.case((Job.priority > priority, priority), else_=Job.priority),
                run_after=sa.case((Job.run_after > run_after, run_after), else_=Job.run_after),
                payload=payload,
                max_attempts=sa.case((Job.max_attempts < max_attempts, max_attempts), else_=Job.max_attempts),
            )
            .returning(Job.id)
        )
        return self.session.execute(statement, execution_options=_NO_SYNC).scalar_one_or_none()

    def queued_id_for_key(self, coalesce_key: str) -> int | None:
        return self.session.execute(
            sa.select(Job.id).where(Job.coalesce_key == coalesce_key, _STATUS_QUEUED)
        ).scalar_one_or_none()

    # ---- claim ---------------------------------------------------------------------------------

    def running_counts(self, channels: Iterable[str], now: dt.datetime) -> dict[str, int]:
        channels = list(channels)
        if not channels:
            return {}
        rows = self.session.execute(
            sa.select(Job.channel, sa.func.count())
            .where(_STATUS_RUNNING, Job.channel.in_(channels), Job.lease_expires_at > now)
            .group_by(Job.channel)
        )
        return {str(channel): int(count) for channel, count in rows}

    def claim_candidates(
        self,
        *,
        now: dt.datetime,
        limit: int,
        kinds: Iterable[str] | None,
        caps: Mapping[str, int] | None = None,
    ) -> list[tuple[int, str | None]]:
        """The next runnable jobs in priority order, row-locked on PostgreSQL with SKIP LOCKED so concurrent
        workers take different rows. (SQLite has no FOR UPDATE; there the write transaction is the lock:
        BEGIN IMMEDIATE makes the whole claim atomic against other processes.) Channels already at their
        concurrency cap are skipped in the same statement, so a full channel's backlog never hides other
        work; the caller re-checks capped channels under a lock.

        The hottest query of the engine: its SQL is built once per shape and cached (building SQLAlchemy
        constructs per claim cost more CPU than running the query)."""
        cap_items = tuple(sorted((caps or {}).items()))
        statement = _claim_candidates_sql(is_postgres(self.session), kinds is not None, len(cap_items))
        params: dict[str, Any] = {"now": now, "limit": limit}
        if kinds is not None:
            params["kinds"] = list(kinds)
        if cap_items:
            params["capped"] = [channel for channel, _ in cap_items]
            for index, (channel, cap) in enumerate(cap_items):
                params[f"cap_channel_{index}"] = channel
                params[f"cap_{index}"] = cap
        return [(int(row[0]), row[1]) for row in self._core().execute(statement, params)]

    def lock_channel(self, channel: str) -> None:
        """Serialise claims on one capped channel until this transaction ends (PostgreSQL; on SQLite the
        transaction already holds the database write lock)."""
        if is_postgres(self.session):
            self.session.execute(
                sa.text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:channel))"),
                {"namespace": ADVISORY_LOCK_NAMESPACE, "channel": channel},
            )

    def mark_claimed(
        self, ids: Sequence[int], *, owner: str, now: dt.datetime, lease_until: dt.datetime
    ) -> list[ClaimedJob]:
        if not ids:
            return []
        params = {"ids": list(ids), "owner": owner, "now": now, "lease_until": lease_until}
        jobs = [ClaimedJob(**row._mapping) for row in self._core().execute(_MARK_CLAIMED_SQL, params)]
        return sorted(jobs, key=lambda job: (job.priority, job.run_after, job.id))

    def has_runnable(self, kinds: Iterable[str] | None, now: dt.datetime) -> bool:
        statement = sa.select(Job.id).where(_STATUS_QUEUED, Job.run_after <= now).limit(1)
        if kinds is not None:
            statement = statement.where(Job.kind.in_(list(kinds)))
        return self.session.execute(statement).first() is not None

    def next_run_after(self, kinds: Iterable[str] | None, after: dt.datetime) -> dt.datetime | None:
        statement = sa.select(sa.func.min(Job.run_after)).where(_STATUS_QUEUED, Job.run_after > after)
        if kinds is not None:
            statement = statement.where(Job.kind.in_(list(kinds)))
        value = self.session.execute(statement).scalar_one_or_none()
        if value is None:
            return None
        # Aggregates bypass the column type on SQLite (a string comes back); reparse through it.
        return _as_utc(value)

    # ---- leases --------------------------------------------------------------------------------

    def extend_leases(
        self, ids: Sequence[int], *, owner: str, now: dt.datetime, lease_until: dt.datetime
    ) -> int:
        if not ids:
            return 0
        result = self.session.execute(
            sa.update(Job)
            .where(Job.id.in_(list(ids)), _STATUS_RUNNING, Job.lease_owner == owner)
            .values(lease_expires_at=lease_until, heartbeat_at=now),
            execution_options=_NO_SYNC,
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def expired_leases(self, now: dt.datetime, limit: int = 100) -> list[Job]:
        statement = (
            sa.select(Job)
            .where(_STATUS_RUNNING, Job.lease_expires_at < now)
            .order_by(Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(statement))

    def held_by(self, owner: str) -> list[Job]:
        return list(self.session.scalars(sa.select(Job).where(_STATUS_RUNNING, Job.lease_owner == owner)))

    # ---- finishing an attempt (fenced: only the current lease holder's attempt may finish it) --------

    def finish_attempt(self, job_id: int, *, owner: str | None, attempt: int, values: dict[str, Any]) -> bool:
        conditions: list[Any] = [Job.id == job_id, _STATUS_RUNNING, Job.attempts == attempt]
        if owner is not None:
            conditions.append(Job.lease_owner == owner)
        result = self.session.execute(
            sa.update(Job).where(*conditions).values(**values), execution_options=_NO_SYNC
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def complete(
        self,
        job_id: int,
        *,
        owner: str,
        attempt: int,
        status: str,
        result: Any,
        finished_at: dt.datetime | None,
    ) -> bool:
        """``finish_attempt`` for the success path, with cached SQL (it runs once per job)."""
        outcome = self._core().execute(
            _COMPLETE_SQL,
            {
                "id": job_id,
                "owner": owner,
                "attempt": attempt,
                "status": status,
                "result": result,
                "finished_at": finished_at,
            },
        )
        return bool(outcome.rowcount)  # type: ignore[attr-defined]

    def set_values(self, job_id: int, values: dict[str, Any], *, from_statuses: Iterable[str]) -> bool:
        result = self.session.execute(
            sa.update(Job).where(Job.id == job_id, Job.status.in_(list(from_statuses))).values(**values),
            execution_options=_NO_SYNC,
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def get_for_update(self, job_id: int) -> Job | None:
        return self.session.scalars(
            sa.select(Job).where(Job.id == job_id).with_for_update().execution_options(populate_existing=True)
        ).one_or_none()

    # ---- visibility ----------------------------------------------------------------------------

    def filtered(
        self,
        *,
        statuses: Sequence[str] | None = None,
        channel: str | None = None,
        kind: str | None = None,
        product_id: int | None = None,
        listing_id: int | None = None,
    ) -> Any:
        statement = sa.select(Job).order_by(Job.id.desc())
        if statuses:
            statement = statement.where(Job.status.in_(list(statuses)))
        if channel is not None:
            statement = statement.where(Job.channel == channel)
        if kind is not None:
            statement = statement.where(Job.kind == kind)
        if product_id is not None:
            statement = statement.where(Job.product_id == product_id)
        if listing_id is not None:
            statement = statement.where(Job.listing_id == listing_id)
        return statement

    def counts_by_status_channel(self) -> list[tuple[str, str | None, int]]:
        rows = self.session.execute(
            sa.select(Job.status, Job.channel, sa.func.count()).group_by(Job.status, Job.channel)
        )
        return [(status, channel, int(count)) for status, channel, count in rows]

    def oldest_runnable_queued(self, now: dt.datetime) -> dt.datetime | None:
        value = self.session.execute(
            sa.select(sa.func.min(Job.run_after)).where(_STATUS_QUEUED, Job.run_after <= now)
        ).scalar_one_or_none()
        return None if value is None else _as_utc(value)

    def count_expired_leases(self, now: dt.datetime) -> int:
        return self.count_where(_STATUS_RUNNING, Job.lease_expires_at < now)

    def count_where(self, *conditions: Any) -> int:
        return int(
            self.session.execute(sa.select(sa.func.count()).select_from(Job).where(*conditions)).scalar_one()
        )

    def delete_finished_before(self, statuses: Sequence[str], cutoff: dt.datetime, batch: int) -> int:
        ids = (
            sa.select(Job.id)
            .where(Job.status.in_(list(statuses)), Job.finished_at < cutoff)
            .order_by(Job.id)
            .limit(batch)
            .scalar_subquery()
        )
        result = self.session.execute(sa.delete(Job).where(Job.id.in_(ids)), execution_options=_NO_SYNC)
        return int(result.rowcount)  # type: ignore[attr-defined]


class SchedulerRunRepository(RepositoryBase[SchedulerRun]):
    model = SchedulerRun

    def all_by_name(self) -> dict[str, SchedulerRun]:
        return {run.name: run for run in self.session.scalars(sa.select(SchedulerRun))}

    def insert_baseline(self, name: str, fire_at: dt.datetime, now: dt.datetime) -> bool:
        statement = (
            _insert(self.session)(SchedulerRun)
            .values(name=name, last_fire_at=fire_at, updated_at=now)
            .on_conflict_do_nothing(index_elements=[SchedulerRun.name])
        )
        return bool(self.session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def claim_fire(self, name: str, due: dt.datetime, now: dt.datetime) -> bool:
        """The race every scheduler runs for a fire time: exactly one conditional UPDATE matches."""
        result = self.session.execute(
            sa.update(SchedulerRun)
            .where(SchedulerRun.name == name, SchedulerRun.last_fire_at < due)
            .values(last_fire_at=due, updated_at=now),
            execution_options=_NO_SYNC,
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def set_last_job(self, name: str, job_id: int | None) -> None:
        self.session.execute(
            sa.update(SchedulerRun).where(SchedulerRun.name == name).values(last_job_id=job_id),
            execution_options=_NO_SYNC,
        )


class RateLimitRepository(RepositoryBase[RateLimitBucket]):
    model = RateLimitBucket

    def lock_tat(self, name: str, now: dt.datetime) -> float:
        """The bucket's state, row-locked until the transaction ends (created on first use). On SQLite the
        write transaction (BEGIN IMMEDIATE) is the lock."""
        self.session.execute(
            _insert(self.session)(RateLimitBucket)
            .values(name=name, tat=0.0, updated_at=now)
            .on_conflict_do_nothing(index_elements=[RateLimitBucket.name])
        )
        return float(
            self.session.execute(
                sa.select(RateLimitBucket.tat).where(RateLimitBucket.name == name).with_for_update()
            ).scalar_one()
        )

    def store_tat(self, name: str, tat: float, now: dt.datetime) -> None:
        self.session.execute(
            sa.update(RateLimitBucket).where(RateLimitBucket.name == name).values(tat=tat, updated_at=now),
            execution_options=_NO_SYNC,
        )


_JOB_COLUMNS = ", ".join(column.name for column in Job.__table__.columns)

_MARK_CLAIMED_SQL = (
    sa.text(
        f"""UPDATE jobs SET status = '{IN_PROGRESS}', attempts = attempts + 1, lease_owner = :owner,
        lease_expires_at = :lease_until, heartbeat_at = :now, started_at = :now
        WHERE id IN :ids AND status = '{QUEUED}'
        RETURNING {_JOB_COLUMNS}"""
    )
    .bindparams(
        sa.bindparam("ids", expanding=True),
        sa.bindparam("now", type_=UTCDateTime()),
        sa.bindparam("lease_until", type_=UTCDateTime()),
    )
    .columns(*Job.__table__.columns)
)

_COMPLETE_SQL = sa.text(
    f"""UPDATE jobs SET status = :status, result = :result, finished_at = :finished_at,
    lease_owner = NULL, lease_expires_at = NULL
    WHERE id = :id AND status = '{IN_PROGRESS}' AND attempts = :attempt AND lease_owner = :owner"""
).bindparams(
    sa.bindparam("result", type_=JSONType),
    sa.bindparam("finished_at", type_=UTCDateTime()),
)


@functools.lru_cache(maxsize=64)
def _claim_candidates_sql(postgres: bool, with_kinds: bool, cap_count: int) -> sa.TextClause:
    conditions = [f"status = '{QUEUED}'", "run_after <= :now"]
    binds: list[sa.BindParameter[Any]] = [
        sa.bindparam("now", type_=UTCDateTime()),
        sa.bindparam("limit", type_=sa.Integer()),
    ]
    if with_kinds:
        conditions.append("kind IN :kinds")
        binds.append(sa.bindparam("kinds", expanding=True))
    if cap_count:
        cases = " ".join(f"WHEN :cap_channel_{i} THEN :cap_{i}" for i in range(cap_count))
        conditions.append(
            "(channel IS NULL OR channel NOT IN ("
            f"SELECT channel FROM jobs WHERE status = '{IN_PROGRESS}' AND lease_expires_at > :now "
            "AND channel IN :capped GROUP BY channel "
            f"HAVING count(*) >= CASE channel {cases} END))"
        )
        binds.append(sa.bindparam("capped", expanding=True))
    sql = (
        "SELECT id, channel FROM jobs WHERE "
        + " AND ".join(conditions)
        + " ORDER BY priority, run_after, id LIMIT :limit"
        + (" FOR UPDATE SKIP LOCKED" if postgres else "")
    )
    return sa.text(sql).bindparams(*binds)


def _as_utc(value: Any) -> dt.datetime:
    from riff.core.clock import UTC

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
    return value.astimezone(UTC)  # type: ignore[no-any-return]
