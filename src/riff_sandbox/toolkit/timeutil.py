"""Wall-clock helpers. Sandboxes use real time: they stand in for a remote server, whose clock RIFF
cannot move either."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# A '+' in an unencoded query string arrives as a space: "2025-11-01T00:00:00 00:00".
_SPACE_BEFORE_OFFSET = re.compile(r"(T[0-9:.]+) (\d{2}:?\d{2})$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; naive values are taken as UTC. Raises ``ValueError``."""
    parsed = datetime.fromisoformat(_SPACE_BEFORE_OFFSET.sub(r"\1+\2", value.strip()))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
