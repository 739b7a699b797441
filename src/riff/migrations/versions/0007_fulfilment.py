"""fulfilment: shipments, DHL labels, tracking uploads, notifications

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=40), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "label_pending",
                "label_failed",
                "label_created",
                "in_transit",
                "out_for_delivery",
                "delivered",
                "exception",
                "cancelled",
                name="shipmentstatus",
                native_enum=False,
                create_constraint=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("product_code", sa.String(length=10), nullable=True),
        sa.Column("product_name", sa.String(length=120), nullable=True),
        sa.Column("message_reference", sa.String(length=64), nullable=True),
        sa.Column("tracking_number", sa.String(length=64), nullable=True),
        sa.Column("tracking_url", sa.String(length=500), nullable=True),
        sa.Column("piece_numbers", JSON, nullable=False),
        sa.Column("ship_from", JSON, nullable=False),
        sa.Column("ship_to", JSON, nullable=False),
        sa.Column("parcels", JSON, nullable=False),
        sa.Column("customs", JSON, nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("price_currency", sa.String(length=3), nullable=True),
        sa.Column("request_payload", JSON, nullable=True),
        sa.Column("documents", JSON, nullable=False),
        sa.Column("planned_ship_at", TS, nullable=True),
        sa.Column("label_created_at", TS, nullable=True),
        sa.Column("estimated_delivery_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", TS, nullable=True),
        sa.Column("tracking_events", JSON, nullable=False),
        sa.Column("tracking_checked_at", TS, nullable=True),
        sa.Column(
            "upload_status",
            sa.Enum(
                "not_started",
                "pending",
                "confirmed",
                "failed",
                "not_supported",
                name="uploadstatus",
                native_enum=False,
                create_constraint=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("upload_attempts", sa.Integer(), nullable=False),
        sa.Column("upload_error", sa.Text(), nullable=True),
        sa.Column("upload_job_id", sa.Integer(), nullable=True),
        sa.Column("upload_confirmed_at", TS, nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("message_reference", name=op.f("uq_shipments_message_reference")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index("ix_shipments_status", ["status"], unique=False)
        batch_op.create_index("ix_shipments_tracking_number", ["tracking_number"], unique=False)
        batch_op.create_index(
            "uq_shipments_order_live",
            ["order_id"],
            unique=True,
            sqlite_where=sa.text("status != 'cancelled'"),
            postgresql_where=sa.text("status != 'cancelled'"),
        )

    op.create_table(
        "fulfilment_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "new_order",
                "oversell",
                "shipment_exception",
                "tracking_upload_failed",
                name="alertkind",
                native_enum=False,
                create_constraint=False,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                "skipped",
                name="alertstatus",
                native_enum=False,
                create_constraint=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_alerts")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_fulfilment_alerts_dedupe_key")),
    )
    with op.batch_alter_table("fulfilment_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_fulfilment_alerts_status", ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fulfilment_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_fulfilment_alerts_status")
    op.drop_table("fulfilment_alerts")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("uq_shipments_order_live")
        batch_op.drop_index("ix_shipments_tracking_number")
        batch_op.drop_index("ix_shipments_status")
    op.drop_table("shipments")
