"""Discogs' rate limit: N requests in a moving window, per source IP (and per auth class), reported on
every response in ``X-Discogs-Ratelimit``, ``-Used`` and ``-Remaining``; 429 once the window is full.

A plain class whose methods take ``now`` (monotonic seconds) and never read the clock.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowDecision:
    allowed: bool
    limit: int
    used: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "X-Discogs-Ratelimit": str(self.limit),
            "X-Discogs-Ratelimit-Used": str(self.used),
            "X-Discogs-Ratelimit-Remaining": str(self.remaining),
        }


class MovingWindow:
    """Requests counted over the last ``window_seconds``; a refused request does not count."""

    def __init__(self, window_seconds: float) -> None:
        self.window_seconds = window_seconds
        self._hits: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _expire(self, key: str, now: float) -> collections.deque[float]:
        hits = self._hits.setdefault(key, collections.deque())
        horizon = now - self.window_seconds
        while hits and hits[0] <= horizon:
            hits.popleft()
        return hits

    def hit(self, key: str, limit: int, now: float) -> WindowDecision:
        with self._lock:
            hits = self._expire(key, now)
            if len(hits) >= limit:
                return WindowDecision(allowed=False, limit=limit, used=len(hits))
            hits.append(now)
            return WindowDecision(allowed=True, limit=limit, used=len(hits))

    def peek(self, key: str, limit: int, now: float) -> WindowDecision:
        with self._lock:
            used = len(self._expire(key, now))
            return WindowDecision(allowed=used < limit, limit=limit, used=used)

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
