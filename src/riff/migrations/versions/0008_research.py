"""market research: market listings, sync jobs, trends, saved searches

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MONEY = sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    op.create_table(
        "market_listings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", MONEY, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("price_base", MONEY, nullable=True),
        sa.Column("condition", sa.String(length=60), nullable=True),
        sa.Column("brand", sa.String(length=120), nullable=True),
        sa.Column("size", sa.String(length=40), nullable=True),
        sa.Column("era", sa.String(length=10), nullable=True),
        sa.Column("category", sa.String(length=20), nullable=True),
        sa.Column("image_urls", JSON, nullable=False),
        sa.Column("seller", sa.String(length=120), nullable=True),
        sa.Column("engagement_score", sa.Float(), nullable=True),
        sa.Column("trend_score", sa.Float(), nullable=True),
        sa.Column("ai_tags", JSON, nullable=False),
        sa.Column("ai_analysis", JSON, nullable=True),
        sa.Column("ai_method", sa.String(length=80), nullable=True),
        sa.Column("analyzed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", JSON, nullable=False),
        sa.Column("sold", sa.Boolean(), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_listings")),
        sa.UniqueConstraint("platform", "external_id", name="uq_market_listings_platform_external_id"),
    )
    with op.batch_alter_table("market_listings", schema=None) as batch_op:
        batch_op.create_index("ix_market_listings_first_seen_at", ["first_seen_at"], unique=False)
        batch_op.create_index(
            "ix_market_listings_platform_last_seen", ["platform", "last_seen_at"], unique=False
        )
        batch_op.create_index("ix_market_listings_brand_price", ["brand", "price_base"], unique=False)
        batch_op.create_index("ix_market_listings_category", ["category"], unique=False)

    op.create_table(
        "market_sync_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("queries", JSON, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error_detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_sync_jobs")),
    )
    with op.batch_alter_table("market_sync_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_market_sync_jobs_platform_started", ["platform", "started_at"], unique=False
        )
        batch_op.create_index("ix_market_sync_jobs_status", ["status"], unique=False)
        batch_op.create_index("ix_market_sync_jobs_job_id", ["job_id"], unique=False)

    op.create_table(
        "market_trends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("brand", sa.String(length=120), nullable=False),
        sa.Column("listing_count", sa.Integer(), nullable=False),
        sa.Column("sold_count", sa.Integer(), nullable=False),
        sa.Column("avg_price", MONEY, nullable=True),
        sa.Column("median_price", MONEY, nullable=True),
        sa.Column("min_price", MONEY, nullable=True),
        sa.Column("max_price", MONEY, nullable=True),
        sa.Column("p25_price", MONEY, nullable=True),
        sa.Column("p75_price", MONEY, nullable=True),
        sa.Column("iqr_price", MONEY, nullable=True),
        sa.Column("avg_engagement", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_trends")),
        sa.UniqueConstraint(
            "period", "period_start", "platform", "category", "brand", name="uq_market_trends_period_key"
        ),
    )
    with op.batch_alter_table("market_trends", schema=None) as batch_op:
        batch_op.create_index("ix_market_trends_period_start", ["period_start"], unique=False)

    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("query", sa.String(length=200), nullable=False),
        sa.Column("platforms", JSON, nullable=False),
        sa.Column("min_price", MONEY, nullable=True),
        sa.Column("max_price", MONEY, nullable=True),
        sa.Column("filters", JSON, nullable=False),
        sa.Column("notify_enabled", sa.Boolean(), nullable=False),
        sa.Column("notify_url", sa.String(length=1000), nullable=True),
        sa.Column("last_listing_id", sa.Integer(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("match_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )


def downgrade() -> None:
    op.drop_table("saved_searches")
    with op.batch_alter_table("market_trends", schema=None) as batch_op:
        batch_op.drop_index("ix_market_trends_period_start")
    op.drop_table("market_trends")
    with op.batch_alter_table("market_sync_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_market_sync_jobs_job_id")
        batch_op.drop_index("ix_market_sync_jobs_status")
        batch_op.drop_index("ix_market_sync_jobs_platform_started")
    op.drop_table("market_sync_jobs")
    with op.batch_alter_table("market_listings", schema=None) as batch_op:
        batch_op.drop_index("ix_market_listings_category")
        batch_op.drop_index("ix_market_listings_brand_price")
        batch_op.drop_index("ix_market_listings_platform_last_seen")
        batch_op.drop_index("ix_market_listings_first_seen_at")
    op.drop_table("market_listings")
