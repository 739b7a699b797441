"""Per-channel rate limits shared by every worker process on every host.

The arithmetic is GCRA (the generic cell rate algorithm: a token bucket stored as one number, the
"theoretical arrival time") in ``GcraBucket``, a pure class whose methods take ``now``. Backends only
store that number atomically:

- ``DatabaseBackend``: a ``rate_limit_buckets`` row per channel, read ``FOR UPDATE`` and written in one
  short transaction (PostgreSQL row lock; on SQLite the ``BEGIN IMMEDIATE`` write lock).
- ``RedisBackend`` (when ``RIFF_REDIS_URL`` is set): ``WATCH``/``MULTI`` optimistic transactions.
- ``MemoryBackend``: one process only (tests, tools).

The channel HTTP layer calls ``await limiter.acquire(channel, cost)`` before each request and
``limiter.penalize(channel, retry_after)`` on a 429, which slows that channel only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.settings import Settings
from riff.jobs import metrics
from riff.jobs.config import JobsSettings, RateLimitConfig, get_jobs_settings
from riff.jobs.errors import RateLimitWaitTooLong
from riff.jobs.repository import RateLimitRepository

log = get_logger(__name__)

T = TypeVar("T")
REDIS_KEY_PREFIX = "riff:ratelimit:"
# Epoch seconds are ~1.8e9, so sums of intervals pick up rounding noise of ~1e-7 s; below a microsecond
# a wait is noise.
FLOAT_SLACK_SECONDS = 1e-6
# For buckets nobody configured: generous for any marketplace API, and it lets penalize() work everywhere.
DEFAULT_LIMIT = RateLimitConfig(rate=10.0, burst=10.0)


@dataclasses.dataclass
class Reservation:
    granted: bool
    wait_seconds: float


@dataclasses.dataclass
class GcraBucket:
    """A token bucket of ``burst`` units refilled at ``rate`` units/second, as GCRA.

    ``tat`` (theoretical arrival time, epoch seconds) is the whole state: the bucket is full when
    ``tat <= now`` and each unit pushes ``tat`` forward by ``1/rate``. A request of ``cost`` units may go
    at ``tat + cost/rate - burst/rate``. Nothing here reads a clock.
    """

    rate: float
    burst: float
    tat: float = 0.0

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def reserve(self, now: float, cost: float = 1.0, max_wait: float | None = None) -> Reservation:
        """Book ``cost`` units; the caller must wait ``wait_seconds`` before using them. With ``max_wait``, a
        booking that would need a longer wait is refused and leaves the bucket untouched."""
        new_tat = max(self.tat, now) + cost * self.interval
        wait = new_tat - self.burst * self.interval - now
        wait = wait if wait > FLOAT_SLACK_SECONDS else 0.0
        if max_wait is not None and wait > max_wait:
            return Reservation(granted=False, wait_seconds=wait)
        self.tat = new_tat
        return Reservation(granted=True, wait_seconds=wait)

    def penalize(self, now: float, retry_after: float) -> None:
        """After a 429: the next unit may go no earlier than ``now + retry_after``, then at the steady rate
        (no burst), so a throttled channel comes back gently."""
        self.tat = max(self.tat, now + retry_after + (self.burst - 1) * self.interval)

    def available(self, now: float) -> float:
        """Units that could go right now."""
        return max(0.0, self.burst - max(0.0, self.tat - now) * self.rate)


class Backend(Protocol):
    blocking: bool

    def update(self, name: str, change: Callable[[float], tuple[float, T]]) -> T:
        """Atomically: read the bucket's tat, ``new_tat, result = change(tat)``, store new_tat."""
        ...


class MemoryBackend:
    blocking = False

    def __init__(self) -> None:
        self._tats: dict[str, float] = {}
        self._lock = threading.Lock()

    def update(self, name: str, change: Callable[[float], tuple[float, T]]) -> T:
        with self._lock:
            new_tat, result = change(self._tats.get(name, 0.0))
            self._tats[name] = new_tat
            return result


class DatabaseBackend:
    blocking = True

    def __init__(self, database: Database) -> None:
        self.database = database

    def update(self, name: str, change: Callable[[float], tuple[float, T]]) -> T:
        with self.database.session() as session:
            repository = RateLimitRepository(session)
            now = utcnow()
            tat = repository.lock_tat(name, now)
            new_tat, result = change(tat)
            if new_tat != tat:
                repository.store_tat(name, new_tat, now)
            return result


