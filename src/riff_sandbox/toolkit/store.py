"""Persistent sandbox state: one SQLite file per sandbox holding JSON documents keyed by
(collection, id), named counters and the request log.

Concurrency: every transaction takes a per-store lock and opens with ``BEGIN IMMEDIATE``, so request
handlers running in parallel threads (and, rarely, a second process on the same file) are serialised.
Transactions are re-entrant per thread: a nested ``transaction()`` joins the outer one.

This schema belongs to the sandbox, not to RIFF, so it is created with ``create_all`` on open; RIFF's own
"Alembic only" rule is about RIFF's database.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

Document = dict[str, Any]

_metadata = sa.MetaData()

_documents = sa.Table(
    "documents",
    _metadata,
    sa.Column("collection", sa.String, primary_key=True),
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)

_counters = sa.Table(
    "counters",
    _metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

_request_log = sa.Table(
    "request_log",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String, nullable=False),
    sa.Column("method", sa.String, nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("query", sa.String, nullable=False),
    sa.Column("headers", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("fault", sa.String, nullable=True),
    sa.Column("duration_ms", sa.Float, nullable=False),
)

# Hot paths use plain SQLite statements: building SQLAlchemy expressions costs more than running them.
# Documents keep their insertion order through SQLite's rowid, which an upsert leaves unchanged.
_GET = "SELECT body FROM documents WHERE collection = ? AND id = ?"
_PUT = (
    "INSERT INTO documents (collection, id, body) VALUES (?, ?, ?) "
    "ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body"
)
_DELETE = "DELETE FROM documents WHERE collection = ? AND id = ?"
_LIST = "SELECT body FROM documents WHERE collection = ? ORDER BY rowid"
_COUNT = "SELECT count(*) FROM documents WHERE collection = ?"
_NEXT = (
    "INSERT INTO counters (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
)


class Transaction:
    """Document operations inside one SQLite transaction. Documents are plain JSON objects."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def _run(self, statement: str, *parameters: Any) -> Any:
        return self._connection.exec_driver_sql(statement, parameters)

    def get(self, collection: str, document_id: str | int) -> Document | None:
        row = self._run(_GET, collection, str(document_id)).first()
        return json.loads(row[0]) if row else None

    def put(self, collection: str, document_id: str | int, body: Document) -> None:
        """Insert or replace a document; a replaced document keeps its place in the collection order."""
        self._run(_PUT, collection, str(document_id), json.dumps(body, separators=(",", ":")))

    def delete(self, collection: str, document_id: str | int) -> bool:
        return bool(self._run(_DELETE, collection, str(document_id)).rowcount > 0)

    def list(self, collection: str) -> list[Document]:
        """All documents of a collection in insertion order."""
        return [json.loads(row[0]) for row in self._run(_LIST, collection)]

    def count(self, collection: str) -> int:
        return int(self._run(_COUNT, collection).scalar_one())

    def clear_collection(self, collection: str) -> None:
        self._run("DELETE FROM documents WHERE collection = ?", collection)

    def next_value(self, name: str, start: int = 1) -> int:
        """The next value of a named counter: ``start`` the first time, then one more each call."""
        return int(self._run(_NEXT, name, start).scalar_one())

    def clear_all(self) -> None:
        """Remove every document, counter and logged request."""
        self._run("DELETE FROM documents")
        self._run("DELETE FROM counters")
        self._run("DELETE FROM request_log")


class DocumentStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._engine = sa.create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30}
        )
        sa.event.listen(self._engine, "connect", _on_connect)
        sa.event.listen(self._engine, "begin", _on_begin)
        self._lock = threading.RLock()
        self._local = threading.local()
        _metadata.create_all(self._engine)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        current: Transaction | None = getattr(self._local, "transaction", None)
        if current is not None:
            yield current
            return
        with self._lock, self._engine.begin() as connection:
            transaction = Transaction(connection)
            self._local.transaction = transaction
            try:
                yield transaction
            finally:
                self._local.transaction = None

    def log_request(self, entry: dict[str, Any]) -> int:
        with self.transaction() as tx:
            result = tx._connection.execute(
                sa.insert(_request_log).values(
                    at=entry["at"],
                    method=entry["method"],
                    path=entry["path"],
                    query=entry["query"],
                    headers=json.dumps(entry["headers"]),
                    body=None if entry.get("body") is None else json.dumps(entry["body"]),
                    status=entry["status"],
                    fault=entry.get("fault"),
                    duration_ms=entry["duration_ms"],
                )
            )
            primary_key = result.inserted_primary_key
            return int(primary_key[0]) if primary_key else 0

    def requests(self, *, path_prefix: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(_request_log).order_by(_request_log.c.id)
        if path_prefix:
            query = query.where(_request_log.c.path.startswith(path_prefix, autoescape=True))
        if method:
            query = query.where(_request_log.c.method == method.upper())
        with self.transaction() as tx:
            rows = tx._connection.execute(query).mappings().all()
        return [
            {
                "id": row["id"],
                "at": row["at"],
                "method": row["method"],
                "path": row["path"],
                "query": row["query"],
                "headers": json.loads(row["headers"]),
                "body": None if row["body"] is None else json.loads(row["body"]),
                "status": row["status"],
                "fault": row["fault"],
                "duration_ms": row["duration_ms"],
            }
            for row in rows
        ]

    def clear_requests(self) -> None:
        with self.transaction() as tx:
            tx._connection.execute(sa.delete(_request_log))

    def close(self) -> None:
        self._engine.dispose()


class SeededCollection:
    """A collection that only a seed writes (the research sandboxes' search indexes): read from the store on
    first use, then shared until ``forget`` (called when seeding). Callers must not change the documents."""

    def __init__(self, store: DocumentStore, collection: str) -> None:
        self._store = store
        self._collection = collection
        self._lock = threading.Lock()
        self._documents: list[Document] | None = None

    def all(self) -> list[Document]:
        with self._lock:
            cached = self._documents
        if cached is None:
            with self._store.transaction() as tx:
                cached = tx.list(self._collection)
            with self._lock:
                self._documents = cached
        return cached

    def forget(self) -> None:
        with self._lock:
            self._documents = None


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN IMMEDIATE itself (pysqlite's own implicit BEGIN is
    # deferred, which lets two writers deadlock on upgrade).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
