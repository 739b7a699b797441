"""VRSession's use of the shared rate limit (the job engine's limiter, over the real sandbox)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlalchemy as sa

from riff.channels.vintage_and_rare.adapter import VintageAndRareChannel
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings
from riff.core.db import Database
from riff.jobs.config import RateLimitConfig
from riff.jobs.models import RateLimitBucket
from riff.jobs.ratelimit import DatabaseBackend, RateLimiter
from riff_sandbox.runner import RunningSandbox

from .conftest import CONFIG, SECRETS


def _channel(sandbox: RunningSandbox, limiter: Any) -> VintageAndRareChannel:
    return VintageAndRareChannel(
        config=CONFIG, secrets=SECRETS, base_url=sandbox.base_url, settings=VintageAndRareSettings(),
        rate_limiter=limiter,
    )  # fmt: skip


def _requests(sandbox: RunningSandbox, limiter: Any, count: int) -> float:
    async def main() -> float:
        async with _channel(sandbox, limiter) as channel:
            await channel.client.login()
            started = time.perf_counter()
            for _ in range(count):
                await channel.client.account_page()
            return time.perf_counter() - started

    return asyncio.run(main())


class ProtocolOnlyLimiter:
    """A limiter with only what ``riff.channels.http.RateLimiter`` asks for (no ``reserve``)."""

    def __init__(self) -> None:
        self.acquired = 0

    async def acquire(self, channel: str, cost: float = 1.0) -> float:
        self.acquired += 1
        return 0.0

    def penalize(self, channel: str, retry_after_seconds: float) -> None:
        return None


class TestRateLimit:
    def test_every_request_is_booked_in_the_shared_bucket(
        self, database: Database, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        rate = (
            0.001  # one unit every 1,000 s, and room for 100: nothing waits, every unit shows in the bucket
        )
        limiter = RateLimiter(
            DatabaseBackend(database), {"vintage_and_rare": RateLimitConfig(rate=rate, burst=100)}
        )
        started = time.time()
        _requests(sandbox, limiter, 3)
        with database.read_session() as session:
            tat = session.execute(
                sa.select(RateLimitBucket.tat).where(RateLimitBucket.name == "vintage_and_rare")
            ).scalar_one()
        assert round((tat - started) * rate) == 4  # the login and three pages

    def test_the_wait_the_limit_asks_for_is_honoured(
        self, database: Database, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        limiter = RateLimiter(
            DatabaseBackend(database), {"vintage_and_rare": RateLimitConfig(rate=20, burst=1)}
        )
        # After the login's unit, each page waits for the next one: three pages, >= 3 intervals of 50 ms.
        assert _requests(sandbox, limiter, 3) >= 0.14

    def test_a_limiter_without_a_synchronous_booking_is_awaited(
        self, sandbox: RunningSandbox, vr_env: VintageAndRareSettings
    ) -> None:
        limiter = ProtocolOnlyLimiter()
        _requests(sandbox, limiter, 2)
        assert limiter.acquired == 3
