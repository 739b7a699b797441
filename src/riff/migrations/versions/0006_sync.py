"""sync engine and unified orders: orders, order_lines, sync_channel_state, sync_unmatched,
sync_field_changes, sync_sale_propagations

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sync_channel_state",
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("pull_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_pull_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_pull_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_pull_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_pull_stats", JSON, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reconciliation", JSON, nullable=True),
        sa.Column("last_reconciled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_sync_channel_state")),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("remote_order_id", sa.String(length=120), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_payment",
                "paid",
                "awaiting_shipment",
                "shipped",
                "delivered",
                "cancelled",
                "refunded",
                name="orderstatus",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("remote_status", sa.String(length=60), nullable=True),
        sa.Column(
            "source",
            sa.Enum("webhook", "poll", "ship", "inferred", name="ordersource", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("buyer_name", sa.String(length=300), nullable=True),
        sa.Column("buyer_email", sa.String(length=300), nullable=True),
        sa.Column("shipping_address", JSON, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("subtotal", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("shipping", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("tax", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("fees", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("raw", JSON, nullable=False),
        sa.Column("oversold", sa.Boolean(), nullable=False),
        sa.Column("followup", sa.Text(), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_orders_account_id_channel_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("channel", "remote_order_id", name="uq_orders_channel_remote_order_id"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_received_at", ["received_at"], unique=False)
        batch_op.create_index("ix_orders_status", ["status"], unique=False)

    op.create_table(
        "sync_field_changes",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_sync_field_changes_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "field", name=op.f("pk_sync_field_changes")),
    )
    op.create_table(
        "sync_sale_propagations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("targets", JSON, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_sync_sale_propagations_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_sync_sale_propagations_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_sale_propagations")),
    )
    with op.batch_alter_table("sync_sale_propagations", schema=None) as batch_op:
        batch_op.create_index("ix_sync_sale_propagations_completed_at", ["completed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_sale_propagations_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "sync_unmatched",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("remote_id", sa.String(length=120), nullable=False),
        sa.Column("sku", sa.String(length=120), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("candidates", JSON, nullable=False),
        sa.Column("best_product_id", sa.Integer(), nullable=True),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "open", "matched", "created", "ignored", name="unmatchedstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("resolved_product_id", sa.Integer(), nullable=True),
        sa.Column("resolved_by", sa.String(length=120), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["best_product_id"],
            ["products.id"],
            name=op.f("fk_sync_unmatched_best_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_product_id"],
            ["products.id"],
            name=op.f("fk_sync_unmatched_resolved_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_unmatched")),
        sa.UniqueConstraint("channel", "remote_id", name="uq_sync_unmatched_channel_remote_id"),
    )
    with op.batch_alter_table("sync_unmatched", schema=None) as batch_op:
        batch_op.create_index("ix_sync_unmatched_status_channel", ["status", "channel"], unique=False)

    op.create_table(
        "order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("listing_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("remote_listing_id", sa.String(length=120), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "stock_state",
            sa.Enum(
                "pending",
                "applied",
                "oversold",
                "unmatched",
                "restored",
                "transferred",
                "none",
                name="stockstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["listings.id"],
            name=op.f("fk_order_lines_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_order_lines_product_id_products"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_id", "position", name="uq_order_lines_order_position"),
    )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_index("ix_order_lines_listing_state", ["listing_id", "stock_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_lines_product_id"), ["product_id"], unique=False)

    with op.batch_alter_table("sync_events", schema=None) as batch_op:
        batch_op.create_index("ix_sync_events_listing_kind", ["listing_id", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sync_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_events_listing_kind")

    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_lines_product_id"))
        batch_op.drop_index(batch_op.f("ix_order_lines_order_id"))
        batch_op.drop_index("ix_order_lines_listing_state")

    op.drop_table("order_lines")
    with op.batch_alter_table("sync_unmatched", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_unmatched_status_channel")

    op.drop_table("sync_unmatched")
    with op.batch_alter_table("sync_sale_propagations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_sale_propagations_product_id"))
        batch_op.drop_index("ix_sync_sale_propagations_completed_at")

    op.drop_table("sync_sale_propagations")
    op.drop_table("sync_field_changes")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status")
        batch_op.drop_index("ix_orders_received_at")

    op.drop_table("orders")
    op.drop_table("sync_channel_state")
