"""Migrations run identically on both databases, up and down."""

from __future__ import annotations

import sqlalchemy as sa

from riff.core import migrate
from riff.core.db import Database
from riff.core.schema import metadata


def test_upgrade_creates_every_table_and_downgrade_removes_them(database: Database) -> None:
    url = database.url
    inspector = sa.inspect(database.engine)
    assert set(metadata.tables) <= set(inspector.get_table_names())
    database.dispose()
    migrate.downgrade(url, "base")
    try:
        remaining = set(sa.inspect(Database(url).engine).get_table_names()) & set(metadata.tables)
        assert remaining == set()
    finally:
        migrate.upgrade(url)
    assert migrate.is_current(Database(url).engine)


def test_health_reports_current_migrations(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["migrations"] == "current"
    assert client.get("/version").json()["version"]