class RedisBackend:
    blocking = True

    def __init__(self, url: str, *, prefix: str = REDIS_KEY_PREFIX) -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = prefix

    def update(self, name: str, change: Callable[[float], tuple[float, T]]) -> T:
        from redis.exceptions import WatchError

        key = self.prefix + name
        with self._client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    tat = float(raw) if raw is not None else 0.0
                    new_tat, result = change(tat)
                    pipe.multi()
                    if new_tat != tat:
                        # Keep the key a little past the moment the bucket is full again; then it may go.
                        ttl_ms = int(max(60.0, new_tat - time.time() + 60.0) * 1000)
                        pipe.set(key, repr(new_tat), px=ttl_ms)
                    pipe.execute()
                    return result
                except WatchError:
                    continue  # another process changed the bucket between our read and write

    def delete(self, name: str) -> None:
        self._client.delete(self.prefix + name)


class RateLimiter:
    """Shared per-channel rate limits. A bucket without a configured limit gets ``DEFAULT_LIMIT`` (so a 429
    from a channel nobody configured still slows it down)."""

    def __init__(
        self,
        backend: Backend,
        limits: Mapping[str, RateLimitConfig],
        *,
        max_wait_seconds: float | None = 60.0,
    ) -> None:
        self.backend = backend
        self.limits = dict(limits)
        self.max_wait_seconds = max_wait_seconds

    async def acquire(self, channel: str, cost: float = 1.0) -> float:
        """Wait until ``channel`` allows ``cost`` more units; returns the seconds waited. Raises
        ``RateLimitWaitTooLong`` (retryable, with ``retry_after``) instead of waiting longer than
        ``max_wait_seconds``; a job raising it is simply rescheduled."""
        if self.backend.blocking:
            wait = await asyncio.to_thread(self.reserve, channel, cost)
        else:
            wait = self.reserve(channel, cost)
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    def acquire_blocking(self, channel: str, cost: float = 1.0) -> float:
        """``acquire`` for synchronous code (sleeps the calling thread)."""
        wait = self.reserve(channel, cost)
        if wait > 0:
            time.sleep(wait)
        return wait

    def reserve(self, channel: str, cost: float = 1.0) -> float:
        """Book ``cost`` units now and return how long the caller must wait before using them."""
        limit = self.limits.get(channel, DEFAULT_LIMIT)
        now = utcnow().timestamp()
        max_wait = self.max_wait_seconds

        def change(tat: float) -> tuple[float, Reservation]:
            bucket = GcraBucket(limit.rate, limit.burst, tat)
            reservation = bucket.reserve(now, cost, max_wait)
            return bucket.tat, reservation

        reservation = self.backend.update(channel, change)
        if not reservation.granted:
            log.info(
                "jobs.ratelimit.deferred", channel=channel, wait_seconds=round(reservation.wait_seconds, 1)
            )
            raise RateLimitWaitTooLong(
                f"{channel} rate limit: next slot in {reservation.wait_seconds:.1f}s",
                reservation.wait_seconds,
            )
        metrics.RATE_LIMIT_WAIT.labels(channel=channel).observe(reservation.wait_seconds)
        return reservation.wait_seconds

    def penalize(self, channel: str, retry_after_seconds: float) -> None:
        """A 429 on ``channel``: nobody (in any process) calls it again before ``retry_after_seconds``."""
        limit = self.limits.get(channel, DEFAULT_LIMIT)
        now = utcnow().timestamp()

        def change(tat: float) -> tuple[float, None]:
            bucket = GcraBucket(limit.rate, limit.burst, tat)
            bucket.penalize(now, max(0.0, retry_after_seconds))
            return bucket.tat, None

        self.backend.update(channel, change)
        metrics.RATE_LIMIT_PENALTIES.labels(channel=channel).inc()
        log.warning("jobs.ratelimit.penalized", channel=channel, retry_after=retry_after_seconds)


_limiters: weakref.WeakKeyDictionary[Database, dict[tuple[Any, ...], RateLimiter]] = (
    weakref.WeakKeyDictionary()
)
_limiters_lock = threading.Lock()


def get_rate_limiter(
    database: Database, settings: Settings, jobs_settings: JobsSettings | None = None
) -> RateLimiter:
    """The process's limiter for ``database``: Redis-backed when ``settings.redis_url`` is set, else the
    database-backed buckets (shared by every process using that database)."""
    jobs_settings = jobs_settings or get_jobs_settings()
    limits = jobs_settings.resolved_rate_limits()
    key = (
        settings.redis_url,
        tuple(sorted((name, cfg.rate, cfg.burst) for name, cfg in limits.items())),
        jobs_settings.rate_limit_max_wait_seconds,
    )
    with _limiters_lock:
        per_database = _limiters.setdefault(database, {})
        limiter = per_database.get(key)
        if limiter is None:
            backend: Backend = (
                RedisBackend(settings.redis_url) if settings.redis_url else DatabaseBackend(database)
            )
            limiter = RateLimiter(backend, limits, max_wait_seconds=jobs_settings.rate_limit_max_wait_seconds)
            per_database[key] = limiter
        return limiter
