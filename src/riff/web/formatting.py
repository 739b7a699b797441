"""Jinja filters and globals for figures, times and states, so every page shows them the same way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

import jinja2

from riff.core.clock import utcnow

CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥"}
CHANNEL_NAMES = {
    "reverb": "Reverb",
    "ebay": "eBay",
    "shopify": "Shopify",
    "vintage_and_rare": "Vintage & Rare",
    "discogs": "Discogs",
}
# state / status -> badge kind (components/ui.html badge()).
STATE_KINDS = {
    "live": "success",
    "active": "success",
    "completed": "success",
    "ok": "success",
    "pending": "info",
    "queued": "info",
    "in_progress": "info",
    "completed_pending_id": "info",
    "draft": "neutral",
    "ended": "neutral",
    "cancelled": "neutral",
    "archived": "neutral",
    "sold": "warning",
    "needs_attention": "danger",
    "error": "danger",
    "failed": "danger",
}


def money(amount: Decimal | float | int | None, currency: str | None = "GBP") -> str:
    if amount is None or isinstance(amount, jinja2.Undefined) or amount == "":
        return "—"
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(amount)
    symbol = CURRENCY_SYMBOLS.get(currency or "")
    text = f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency or ''}".strip()


def when(value: dt.datetime | None) -> str:
    """Absolute UTC time, compact: ``2026-03-14 09:05``."""
    if value is None:
        return "—"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    if value is None:
        return "never"
    seconds = ((now or utcnow()) - value).total_seconds()
    if seconds < 0:
        return "in " + duration(-seconds)
    if seconds < 5:
        return "just now"
    return duration(seconds) + " ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} d"


def humanize(value: Any) -> str:
    text = str(getattr(value, "value", value) or "")
    return text.replace("_", " ")


def channel_name(slug: str | None) -> str:
    if not slug:
        return "—"
    return CHANNEL_NAMES.get(slug, slug.replace("_", " ").title())


def state_kind(value: Any) -> str:
    return STATE_KINDS.get(str(getattr(value, "value", value)), "neutral")


def choices(values: list[str]) -> list[tuple[str, str]]:
    """(value, label) pairs for components/forms.html select()."""
    return [(value, humanize(value).capitalize()) for value in values]


def install(env: jinja2.Environment) -> None:
    env.filters.update(
        money=money,
        when=when,
        ago=ago,
        duration=duration,
        humanize=humanize,
        channel_name=channel_name,
        state_kind=state_kind,
        choices=choices,
    )
