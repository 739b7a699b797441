"""channel framework tables (webhook inbox)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("object_id", sa.String(length=120), nullable=True),
        sa.Column("payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_channel_events_account_id_channel_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_events")),
        sa.UniqueConstraint("channel", "external_id", name="uq_channel_events_channel_external_id"),
    )
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.create_index("ix_channel_events_handled_at", ["handled_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("channel_events", schema=None) as batch_op:
        batch_op.drop_index("ix_channel_events_handled_at")
    op.drop_table("channel_events")
