"""Price, brand, size, era and condition extraction on Reddit-style titles and comments (pure functions)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from riff.research import extraction

# (text, amount, currency, shipped)
PRICES = [
    ("[WTS] [US-CA] Levi's 501 Big E W32 L30 - $450 shipped", "450", "USD", True),
    ("[H] Iron Heart 634S size 33 [W] PayPal, $220 shipped CONUS", "220", "USD", True),
    ("Selling my '65 Fender Strat, sunburst, all original, £12,500 ono", "12500", "GBP", False),
    ("Pure Blue Japan XX-019 32x34 asking 180 obo", "180", "USD", False),
    ("Marshall JCM800 2203 head 1982, 120 USD + shipping", "120", "USD", False),
    ("Tele Thinline '72 - 1.2k shipped", "1200", "USD", True),
    ("WTS: APC Petit Standard 30, 90 shipped", "90", "USD", True),
    ("Edwin ED-55 rainbow selvedge 32x32 - 70€ shipped EU", "70", "EUR", True),
    ("Blue Note 1577 mono, $1,800.00 firm", "1800.00", "USD", False),
    ("[FS][CAN] StingRay 2006 - C$1,700", "1700", "CAD", False),
    ("Kind of Blue 6-eye, was $900, price drop now $750", "750", "USD", False),
    ("~~$500~~ $420 shipped, Flat Head 3005 W32", "420", "USD", True),
    ("Selling for 350, pickup only in Leeds", "350", "USD", False),
    ("Nudie Grim Tim 31x32 for 40 bucks", "40", "USD", False),
    ("80s Wrangler jacket, 65 GBP inc postage", "65", "GBP", False),
    ("Momotaro GTB, worn 8 months, $175 + shipping", "175", "USD", False),
]

NO_PRICES = [
    "Worn for 30 days straight, 14oz denim, 32x34",
    "1965 Fender Deluxe Reverb, 22 watts, 1x12 speaker",
    "Anyone know what year this 501 is? Pics inside",
    "Gibson ES-335 from 1981, 20% off at the shop",
]


@pytest.mark.parametrize(("text", "amount", "currency", "shipped"), PRICES)
def test_price_extraction(text: str, amount: str, currency: str, shipped: bool) -> None:
    found = extraction.primary_price(text)
    assert found is not None, text
    assert (found.amount, found.currency, found.shipped) == (Decimal(amount), currency, shipped)


@pytest.mark.parametrize("text", NO_PRICES)
def test_no_price_in_numbers_that_are_not_prices(text: str) -> None:
    assert extraction.primary_price(text) is None


def test_title_price_wins_over_body_and_default_currency_applies() -> None:
    found = extraction.primary_price(
        "[WTS] Iron Heart 634S - 220 shipped", "Originally paid $340", default_currency="GBP"
    )
    assert found is not None and (found.amount, found.currency) == (Decimal("220"), "GBP")


# (title, description, brand)
BRANDS = [
    ("[WTS] LVC 1947 501XX W32", "", "Levi's"),
    ("Levis 505 orange tab", "", "Levi's"),
    ("'72 Tele Thinline natural", "", "Fender"),
    ("Squier Classic Vibe Stratocaster", "", "Squier"),
    ("Epiphone Les Paul Standard", "", "Epiphone"),
    ("Les Paul Junior 1957", "", "Gibson"),
    ("Strat style guitar, no name", "", None),
    ("Lee Morgan - The Sidewinder", "Blue Note 4157, NY labels", "Blue Note"),
    ("The Verve - Urban Hymns", "Hut records 1997", None),
    ("Orange Rockerverb 50 head", "", "Orange"),
    ("Orange tab 505s 1970s", "", "Levi's"),
    ("Mesa Boogie Mark IIC+", "", "Mesa/Boogie"),
    ("Höfner 500/1 violin bass", "", "Hofner"),
    ("Vintage jacket, see pics", "Lee 101J, union made", "Lee"),
    ("Carhartt double knee 36x30", "", "Carhartt"),
    ("Pickguard for Fender Strat", "", "Fender"),
]


@pytest.mark.parametrize(("title", "description", "brand"), BRANDS)
def test_brand_identification(title: str, description: str, brand: str | None) -> None:
    assert extraction.identify_brand(title, description) == brand


# (text, category, size)
SIZES = [
    ("Levi's 501 W32 L30", "denim", "W32 L30"),
    ("PBJ XX-019 32x34 raw", "denim", "W32 L34"),
    ("Iron Heart 634S size 33", "denim", "W33"),
    ("Wrangler 13MWZ tagged 34, measures 32.5", "denim", "W34"),
    ("Type III trucker jacket size 40", "denim", "40"),
    ("Flannel shirt, size M", "denim", "M"),
    ("Red Wing 875 boots US 9.5 D", "denim", "US 9.5"),
    ("Marshall 4x12 cab", "amp", None),
    ("1965 Strat, 21 frets", "guitar", None),
]


@pytest.mark.parametrize(("text", "category", "size"), SIZES)
def test_size_identification(text: str, category: str, size: str | None) -> None:
    assert extraction.identify_size(text, "", category) == size


# (title, description, category, era)
ERAS = [
    ("1965 Fender Stratocaster", "", None, "1960s"),
    ("'72 Tele Thinline", "", None, "1970s"),
    ("Late 70s Wrangler jacket", "", None, "1970s"),
    ("Fender '57 reissue Strat made in Japan 1994", "", None, "1990s"),
    ("LVC 1955 501XX", "bought new in 2018", None, "2010s"),
    ("American Vintage '62 Jazzmaster", "", None, None),
    ("Kind of Blue 1977 reissue", "", "record", "1970s"),
    ("Sixties chore coat", "", None, "1960s"),
    ("70s style flares", "", None, None),
    ("Gibson J-45", "Pots date to 1964, serial from 1965", None, "1960s"),
]


@pytest.mark.parametrize(("title", "description", "category", "era"), ERAS)
def test_era_identification(title: str, description: str, category: str | None, era: str | None) -> None:
    assert extraction.identify_era(title, description, category) == era


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("NWT deadstock 501s", "new"),
        ("Vinyl NM, sleeve VG+", "excellent"),
        ("great condition, light wear", "very_good"),
        ("player grade, lots of checking", "fair"),
        ("Amp for parts, not working", "poor"),
        ("Mint green pickguard", None),
    ],
)
def test_condition(text: str, condition: str | None) -> None:
    assert extraction.identify_condition(text) == condition


def test_sold_wtb_and_engagement() -> None:
    assert extraction.looks_sold("[SOLD] Levi's 501")
    assert extraction.looks_sold("Levi's 501", "Sold")
    assert not extraction.looks_sold("Levi's 501 [WTS]")
    assert extraction.is_want_to_buy("[WTB] Big E trucker size 40")
    assert not extraction.is_want_to_buy("[WTS] Big E trucker size 40")
    now = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)
    fresh = extraction.engagement_score(50, 10, now - dt.timedelta(hours=1), now)
    stale = extraction.engagement_score(50, 10, now - dt.timedelta(days=10), now)
    quiet = extraction.engagement_score(2, 0, now - dt.timedelta(hours=1), now)
    assert fresh > stale > 0 and fresh > quiet
    assert extraction.engagement_score(0, 0, now, now) == 0
