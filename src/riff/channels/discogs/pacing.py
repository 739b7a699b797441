"""Pacing to Discogs' moving-window rate limit by reading its headers, so a normal sync never gets a 429.

Discogs allows ``X-Discogs-Ratelimit`` requests in any 60-second window and reports, on every response,
how many were used (``-Used``) and are left (``-Remaining``). It documents no ``Retry-After``. So the client
keeps the completion times of its own requests and, before each request, estimates the window's use now:

    own requests completed in the last window + requests in flight
    + others' requests (server's Used minus ours at the last answer), assumed to last one window

and when that reaches the limit, waits until the oldest of them leaves the window (plus a small margin:
the completion time is later than Discogs' arrival time, so waiting from it is always enough). A 429
(another client on the same IP, or a fault) is waited out the same way. The arithmetic is a plain class
with an injected clock; ``PacedTransport`` applies it to every HTTP attempt, retries included.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx

from riff.channels.discogs import consts
from riff.core.logging import get_logger

log = get_logger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class WindowPacer:
    """Moving-window pacing from ``X-Discogs-Ratelimit*`` headers (see the module docstring)."""

    def __init__(
        self,
        window_seconds: float = consts.RATE_LIMIT_WINDOW_SECONDS,
        *,
        margin_seconds: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.window_seconds = window_seconds
        self.margin_seconds = (
            window_seconds * consts.PACING_MARGIN_FRACTION if margin_seconds is None else margin_seconds
        )
        self.clock = clock
        self.sleep = sleep
        self.limit: int | None = None
        self._own: collections.deque[float] = collections.deque()  # completion times, oldest first
        self._in_flight = 0
        self._others = 0  # others' requests in the window at the last answer
        self._others_until = 0.0  # ...assumed gone one window after that answer
        self._lock = asyncio.Lock()
        # Counters for callers (sync statistics, the benchmark).
        self.requests = 0
        self.rate_limited = 0
        self.waited_seconds = 0.0

    def _expire(self, now: float) -> None:
        horizon = now - self.window_seconds - self.margin_seconds
        while self._own and self._own[0] <= horizon:
            self._own.popleft()

    def estimated_use(self, now: float) -> int:
        self._expire(now)
        others = self._others if now < self._others_until else 0
        return len(self._own) + self._in_flight + others

    def wait_needed(self, now: float) -> float:
        """Seconds to wait before one more request may go (0 when it may go now)."""
        if self.limit is None:
            return 0.0  # nothing known yet: the first answer tells us the limit
        if self.estimated_use(now) < self.limit:
            return 0.0
        moments = [self._own[0] + self.window_seconds + self.margin_seconds] if self._own else []
        if self._others and now < self._others_until:
            moments.append(self._others_until)
        if not moments:  # only requests in flight fill the window: their answers will tell
            return self.margin_seconds or 0.01
        return max(0.0, min(moments) - now)

    async def before_request(self) -> None:
        async with self._lock:
            while (wait := self.wait_needed(self.clock())) > 0:
                self.waited_seconds += wait
                await self.sleep(wait)
            self._in_flight += 1
            self.requests += 1

    def abandon(self) -> None:
        """The request never got an answer (connection error): count it as sent, to be safe."""
        self._in_flight = max(0, self._in_flight - 1)
        self._own.append(self.clock())

    def after_response(self, status_code: int, headers: Mapping[str, str]) -> None:
        now = self.clock()
        self._in_flight = max(0, self._in_flight - 1)
        limit = _header_int(headers, consts.HEADER_LIMIT)
        used = _header_int(headers, consts.HEADER_USED)
        if status_code == 429:
            self.rate_limited += 1
            if limit is not None:
                self.limit = limit
            used = self.limit if self.limit is not None else None
            log.info("discogs.ratelimit.exceeded", limit=self.limit, own_in_window=len(self._own))
        else:
            self._own.append(now)  # a refused request does not count in Discogs' window
            if limit is not None:
                self.limit = limit
        if self.limit is None or used is None:
            return
        self._expire(now)
        self._others = max(0, used - len(self._own))
        self._others_until = now + self.window_seconds + self.margin_seconds if self._others else 0.0


class PacedTransport(httpx.AsyncBaseTransport):
    """Every attempt waits for the pacer first and reports its answer's rate-limit headers to it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, pacer: WindowPacer) -> None:
        self.inner = inner
        self.pacer = pacer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.pacer.before_request()
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            self.pacer.abandon()
            raise
        self.pacer.after_response(response.status_code, response.headers)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
