"""Conflict rules, pure: whether a remote value is a change made on the channel, and which side wins.

- A remote value *changed on the channel* when it differs from the last value RIFF saw there (what RIFF
  pushed, or read at the last pull).
- Its winner is the field's owner (``riff``, ``channel``), or for ``newest`` whichever side changed the
  field last. The channel's side counts as newer only when its update time is later than both RIFF's own
  change of the field and RIFF's last push to that listing: a platform that reports no modification time
  (Reverb gives ``published_at``), or one whose time is that of RIFF's own push, cannot claim to be newer,
  so RIFF stays the source of truth when in doubt.
- A channel that transforms what it receives (rounds a price, cuts a title) would make every pull look like
  a remote edit; the pull therefore does not push the same value back twice (see ``riff.sync.pull``).
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


def changed_remotely(remote_value: Any, last_seen: Any) -> bool:
    """Did the value change on the channel since RIFF last saw it (None: never seen, so a baseline)?"""
    return remote_value is not None and last_seen is not None and not same(remote_value, last_seen)


def remote_time(
    remote_updated_at: dt.datetime | None, last_pushed_at: dt.datetime | None
) -> dt.datetime | None:
    """The channel's update time when it can mean an edit after RIFF's last push, else None."""
    if remote_updated_at is None:
        return None
    if last_pushed_at is not None and remote_updated_at <= last_pushed_at:
        return None
    return remote_updated_at


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
