"""WindowPacer: pure arithmetic on a fake clock (no sleeping, no HTTP)."""

from __future__ import annotations

import asyncio

import pytest

from riff.channels.discogs.pacing import WindowPacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def headers(limit: int, used: int) -> dict[str, str]:
    return {
        "X-Discogs-Ratelimit": str(limit),
        "X-Discogs-Ratelimit-Used": str(used),
        "X-Discogs-Ratelimit-Remaining": str(limit - used),
    }


def _pacer(time: FakeTime) -> WindowPacer:
    return WindowPacer(60.0, margin_seconds=0.5, clock=time.clock, sleep=time.sleep)


def _request(
    pacer: WindowPacer, time: FakeTime, status: int, used: int, limit: int = 3, took: float = 0.1
) -> None:
    asyncio.run(pacer.before_request())
    time.now += took
    pacer.after_response(status, headers(limit, used))


def test_requests_go_at_once_until_the_window_is_full_then_wait_for_the_oldest() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    for used in (1, 2, 3):
        _request(pacer, time, 200, used)
    assert time.slept == []
    first_done = 1000.1

    asyncio.run(pacer.before_request())

    assert time.slept == [pytest.approx(first_done + 60.0 + 0.5 - 1000.3)]
    assert pacer.requests == 4 and pacer.waited_seconds == time.slept[0]


def test_a_429_is_waited_out_from_our_own_requests() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    _request(pacer, time, 200, 1)
    _request(pacer, time, 429, 3)  # someone else used the rest

    asyncio.run(pacer.before_request())

    assert pacer.rate_limited == 1
    assert len(time.slept) == 1 and 59.0 < time.slept[0] <= 60.5


def test_nothing_known_means_no_waiting() -> None:
    time = FakeTime()
    pacer = _pacer(time)
    for _ in range(5):
        asyncio.run(pacer.before_request())
        pacer.after_response(200, {})

    assert time.slept == []
