"""records: the typed extension of products for records (release, artists, grades...) and their facets

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=True),
        sa.Column("artist", sa.String(length=500), nullable=False),
        sa.Column("artists", JSON, nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("catalog_number", sa.String(length=200), nullable=True),
        sa.Column("format_text", sa.String(length=300), nullable=True),
        sa.Column("formats", JSON, nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("genres", JSON, nullable=False),
        sa.Column("styles", JSON, nullable=False),
        sa.Column("media_condition", sa.String(length=40), nullable=True),
        sa.Column("sleeve_condition", sa.String(length=40), nullable=True),
        sa.Column("have_count", sa.Integer(), nullable=True),
        sa.Column("want_count", sa.Integer(), nullable=True),
        sa.Column("cover_image_url", sa.String(length=1000), nullable=True),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("release_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_records_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_records")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_release_id"), ["release_id"], unique=False)

    op.create_table(
        "record_facets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["records.product_id"],
            name=op.f("fk_record_facets_product_id_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_facets")),
        sa.UniqueConstraint("product_id", "kind", "value", name="uq_record_facets_product_kind_value"),
    )
    with op.batch_alter_table("record_facets", schema=None) as batch_op:
        batch_op.create_index("ix_record_facets_kind_value", ["kind", "value"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_facets_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("record_facets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_facets_product_id"))
        batch_op.drop_index("ix_record_facets_kind_value")
    op.drop_table("record_facets")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_release_id"))
    op.drop_table("records")
