"""Waking workers the moment work is committed; polling is only the fallback.

- Same process: ``enqueue`` flags the session; a SQLAlchemy ``after_commit`` listener then sets every
  registered worker's wake event. A rolled-back transaction wakes nobody.
- PostgreSQL, any process on any host: ``enqueue`` runs ``pg_notify`` in the caller's transaction, so
  PostgreSQL delivers it on commit (and drops it on rollback); each worker LISTENs on a psycopg 3
  connection in autocommit mode.
- SQLite, several processes on one host: there is no NOTIFY; each worker polls ``PRAGMA data_version``
  (which changes when any other connection commits) every few milliseconds on a connection of its own.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from riff.core.db import Database
from riff.core.logging import get_logger
from riff.jobs.consts import NOTIFY_CHANNEL

log = get_logger(__name__)

_ENQUEUED_FLAG = "riff_jobs_enqueued"
_PG_NOTIFIED_FLAG = "riff_jobs_pg_notified"
SQLITE_WATCH_INTERVAL_SECONDS = 0.01
LISTEN_RECONNECT_SECONDS = 2.0

_wake_events: weakref.WeakSet[threading.Event] = weakref.WeakSet()
_wake_lock = threading.Lock()


def register_wake_event(event: threading.Event) -> None:
    with _wake_lock:
        _wake_events.add(event)


def unregister_wake_event(event: threading.Event) -> None:
    with _wake_lock:
        _wake_events.discard(event)


def wake_local_workers() -> None:
    with _wake_lock:
        events = list(_wake_events)
    for event in events:
        event.set()


def mark_enqueued(session: Session) -> None:
    """Called by ``enqueue`` inside the caller's transaction."""
    session.info[_ENQUEUED_FLAG] = True
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and not session.info.get(_PG_NOTIFIED_FLAG):
        # One NOTIFY per transaction is enough (PostgreSQL folds duplicates anyway); bulk enqueues stay cheap.
        session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        session.info[_PG_NOTIFIED_FLAG] = True


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_ENQUEUED_FLAG, False):
        wake_local_workers()
    session.info.pop(_PG_NOTIFIED_FLAG, None)


@sa.event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # The outermost transaction ended; after a commit the flags were already consumed above.
        session.info.pop(_ENQUEUED_FLAG, None)
        session.info.pop(_PG_NOTIFIED_FLAG, None)


class PostgresListener:
    """A thread that LISTENs for enqueue notifications and sets ``wake``; reconnects after errors."""

    def __init__(self, database: Database, wake: threading.Event, stop: threading.Event) -> None:
        self._conninfo = _libpq_url(database)
        self._wake = wake
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="riff-jobs-listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.connected.set()
                    # Anything committed while we were (re)connecting: wake once to look.
                    self._wake.set()
                    while not self._stop.is_set():
                        for _notify in conn.notifies(timeout=0.5, stop_after=1):
                            self._wake.set()
            except Exception as exc:  # a database restart must not kill the worker; polling covers the gap
                self.connected.clear()
                log.warning("jobs.listen.error", error=type(exc).__name__, message=str(exc)[:200])
                self._stop.wait(LISTEN_RECONNECT_SECONDS)
        self.connected.clear()


class SqliteChangeWatcher:
    """A thread that sets ``wake`` whenever another connection commits to the SQLite database.

    ``PRAGMA data_version`` on a connection of our own changes exactly when some other connection (any
    process) has committed since the last look; it reads the shared WAL index, no table, no lock. (Watching
    the ``-wal`` file's size or mtime instead races with the commit being published.)"""

    def __init__(self, database: Database, wake: threading.Event, stop: threading.Event) -> None:
        path = database.engine.url.database or ""
        self._path = path if path and path != ":memory:" else ""
        self._wake = wake
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="riff-jobs-sqlite-watch", daemon=True)

    @property
    def enabled(self) -> bool:
        return bool(self._path)

    def start(self) -> None:
        if self.enabled:
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        last: int | None = None
        connection: sqlite3.Connection | None = None
        while not self._stop.wait(SQLITE_WATCH_INTERVAL_SECONDS):
            try:
                if connection is None:
                    connection = sqlite3.connect(self._path, timeout=1.0, isolation_level=None)
                current = int(connection.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error as exc:  # the file is being replaced or locked; polling covers the gap
                log.warning("jobs.sqlite_watch.error", error=type(exc).__name__, message=str(exc)[:200])
                if connection is not None:
                    connection.close()
                connection = None
                self._stop.wait(LISTEN_RECONNECT_SECONDS)
                continue
            if current != last:
                last = current
                self._wake.set()
        if connection is not None:
            connection.close()


def _libpq_url(database: Database) -> str:
    return database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
