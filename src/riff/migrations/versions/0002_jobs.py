"""job engine tables (jobs, scheduler leases, rate-limit buckets)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_QUEUED = sa.text("status = 'queued'")
_RUNNING = sa.text("status = 'in_progress'")
_FINISHED = sa.text("finished_at IS NOT NULL")
_COALESCING = sa.text("status = 'queued' AND coalesce_key IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", _BIGINT_ID, nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("coalesce_key", sa.String(length=200), nullable=True),
        sa.Column("last_error_message", sa.Text(), nullable=True),
        sa.Column("last_error_class", sa.String(length=200), nullable=True),
        sa.Column("last_error_retryable", sa.Boolean(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        # Partial indexes (SQLite 3.8+ and PostgreSQL; ON CONFLICT can target them). Few and partial on
        # purpose: only the claim-order index covers queued rows, so claims always walk it in order.
        batch_op.create_index(
            "uq_jobs_coalesce_key_queued",
            ["coalesce_key"],
            unique=True,
            sqlite_where=_COALESCING,
            postgresql_where=_COALESCING,
        )
        batch_op.create_index(
            "ix_jobs_queued_order",
            ["priority", "run_after", "id"],
            unique=False,
            sqlite_where=_QUEUED,
            postgresql_where=_QUEUED,
        )
        batch_op.create_index(
            "ix_jobs_running_channel",
            ["channel"],
            unique=False,
            sqlite_where=_RUNNING,
            postgresql_where=_RUNNING,
        )
        batch_op.create_index(
            "ix_jobs_running_lease",
            ["lease_expires_at"],
            unique=False,
            sqlite_where=_RUNNING,
            postgresql_where=_RUNNING,
        )
        batch_op.create_index(
            "ix_jobs_finished",
            ["status", "finished_at"],
            unique=False,
            sqlite_where=_FINISHED,
            postgresql_where=_FINISHED,
        )
        batch_op.create_index("ix_jobs_product_id", ["product_id"], unique=False)
        batch_op.create_index("ix_jobs_listing_id", ["listing_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # A queue table churns: vacuum and analyze it after ~2 % of its rows changed, not the default 20 %,
        # so dead index entries and stale statistics never pile up under the claim query.
        op.execute(
            "ALTER TABLE jobs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 200, "
            "autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200)"
        )

    op.create_table(
        "scheduler_runs",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("last_fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_job_id", _BIGINT_ID, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_runs")),
    )
    op.create_table(
        "rate_limit_buckets",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rate_limit_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_buckets")
    op.drop_table("scheduler_runs")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_listing_id")
        batch_op.drop_index("ix_jobs_product_id")
        batch_op.drop_index("ix_jobs_finished", sqlite_where=_FINISHED, postgresql_where=_FINISHED)
        batch_op.drop_index("ix_jobs_running_lease", sqlite_where=_RUNNING, postgresql_where=_RUNNING)
        batch_op.drop_index("ix_jobs_running_channel", sqlite_where=_RUNNING, postgresql_where=_RUNNING)
        batch_op.drop_index("ix_jobs_queued_order", sqlite_where=_QUEUED, postgresql_where=_QUEUED)
        batch_op.drop_index(
            "uq_jobs_coalesce_key_queued", sqlite_where=_COALESCING, postgresql_where=_COALESCING
        )
    op.drop_table("jobs")
