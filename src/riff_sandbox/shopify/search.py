"""Shopify's search syntax (``query:`` argument) and cursor pagination, for the fields the sandbox indexes.

Syntax (shopify.dev "Shopify API search syntax"): space-separated terms, all of which must match;
``field:value``, ``field:>value`` / ``>=`` / ``<`` / ``<=`` for ranges, values optionally in single or double
quotes, comma-separated values meaning "any of" (``status:active,draft``), ``-field:value`` to negate; a bare
word searches the title. Unknown fields match nothing being filtered (Shopify ignores them too and adds a
warning to the response's extensions; the sandbox only ignores them).

Cursors are opaque base64 JSON ``{"last_id", "last_value"}`` (the shape seen in real responses).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from riff_sandbox.toolkit.timeutil import parse_datetime

Record = dict[str, Any]
Getter = Callable[[Record], Any]

_TERM = re.compile(
    r"""(?P<negate>-)?(?:(?P<field>[A-Za-z_][\w.]*):(?P<op>>=|<=|>|<|=)?)?"""
    r"""(?P<value>'[^']*'|"[^"]*"|[^\s]+)"""
)


class SearchError(Exception):
    pass


@dataclass(frozen=True)
class Term:
    field: str | None
    op: str
    values: tuple[str, ...]
    negate: bool


def parse_query(query: str | None) -> list[Term]:
    terms: list[Term] = []
    for match in _TERM.finditer(query or ""):
        raw = match.group("value")
        if raw.upper() in ("AND",):
            continue
        if raw[:1] in "'\"" and raw[-1:] == raw[:1] and len(raw) >= 2:
            values: tuple[str, ...] = (raw[1:-1],)
        else:
            values = tuple(v for v in raw.split(",") if v)
        terms.append(
            Term(
                field=(match.group("field") or None),
                op=match.group("op") or "=",
                values=values,
                negate=bool(match.group("negate")),
            )
        )
    return terms


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if actual is None:
        return False
    if isinstance(actual, datetime):
        try:
            other: Any = parse_datetime(wanted)
        except ValueError:
            return False
    elif isinstance(actual, bool):
        other = wanted.lower() == "true"
    elif isinstance(actual, int | float):
        try:
            other = float(wanted)
        except ValueError:
            return False
    else:
        actual, other = str(actual).lower(), wanted.lower()
        if op == "=":
            if other.endswith("*"):
                return bool(actual.startswith(other[:-1]))
            return bool(actual == other)
    if op == ">":
        return bool(actual > other)
    if op == ">=":
        return bool(actual >= other)
    if op == "<":
        return bool(actual < other)
    if op == "<=":
        return bool(actual <= other)
    return bool(actual == other)


def matches(record: Record, terms: Sequence[Term], fields: Mapping[str, Getter], default_field: str) -> bool:
    for term in terms:
        name = (term.field or default_field).lower()
        getter = fields.get(name)
        if getter is None:
            continue
        actual = getter(record)
        if name == default_field and term.field is None:
            hit = any(v.lower() in str(actual or "").lower() for v in term.values)
        elif isinstance(actual, list | tuple | set):
            hit = any(_compare(a, term.op, v) for a in actual for v in term.values)
        else:
            hit = any(_compare(actual, term.op, v) for v in term.values)
        if hit == term.negate:
            return False
    return True


def encode_cursor(record_id: int, value: Any) -> str:
    payload = {
        "last_id": record_id,
        "last_value": value.isoformat() if isinstance(value, datetime) else value,
    }
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, Any]:
    try:
        payload = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(payload["last_id"]), payload.get("last_value")
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise SearchError("Invalid cursor for current pagination sort.") from error


def _sort_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, int | float):
        return (0, float(value))
    if value is None:
        return (1, "")
    return (2, str(value).lower())


def _cursor_value(raw: Any, like: Any) -> Any:
    if isinstance(like, datetime) and isinstance(raw, str):
        return parse_datetime(raw)
    return raw


@dataclass
class Page:
    items: list[Record]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def paginate(
    records: Sequence[Record],
    sort_value: Getter,
    *,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
    reverse: bool,
) -> Page:
    """Sort by (value, id), ascending unless ``reverse``; slice by cursors then ``first``/``last``."""

    def key(record: Record) -> tuple[Any, int]:
        return (_sort_value(sort_value(record)), int(record["id"]))

    ordered = sorted(records, key=key, reverse=reverse)
    keys = [key(r) for r in ordered]
    start, end = 0, len(ordered)
    like = sort_value(ordered[0]) if ordered else None
    if after:
        last_id, raw_value = decode_cursor(after)
        boundary = (_sort_value(_cursor_value(raw_value, like)), last_id)
        start = next((i for i, k in enumerate(keys) if (k < boundary if reverse else k > boundary)), end)
    if before:
        last_id, raw_value = decode_cursor(before)
        boundary = (_sort_value(_cursor_value(raw_value, like)), last_id)
        end = next((i for i, k in enumerate(keys) if (k <= boundary if reverse else k >= boundary)), end)
    end = max(start, end)
    window = ordered[start:end]
    has_next = has_previous = False
    if first is not None:
        has_next = len(window) > first or end < len(ordered)
        has_previous = start > 0
        window = window[:first]
    elif last is not None:
        has_previous = len(window) > last or start > 0
        has_next = end < len(ordered)
        window = window[-last:] if last else []
    cursors = [encode_cursor(int(r["id"]), sort_value(r)) for r in window]
    return Page(window, cursors, has_next, has_previous)
