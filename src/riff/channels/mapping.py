"""Shared helpers for channel mappings kept as data (``riff/channels/<slug>/data/*.json``)."""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from riff.channels.errors import Rejected
from riff.core.clock import UTC


@functools.cache
def load_table(package: str, name: str) -> dict[str, Any]:
    """A JSON table shipped in ``<package>/data/<name>.json`` (read once per process)."""
    text = resources.files(package).joinpath("data", f"{name}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{package}/data/{name}.json must hold an object")
    return data


def require(table: dict[str, Any], key: str | None, *, channel: str, what: str, field: str) -> Any:
    """``table[key]`` or a clear ``Rejected`` naming what is unmapped (raised before any call is made)."""
    if key is not None and key in table:
        return table[key]
    known = ", ".join(sorted(table)) or "none"
    raise Rejected(f"{what} {key!r} has no {channel} mapping (known: {known})", channel=channel, field=field)


def money(value: Any) -> Decimal | None:
    """A Decimal from a number, a numeric string or a money object ``{"amount": "12.00", ...}``."""
    if isinstance(value, dict):
        value = value.get("amount")
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO 8601 (with any offset, or ``Z``) -> aware UTC; ``None`` for missing or unparsable values."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
