"""Change generations: one counter per data area that every committed write to the area bumps.

A process may keep what it read from an area (a page of the product list, the user behind a
token) and serve it again for as long as the area's generation has not moved: one primary-key read
of a two-row table tells it whether any process, on any host, has committed a change since. The
counters are kept by database triggers (migration 0009), so no code path can forget to bump them:
ORM writes, Core bulk writes, the job worker, the CLI and a hand-typed SQL UPDATE all count.

- SQLite: row triggers bump the counter inside the writing transaction (SQLite has one writer at a
  time, so this adds no contention).
- PostgreSQL: the row triggers are deferred constraint triggers, so the counter row is updated at
  commit, as the transaction's last act: its lock is held for microseconds and never while the
  transaction waits for another lock (no deadlock), and a transaction-local flag makes it one bump
  per transaction. TRUNCATE bumps through a statement trigger. The cost: transactions that write an
  area take turns on its counter row for the length of their commit (the WAL flush), so such commits
  no longer share one flush; a shop's catalog sees a few a second, far below that limit.

Reading rule (why it is safe): read the generation *before* the data. Data read afterwards is the
same or newer than the generation says, so an entry stored under generation G never holds data
older than G; a reader that sees G + 1 never gets it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

# Its own MetaData, not the ORM's: test fixtures that empty every ORM table must not delete the
# counter rows (the triggers bump existing rows; they never create them).
GENERATIONS = sa.Table(
    "change_generations",
    sa.MetaData(),
    sa.Column("area", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

READ_GENERATIONS = sa.text("SELECT area, value FROM change_generations")

CATALOG = "catalog"
AUTH = "auth"
# Which tables feed which area. Keep in step with migration 0009 (tests/core/test_generations.py
# checks every table here bumps its area on both databases).
AREA_TABLES: dict[str, tuple[str, ...]] = {
    # Everything the product list shows: the products, their category slug, their listings
    # (state, remote id/url, price override) and the channel price rules behind channel_prices.
    CATALOG: ("products", "categories", "listings", "channel_price_rules"),
    # Who a token or a session cookie belongs to, and whether it is still valid.
    AUTH: ("users", "api_tokens"),
}


@dataclass(frozen=True, slots=True)
class Generations:
    """The counters as one read saw them; None when the row is missing (then nothing is cached)."""

    catalog: int | None
    auth: int | None


def read(bind: Session | sa.Connection) -> Generations:
    # Plain SQL on purpose: this runs on every request, and a constant string skips compilation.
    values: dict[str, int] = {}
    for area, value in bind.execute(READ_GENERATIONS):
        values[area] = value
    return Generations(catalog=values.get(CATALOG), auth=values.get(AUTH))


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class GenerationCache(Generic[K, V]):
    """A bounded LRU map whose entries are valid for exactly one generation of their area.

    Thread-safe: sync endpoints run in Starlette's thread pool. Values must be immutable (bytes,
    frozen objects) because every hit hands out the same object.
    """

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[int, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K, generation: int | None) -> V | None:
        if generation is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != generation:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: K, generation: int | None, value: V) -> None:
        if generation is None:
            return
        with self._lock:
            current = self._entries.get(key)
            if current is not None and current[0] > generation:
                return  # a slower reader must not replace a newer entry with an older one
            self._entries[key] = (generation, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
