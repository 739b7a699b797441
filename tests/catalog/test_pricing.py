"""effective_price: override wins; else base + markup, rounded up to the next configured ending."""

from __future__ import annotations

from decimal import Decimal

import pytest

from riff.catalog import pricing
from riff.channels.models import ChannelPriceRule
from riff.core.errors import ValidationFailed


def rule(markup: str = "0", endings: str = "", channel: str = "ebay") -> ChannelPriceRule:
    return ChannelPriceRule(channel=channel, markup_percent=Decimal(markup), price_endings=endings)


class TestEffectivePrice:
    @pytest.mark.parametrize(
        ("base", "expected"),
        [
            ("1234.10", "1249.00"),
            ("1260", "1299.00"),
            ("1249", "1249.00"),
            ("1249.01", "1299.00"),
            ("1299.50", "1349.00"),
            ("1299", "1299.00"),
            ("5", "49.00"),
            ("0", "49.00"),
        ],
    )
    def test_rounds_up_to_the_next_ending(self, base: str, expected: str) -> None:
        assert pricing.effective_price(Decimal(base), rule(endings="49,99"), None) == Decimal(expected)

    def test_markup_then_ending(self) -> None:
        # 1000 + 10 % = 1100 -> next ending 1149
        assert pricing.effective_price(Decimal("1000"), rule("10", "49,99"), None) == Decimal("1149.00")
        # 1135.55 + 10 % = 1249.105 -> 1249.11 (cents first) -> 1299
        assert pricing.effective_price(Decimal("1135.55"), rule("10", "49,99"), None) == Decimal("1299.00")

    def test_markup_without_endings_rounds_to_the_cent(self) -> None:
        assert pricing.effective_price(Decimal("999.99"), rule("5"), None) == Decimal("1049.99")
        assert pricing.effective_price(Decimal("10.01"), rule("5"), None) == Decimal("10.51")

    def test_override_wins_over_rule(self) -> None:
        assert pricing.effective_price(Decimal("1000"), rule("10", "49,99"), Decimal("777")) == Decimal(
            "777.00"
        )

    def test_no_rule_is_the_base_price(self) -> None:
        assert pricing.effective_price(Decimal("1234.5"), None, None) == Decimal("1234.50")

    def test_single_digit_and_zero_endings(self) -> None:
        assert pricing.effective_price(Decimal("1201"), rule(endings="0,95"), None) == Decimal("1295.00")
        assert pricing.effective_price(Decimal("1296"), rule(endings="00,95"), None) == Decimal("1300.00")


class TestChannelPrices:
    def test_every_channel_with_a_rule_and_overrides(self) -> None:
        rules = [rule("5", channel="reverb"), rule("10", "49,99", channel="ebay"), rule(channel="shopify")]
        prices = pricing.channel_prices(Decimal("1000"), rules, {"shopify": Decimal("950"), "discogs": None})
        assert prices == {
            "ebay": Decimal("1149.00"),
            "reverb": Decimal("1050.00"),
            "shopify": Decimal("950.00"),
        }

    def test_override_without_rule_is_listed(self) -> None:
        assert pricing.channel_prices(Decimal("10"), [], {"discogs": Decimal("12")}) == {
            "discogs": Decimal("12.00")
        }


class TestEndings:
    def test_parse_and_format(self) -> None:
        assert pricing.parse_endings(" 99, 49 ,49") == (49, 99)
        assert pricing.parse_endings("") == ()
        assert pricing.format_endings((99, 5)) == "05,99"

    @pytest.mark.parametrize("bad", ["100", "4x", "49;99", "-1", "²"])
    def test_bad_endings_are_422(self, bad: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            pricing.parse_endings(bad)
        assert caught.value.field == "price_endings"
