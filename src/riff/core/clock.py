"""The one place RIFF reads the wall clock, so tests can move time (the only thing they mock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

UTC = dt.UTC

_now: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC)  # noqa: E731


def utcnow() -> dt.datetime:
    return _now()


def set_clock(now: Callable[[], dt.datetime] | None) -> None:
    """Install a replacement clock (tests); ``None`` restores the real one."""
    global _now
    _now = now if now is not None else (lambda: dt.datetime.now(UTC))


class FrozenClock:
    """A controllable clock for tests: ``clock.advance(seconds=30)``."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now = self.now + dt.timedelta(**delta)
        return self.now
