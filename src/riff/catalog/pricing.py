"""The one place a channel price is computed: override, else base price + markup, rounded up to an ending.

Every caller (API, CSV export, channel adapters, the sync engine) goes through ``effective_price`` so a
product never shows two different prices for the same channel.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from riff.channels.models import ChannelPriceRule
from riff.core.errors import ValidationFailed

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)
MAX_MARKUP_PERCENT = Decimal(1000)
MIN_MARKUP_PERCENT = Decimal(-90)


def parse_endings(text: str | None) -> tuple[int, ...]:
    """``"49,99"`` -> ``(49, 99)``: the last two digits a whole-number price may end in."""
    if not text or not text.strip():
        return ()
    return _parse_endings(text)


@functools.lru_cache(maxsize=256)
def _parse_endings(text: str) -> tuple[int, ...]:
    # Cached: a product list prices every row on every channel, and rules are a handful of strings.
    endings: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not (part.isascii() and part.isdigit()) or len(part) > 2:
            raise ValidationFailed(
                f"price ending {part!r} must be one or two digits (00-99)", field="price_endings"
            )
        endings.add(int(part))
    return tuple(sorted(endings))


def format_endings(endings: Iterable[int]) -> str:
    return ",".join(f"{e:02d}" for e in sorted(set(endings)))


def round_up_to_ending(price: Decimal, endings: tuple[int, ...]) -> Decimal:
    """Round up to the next whole number whose last two digits are one of ``endings``.

    1234.10 with (49, 99) -> 1249; 1260 -> 1299; 1299.50 -> 1349 (the next hundred's first ending).
    """
    if not endings:
        return price.quantize(CENT, rounding=ROUND_HALF_UP)
    whole = int(price.to_integral_value(rounding=ROUND_CEILING))
    hundreds, last_two = divmod(whole, 100)
    for ending in endings:
        if ending >= last_two:
            return Decimal(hundreds * 100 + ending).quantize(CENT)
    return Decimal((hundreds + 1) * 100 + endings[0]).quantize(CENT)


def effective_price(base_price: Decimal, rule: ChannelPriceRule | None, override: Decimal | None) -> Decimal:
    """The price a channel shows: a listing's override wins; otherwise base × (1 + markup %), rounded up
    to the rule's next ending (or to the cent when it has none)."""
    if rule is None:
        return _price(base_price, ZERO, (), override)
    return _price(base_price, Decimal(rule.markup_percent or 0), parse_endings(rule.price_endings), override)


def _price(
    base_price: Decimal, markup: Decimal, endings: tuple[int, ...], override: Decimal | None
) -> Decimal:
    if override is not None:
        return Decimal(override).quantize(CENT, rounding=ROUND_HALF_UP)
    price = Decimal(base_price)
    if not markup and not endings:
        return price.quantize(CENT, rounding=ROUND_HALF_UP)
    # Quantize to the cent first so a markup that lands exactly on an ending is not pushed past it.
    marked_up = (price * (HUNDRED + markup) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)
    return round_up_to_ending(marked_up, endings)


class PriceBook:
    """Every channel's rule, read once: pricing a page of products looks each rule up per product."""

    def __init__(self, rules: Iterable[ChannelPriceRule]) -> None:
        self._rules = {
            rule.channel: (Decimal(rule.markup_percent or 0), parse_endings(rule.price_endings))
            for rule in rules
        }

    def prices(
        self, base_price: Decimal, overrides: Mapping[str, Decimal | None] | None = None
    ) -> dict[str, Decimal]:
        """The price on every channel that has a rule, plus any channel where a listing overrides it."""
        overrides = overrides or {}
        channels = sorted(self._rules.keys() | {c for c, o in overrides.items() if o is not None})
        return {
            channel: _price(base_price, *self._rules.get(channel, (ZERO, ())), overrides.get(channel))
            for channel in channels
        }


def channel_prices(
    base_price: Decimal,
    rules: Iterable[ChannelPriceRule],
    overrides: Mapping[str, Decimal | None] | None = None,
) -> dict[str, Decimal]:
    """The price on every channel that has a rule, plus any channel where a listing overrides it."""
    return PriceBook(rules).prices(base_price, overrides)


# -- the same in SQL --------------------------------------------------------------------------------


def _int(value: int) -> sa.ColumnElement[int]:
    return sa.literal(value, sa.BigInteger)


def cents_sql(column: Any) -> sa.ColumnElement[int]:
    """A 2-decimal money column in whole cents (a float on SQLite: rounding makes it exact)."""
    return sa.cast(sa.func.round(column * _int(100)), sa.BigInteger)


def effective_price_cents_sql(
    rule: ChannelPriceRule | None, base_price: Any, override: Any
) -> sa.ColumnElement[int]:
    """``effective_price(base_price, rule, override)`` in whole cents, as a SQL expression over the
    two columns, for comparisons the database should make (reconciliation). Integer arithmetic, so
    it is exact on SQLite's floats and PostgreSQL's numerics alike; ``tests/sync/test_reconcile.py``
    holds it equal to ``effective_price`` to the cent.

    Prices are never negative (the catalog validates them), so integer division is floor division:
    half-up to the cent is ``(2·x·n + d) // 2d`` and "up to the next whole number" is ``(x + 99) // 100``.
    """
    base = cents_sql(base_price)
    markup = Decimal(rule.markup_percent or 0) if rule is not None else Decimal(0)
    endings = parse_endings(rule.price_endings) if rule is not None else ()
    price: sa.ColumnElement[int] = base
    if markup or endings:
        factor = Fraction(100 + markup) / 100
        n, d = factor.numerator, factor.denominator
        price = (_int(2 * n) * base + _int(d)) // _int(2 * d)
        if endings:
            whole = (price + _int(99)) // _int(100)
            last_two = whole % _int(100)
            hundred = whole - last_two
            rounded = sa.case(
                *[(last_two <= _int(e), hundred + _int(e)) for e in endings],
                else_=hundred + _int(100 + endings[0]),
            )
            price = rounded * _int(100)
    return sa.case((override.is_not(None), cents_sql(override)), else_=price)


def validate_markup(markup_percent: Decimal) -> Decimal:
    if not MIN_MARKUP_PERCENT <= markup_percent <= MAX_MARKUP_PERCENT:
        raise ValidationFailed(
            f"markup_percent must be between {MIN_MARKUP_PERCENT} and {MAX_MARKUP_PERCENT}",
            field="markup_percent",
        )
    return markup_percent.quantize(CENT, rounding=ROUND_HALF_UP)
