"""change generations: a counter per data area, bumped by triggers on every committed write

See ``riff.core.generations`` for what reads them and why the PostgreSQL triggers are deferred
constraint triggers (bump at commit, once per transaction, no lock held while waiting).

SQLite: a batch ALTER of one of these tables recreates it and drops its triggers, like the search
triggers of 0003; a later migration that does so must recreate them (``_create_sqlite_triggers``).
tests/core/test_generations.py checks they exist at head.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy, not an import: a migration is history and must not move when the code does.
AREA_TABLES: dict[str, tuple[str, ...]] = {
    "catalog": ("products", "categories", "listings", "channel_price_rules"),
    "auth": ("users", "api_tokens"),
}
EVENTS = ("INSERT", "UPDATE", "DELETE")
# The next value: one more, or the clock in microseconds if that is larger. Counters then also move
# forward past a restored backup's older values instead of walking back into numbers that cached
# entries may already carry.
SQLITE_NEXT = "max(value + 1, CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))"
POSTGRES_NEXT = "greatest(value + 1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"


def upgrade() -> None:
    op.create_table(
        "change_generations",
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("area", name=op.f("pk_change_generations")),
    )
    op.bulk_insert(
        sa.table("change_generations", sa.column("area", sa.String), sa.column("value", sa.BigInteger)),
        [{"area": area, "value": 1} for area in AREA_TABLES],
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_postgres_triggers()
    else:
        _create_sqlite_triggers()


def _create_sqlite_triggers() -> None:
    for area, tables in AREA_TABLES.items():
        for table in tables:
            for event in EVENTS:
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_bumps_{area} AFTER {event} ON {table} "
                    f"BEGIN UPDATE change_generations SET value = {SQLITE_NEXT} WHERE area = '{area}'; END"
                )


def _create_postgres_triggers() -> None:
    for area, tables in AREA_TABLES.items():
        # The flag is transaction-local (set_config(..., true)): one bump per transaction, however
        # many rows it wrote.
        op.execute(
            f"""
            CREATE FUNCTION riff_bump_{area}_generation() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF coalesce(current_setting('riff.bumped_{area}', true), '') = 'yes' THEN
                    RETURN NULL;
                END IF;
                PERFORM set_config('riff.bumped_{area}', 'yes', true);
                UPDATE change_generations SET value = {POSTGRES_NEXT} WHERE area = '{area}';
                RETURN NULL;
            END
            $$
            """
        )
        for table in tables:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {table}_bumps_{area} AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION riff_bump_{area}_generation()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_truncate_bumps_{area} AFTER TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION riff_bump_{area}_generation()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for area, tables in AREA_TABLES.items():
            for table in tables:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_truncate_bumps_{area} ON {table}")
                op.execute(f"DROP TRIGGER IF EXISTS {table}_bumps_{area} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS riff_bump_{area}_generation()")
    else:
        for area, tables in AREA_TABLES.items():
            for table in tables:
                for event in EVENTS:
                    op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_bumps_{area}")
    op.drop_table("change_generations")
