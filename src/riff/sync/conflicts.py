"""Conflict rules, pure: which side wins a field, and whether a remote value is a change made on the channel.

- A remote value counts as *changed on the channel* when it differs from the last value RIFF saw there
  and the channel's update time is later than RIFF's last push to that listing (an older update time is
  the echo of RIFF's own push: a channel that rounds a price or cuts a title must not start a ping-pong).
- The winner of a changed field is its owner (``riff``, ``channel``), or for ``newest`` whichever side
  changed it last: the channel's ``updated_at`` against the time the field last changed in RIFF.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Any

from riff.sync.consts import Owner


class Winner(enum.StrEnum):
    LOCAL = "local"
    REMOTE = "remote"


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a.compare(b) == 0
    return bool(a == b)


def changed_remotely(
    remote_value: Any,
    last_seen: Any,
    *,
    remote_updated_at: dt.datetime | None,
    last_pushed_at: dt.datetime | None,
) -> bool:
    """Did someone change this value on the channel (rather than RIFF, or nobody)?"""
    if remote_value is None or last_seen is None or same(remote_value, last_seen):
        return False
    if remote_updated_at is None or last_pushed_at is None:
        return True
    return remote_updated_at > last_pushed_at


def winner(
    owner: Owner, *, local_changed_at: dt.datetime | None, remote_updated_at: dt.datetime | None
) -> Winner:
    if owner == Owner.RIFF:
        return Winner.LOCAL
    if owner == Owner.CHANNEL:
        return Winner.REMOTE
    if remote_updated_at is None:
        return Winner.LOCAL  # nothing to compare: RIFF stays the source of truth
    if local_changed_at is None or remote_updated_at > local_changed_at:
        return Winner.REMOTE
    return Winner.LOCAL
