"""Rate limits: the pure GCRA bucket fed with times, then the shared backends (database, Redis)."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest

from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings
from riff.jobs.config import JobsSettings, RateLimitConfig
from riff.jobs.errors import RateLimitWaitTooLong, classify
from riff.jobs.ratelimit import (
    DatabaseBackend,
    GcraBucket,
    MemoryBackend,
    RateLimiter,
    RedisBackend,
    get_rate_limiter,
)

REDIS_URL = os.environ.get("RIFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class TestGcraBucket:
    def test_a_full_bucket_allows_the_burst_then_paces_at_the_rate(self) -> None:
        bucket = GcraBucket(rate=10.0, burst=20.0)
        waits = [bucket.reserve(now=1000.0).wait_seconds for _ in range(22)]
        assert waits[:20] == [0.0] * 20
        assert waits[20] == pytest.approx(0.1, abs=1e-5)
        assert waits[21] == pytest.approx(0.2, abs=1e-5)

    def test_the_bucket_refills_with_time(self) -> None:
        bucket = GcraBucket(rate=2.0, burst=4.0)
        for _ in range(4):
            bucket.reserve(now=0.0)
        assert bucket.available(now=0.0) == pytest.approx(0.0, abs=1e-5)
        assert bucket.available(now=1.0) == pytest.approx(2.0, abs=1e-5)
        assert bucket.reserve(now=1.0).wait_seconds == 0.0
        assert bucket.reserve(now=1.0).wait_seconds == 0.0
        assert bucket.reserve(now=1.0).wait_seconds == pytest.approx(0.5, abs=1e-5)
        assert bucket.available(now=100.0) == pytest.approx(4.0, abs=1e-5)

    def test_cost_counts_as_several_units(self) -> None:
        bucket = GcraBucket(rate=50.0, burst=1000.0)  # Shopify GraphQL points
        assert bucket.reserve(now=0.0, cost=900).wait_seconds == 0.0
        assert bucket.reserve(now=0.0, cost=200).wait_seconds == pytest.approx(
            2.0, abs=1e-5
        )  # 100 points short at 50/s

    def test_max_wait_refuses_without_booking(self) -> None:
        bucket = GcraBucket(rate=1.0, burst=1.0)
        assert bucket.reserve(now=0.0, max_wait=5).granted
        tat = bucket.tat
        refused = bucket.reserve(now=0.0, cost=10, max_wait=5)
        assert (refused.granted, refused.wait_seconds) == (False, pytest.approx(10.0, abs=1e-5))
        assert bucket.tat == tat

    def test_penalize_blocks_until_retry_after_then_paces_without_burst(self) -> None:
        bucket = GcraBucket(rate=10.0, burst=20.0)
        bucket.penalize(now=100.0, retry_after=30.0)
        assert bucket.reserve(now=100.0).wait_seconds == pytest.approx(30.0, abs=1e-5)
        assert bucket.reserve(now=130.0).wait_seconds == pytest.approx(0.1, abs=1e-5)  # steady rate, no burst
        assert bucket.available(now=200.0) == pytest.approx(20.0, abs=1e-5)

    def test_penalize_never_shortens_an_existing_delay(self) -> None:
        bucket = GcraBucket(rate=1.0, burst=1.0)
        bucket.penalize(now=0.0, retry_after=60.0)
        bucket.penalize(now=0.0, retry_after=5.0)
        assert bucket.reserve(now=0.0).wait_seconds == pytest.approx(60.0, abs=1e-5)


LIMITS = {"reverb": RateLimitConfig(rate=10.0, burst=2.0), "discogs": RateLimitConfig(rate=1.0, burst=1.0)}


@pytest.fixture
def clock(frozen_clock: FrozenClock) -> FrozenClock:
    return frozen_clock


class TestRateLimiterOnTheDatabase:
    def test_buckets_are_shared_through_the_database(self, database: Database, clock: FrozenClock) -> None:
        first = RateLimiter(DatabaseBackend(database), LIMITS)
        second = RateLimiter(DatabaseBackend(Database(database.url)), LIMITS)  # another process, in effect
        assert first.reserve("reverb") == 0.0
        assert second.reserve("reverb") == 0.0
        assert first.reserve("reverb") == pytest.approx(0.1, abs=1e-5)
        assert second.reserve("reverb") == pytest.approx(0.2, abs=1e-5)
        clock.advance(seconds=10)
        assert second.reserve("reverb") == 0.0

    def test_a_429_on_one_channel_slows_that_channel_only(
        self, database: Database, clock: FrozenClock
    ) -> None:
        limiter = RateLimiter(DatabaseBackend(database), LIMITS)
        limiter.penalize("discogs", 30.0)
        assert limiter.reserve("reverb") == 0.0
        assert limiter.reserve("discogs") == pytest.approx(30.0, abs=1e-5)

    def test_a_wait_longer_than_the_cap_is_a_retryable_error(
        self, database: Database, clock: FrozenClock
    ) -> None:
        limiter = RateLimiter(DatabaseBackend(database), LIMITS, max_wait_seconds=5.0)
        limiter.penalize("discogs", 120.0)
        with pytest.raises(RateLimitWaitTooLong) as raised:
            limiter.reserve("discogs")
        info = classify(raised.value)
        assert info.retryable is True
        assert info.retry_after == pytest.approx(120.0, abs=1e-5)

    def test_unconfigured_channels_get_the_default_limit(
        self, database: Database, clock: FrozenClock
    ) -> None:
        limiter = RateLimiter(DatabaseBackend(database), LIMITS)
        assert [limiter.reserve("etsy") for _ in range(10)] == [0.0] * 10
        assert limiter.reserve("etsy") == pytest.approx(0.1, abs=1e-5)
        limiter.penalize("etsy", 20.0)
        assert limiter.reserve("etsy") == pytest.approx(20.0, abs=1e-5)

    def test_concurrent_reservations_never_overbook(self, database: Database, clock: FrozenClock) -> None:
        limiter = RateLimiter(DatabaseBackend(database), {"shopify": RateLimitConfig(rate=1.0, burst=5.0)})
        waits: list[float] = []
        lock = threading.Lock()

        def take() -> None:
            for _ in range(5):
                wait = limiter.reserve("shopify")
                with lock:
                    waits.append(wait)

        threads = [threading.Thread(target=take) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # 20 units at 1/s with a burst of 5: every booking got its own slot, 0 s (x5) then 1, 2, ... 15 s.
        assert sorted(waits) == pytest.approx([0.0] * 5 + [float(n) for n in range(1, 16)])

    def test_acquire_waits_and_reports_the_wait(self, database: Database) -> None:
        limiter = RateLimiter(DatabaseBackend(database), {"dhl": RateLimitConfig(rate=20.0, burst=1.0)})

        async def take_three() -> list[float]:
            return [await limiter.acquire("dhl") for _ in range(3)]

        waits = asyncio.run(take_three())
        assert waits[0] == 0.0
        assert all(0.0 < wait <= 0.051 for wait in waits[1:])

    def test_get_rate_limiter_uses_the_database_and_the_platform_defaults(self, database: Database) -> None:
        settings = Settings(database_url=database.url, redis_url=None)
        limiter = get_rate_limiter(database, settings, JobsSettings(_env_file=None))  # type: ignore[call-arg]
        assert isinstance(limiter.backend, DatabaseBackend)
        assert limiter.limits["reverb"].rate == 10.0
        assert limiter.limits["vintage_and_rare"].burst == 2.0
        assert get_rate_limiter(database, settings, JobsSettings(_env_file=None)) is limiter  # type: ignore[call-arg]

    def test_settings_override_the_defaults(self, database: Database) -> None:
        jobs_settings = JobsSettings(rate_limits={"reverb": {"rate": 1, "burst": 3}}, _env_file=None)  # type: ignore[call-arg, dict-item]
        limiter = get_rate_limiter(database, Settings(database_url=database.url), jobs_settings)
        assert (limiter.limits["reverb"].rate, limiter.limits["reverb"].burst) == (1.0, 3.0)
        assert limiter.limits["discogs"].rate == 1.0


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        return False
    return True


@pytest.mark.skipif(not _redis_available(), reason="no Redis at RIFF_TEST_REDIS_URL")
class TestRateLimiterOnRedis:
    def test_buckets_are_shared_through_redis(self, frozen_clock: FrozenClock) -> None:
        prefix = f"riff:test:{uuid.uuid4().hex}:"
        first_backend = RedisBackend(REDIS_URL, prefix=prefix)
        first = RateLimiter(first_backend, LIMITS)
        second = RateLimiter(RedisBackend(REDIS_URL, prefix=prefix), LIMITS)
        try:
            assert first.reserve("reverb") == 0.0
            assert second.reserve("reverb") == 0.0
            assert first.reserve("reverb") == pytest.approx(0.1, abs=1e-5)
            second.penalize("discogs", 12.0)
            assert first.reserve("discogs") == pytest.approx(12.0, abs=1e-5)
            assert second.reserve("reverb") == pytest.approx(0.2, abs=1e-5)
        finally:
            for name in LIMITS:
                first_backend.delete(name)

    def test_get_rate_limiter_picks_redis_when_configured(self, database: Database) -> None:
        settings = Settings(database_url=database.url, redis_url=REDIS_URL)
        limiter = get_rate_limiter(database, settings, JobsSettings(_env_file=None))  # type: ignore[call-arg]
        assert isinstance(limiter.backend, RedisBackend)


def test_memory_backend_for_one_process() -> None:
    limiter = RateLimiter(MemoryBackend(), LIMITS)
    assert limiter.reserve("reverb") == 0.0
    assert limiter.reserve("reverb") == 0.0
    assert limiter.reserve("reverb") > 0.0
