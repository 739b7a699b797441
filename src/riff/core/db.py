"""Engines and the unit of work.

Services never commit: the boundary (an API request, a CLI command, a job run) opens a
``Database.session()`` scope that commits on success and rolls back on error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "riff_read_only"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run during a write; foreign keys are off by default in SQLite; the busy
    # timeout makes concurrent writers (API + worker processes) wait instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB page cache and memory-mapped reads: the catalog's list and search queries stay in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()
    # pysqlite's own transaction handling defers BEGIN until the first write, which breaks
    # read-then-write atomicity; we issue BEGIN ourselves (see _sqlite_begin).
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: sa.Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so two processes never both read a row
    # and then both write it: the second waits (busy_timeout) and then sees the first's commit.
    # Read-only scopes (Database.read_session) stay DEFERRED so readers never queue behind writers.
    if conn.get_execution_options().get(READ_ONLY_OPTION):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        sa.event.listen(engine, "connect", _configure_sqlite)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return sa.create_engine(url, **kwargs)


def is_postgres(engine_or_session: Engine | Session | sa.Connection) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


class Database:
    """An engine plus a session factory; one per process (and one per test database)."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = self.engine.execution_options(**{READ_ONLY_OPTION: True})
        self.read_sessionmaker = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A scope for reads only: never commits, and on SQLite does not take the write lock."""
        session = self.read_sessionmaker()
        try:
            yield session
        finally:
            # close(), not rollback(): the connection's transaction ends either way, but rollback()
            # would expire every loaded row, and callers read the rows they fetched after the scope.
            session.close()

    @contextlib.contextmanager
    def read_connection(self) -> Iterator[sa.Connection]:
        """A bare connection for a few hot reads (no ORM session to set up): never commits, and on
        SQLite does not take the write lock. ``Session(bind=conn)`` on it when an ORM read is needed."""
        with self.read_engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
