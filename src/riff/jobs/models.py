"""Job-engine tables: the job queue (transactional outbox), scheduler fire times, shared rate-limit buckets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from riff.core.clock import utcnow
from riff.core.models import Base, JSONType, UTCDateTime
from riff.jobs.consts import MAX_COALESCE_KEY_CHARS, MAX_KIND_CHARS, JobStatus

# BIGINT on PostgreSQL; SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_QUEUED = sa.text("status = 'queued'")
_RUNNING = sa.text("status = 'in_progress'")
_FINISHED = sa.text("finished_at IS NOT NULL")
# The predicate of the coalescing index; ON CONFLICT must name it to infer that index.
COALESCING = sa.text("status = 'queued' AND coalesce_key IS NOT NULL")


class Job(Base):
    """One marketplace call (or other background work) to run at least once, exactly-once completed.

    ``product_id`` / ``listing_id`` are plain indexed integers, not foreign keys: the job history keeps
    pointing at a product after it is deleted, and enqueueing never waits on a product row lock.
    """

    __tablename__ = "jobs"
    # Indexes are few and mostly partial, on purpose: this is a high-churn queue table. The only index that
    # covers queued rows is the claim order, so PostgreSQL always claims with an ordered index scan (which
    # also marks dead index entries as it passes) instead of bitmap-scanning a status index.
    __table_args__ = (
        # At most one *queued* job per coalesce key: ten quick edits of a product cost one marketplace call.
        # Enqueue uses INSERT ... ON CONFLICT DO NOTHING against this index, so racing processes cannot
        # slip a duplicate in.
        sa.Index(
            "uq_jobs_coalesce_key_queued",
            "coalesce_key",
            unique=True,
            sqlite_where=COALESCING,
            postgresql_where=COALESCING,
        ),
        # The claim order, over queued rows only.
        sa.Index(
            "ix_jobs_queued_order",
            "priority",
            "run_after",
            "id",
            sqlite_where=_QUEUED,
            postgresql_where=_QUEUED,
        ),
        # Running jobs: per-channel caps, lease renewal and the expired-lease sweep.
        sa.Index("ix_jobs_running_channel", "channel", sqlite_where=_RUNNING, postgresql_where=_RUNNING),
        sa.Index(
            "ix_jobs_running_lease", "lease_expires_at", sqlite_where=_RUNNING, postgresql_where=_RUNNING
        ),
        # Finished jobs: pruning and "failed in the last hour".
        sa.Index(
            "ix_jobs_finished",
            "status",
            "finished_at",
            sqlite_where=_FINISHED,
            postgresql_where=_FINISHED,
        ),
        sa.Index("ix_jobs_product_id", "product_id"),
        sa.Index("ix_jobs_listing_id", "listing_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(MAX_KIND_CHARS))
    channel: Mapped[str | None] = mapped_column(sa.String(40))
    product_id: Mapped[int | None] = mapped_column(sa.Integer)
    listing_id: Mapped[int | None] = mapped_column(sa.Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(sa.String(30), default=JobStatus.QUEUED.value)
    priority: Mapped[int] = mapped_column(sa.Integer)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(sa.Integer)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(sa.String(120))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    coalesce_key: Mapped[str | None] = mapped_column(sa.String(MAX_COALESCE_KEY_CHARS))
    last_error_message: Mapped[str | None] = mapped_column(sa.Text)
    last_error_class: Mapped[str | None] = mapped_column(sa.String(200))
    last_error_retryable: Mapped[bool | None] = mapped_column(sa.Boolean)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status} attempt {self.attempts}/{self.max_attempts}>"


class SchedulerRun(Base):
    """The last fire time of each schedule. Schedulers in every process race with a conditional UPDATE
    (``WHERE last_fire_at < :due``); exactly one wins a given fire time and enqueues in the same transaction."""

    __tablename__ = "scheduler_runs"

    name: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    last_fire_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_job_id: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RateLimitBucket(Base):
    """Shared GCRA state per bucket: ``tat`` is the theoretical arrival time, in epoch seconds."""

    __tablename__ = "rate_limit_buckets"

    name: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    tat: Mapped[float] = mapped_column(sa.Double())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
