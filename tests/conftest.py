"""Test harness: every database test runs on a real SQLite file and, when RIFF_TEST_POSTGRES_URL is set,
on PostgreSQL too. Each backend is migrated once per pytest worker with Alembic (never create_all);
tables are emptied after each test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.core import clock, migrate
from riff.core.db import Database
from riff.core.schema import metadata
from riff.core.settings import Settings

POSTGRES_URL = os.environ.get("RIFF_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def _pg_url(base: str, dbname: str) -> str:
    url = sa.make_url(Settings(database_url=base).resolved_database_url)
    return url.set(database=dbname).render_as_string(hide_password=False)


def _create_pg_database(base: str, dbname: str) -> str:
    admin = sa.create_engine(_pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
    admin.dispose()
    return _pg_url(base, dbname)


def _drop_pg_database(base: str, dbname: str) -> None:
    admin = sa.create_engine(_pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
    return f"{worker}_{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory, worker_id_safe: str) -> Iterator[dict[str, str]]:
    """One migrated database per backend for this pytest worker."""
    urls: dict[str, str] = {}
    sqlite_path = tmp_path_factory.mktemp("db") / "riff-test.db"
    urls["sqlite"] = f"sqlite:///{sqlite_path}"
    migrate.upgrade(urls["sqlite"])
    pg_name = f"riff_test_{worker_id_safe}"
    if POSTGRES_URL:
        urls["postgres"] = _create_pg_database(POSTGRES_URL, pg_name)
        migrate.upgrade(urls["postgres"])
    yield urls
    if POSTGRES_URL:
        _drop_pg_database(POSTGRES_URL, pg_name)


def empty_all_tables(database: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.exec_driver_sql(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
        else:
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')
            conn.exec_driver_sql("DELETE FROM sqlite_sequence") if _has_sqlite_sequence(conn) else None


def _has_sqlite_sequence(conn: sa.Connection) -> bool:
    return bool(conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database(backend: str, migrated_urls: dict[str, str]) -> Iterator[Database]:
    db = Database(migrated_urls[backend])
    empty_all_tables(db)
    yield db
    empty_all_tables(db)
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database.url, secret_key="test-secret-key-not-for-prod"
    )


@pytest.fixture
def app(settings: Settings, database: Database):  # type: ignore[no-untyped-def]
    from riff.app import create_app

    return create_app(settings, database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    frozen = clock.FrozenClock()
    clock.set_clock(frozen)
    yield frozen
    clock.set_clock(None)


@pytest.fixture
def make_client(app, database: Database):  # type: ignore[no-untyped-def]
    """``make_client(role)`` → a TestClient authenticated with a fresh user's bearer token."""
    from riff.auth.models import Role
    from riff.auth.service import create_api_token, create_user

    clients: list[TestClient] = []

    def _make(role: str = "owner", username: str | None = None) -> TestClient:
        with database.session() as session:
            user = create_user(
                session,
                username=username or f"{role}-{uuid.uuid4().hex[:6]}",
                password="correct horse",
                role=Role(role),
            )
            _, token = create_api_token(session, user, name="tests")
        test_client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield _make
    for test_client in clients:
        test_client.__exit__(None, None, None)


@pytest.fixture
def owner_client(make_client) -> TestClient:  # type: ignore[no-untyped-def]
    return make_client("owner")  # type: ignore[no-any-return]
