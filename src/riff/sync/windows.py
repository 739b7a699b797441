"""Channel maintenance windows: pure time arithmetic (every function takes ``now``).

A window is ``(start, end)`` in UTC wall-clock time, every day; ``end`` before ``start`` wraps midnight
("23:30-00:30"). Jobs for a channel wait a window out: a job due inside one runs at its end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

UTC = dt.UTC
Window = tuple[dt.time, dt.time]
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str | None) -> Window | None:
    """``"03:00-05:00"`` -> (03:00, 05:00); None for anything else."""
    if not text:
        return None
    match = _WINDOW.match(text)
    if not match:
        return None
    start_h, start_m, end_h, end_m = (int(g) for g in match.groups())
    if start_h > 23 or end_h > 23 or start_m > 59 or end_m > 59:
        return None
    return dt.time(start_h, start_m), dt.time(end_h, end_m)


def format_window(window: Window) -> str:
    return f"{window[0]:%H:%M}-{window[1]:%H:%M}"


def _end_if_inside(window: Window, now: dt.datetime) -> dt.datetime | None:
    start, end = window
    if start == end:
        return None
    current = now.time().replace(tzinfo=None)
    inside = start <= current < end if start < end else (current >= start or current < end)
    if not inside:
        return None
    end_at = dt.datetime.combine(now.date(), end, tzinfo=UTC)
    if end_at <= now:
        end_at += dt.timedelta(days=1)
    return end_at


def window_end(windows: Iterable[Window], now: dt.datetime) -> dt.datetime | None:
    """When the window ``now`` falls in ends (following back-to-back windows), or None when outside."""
    now = now.astimezone(UTC)
    windows = list(windows)
    end: dt.datetime | None = None
    probe = now
    for _ in range(len(windows) + 1):  # adjacent windows chain; each can extend the wait at most once
        later = [e for e in (_end_if_inside(w, probe) for w in windows) if e is not None]
        if not later:
            break
        end = max(later)
        probe = end
    return end


def run_after(windows: Sequence[Window], now: dt.datetime) -> dt.datetime | None:
    """``run_after`` for a job due ``now``: the end of the current window, or None (run now)."""
    return window_end(windows, now) if windows else None
