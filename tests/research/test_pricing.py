"""Price suggestions: comparables by brand/title/era/condition, asking vs sold, channel fees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from catalog.factories import create_product
from riff.core.db import Database
from riff.research.config import FeeConfig, ResearchSettings
from riff.research.models import MarketListing
from riff.research.pricing import list_price_to_net, net_after_fees, quantile, suggest_price

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def add(session: object, index: int, title: str, price: str, *, brand: str = "Fender", era: str | None = "1960s",
        category: str = "guitar", condition: str | None = "very_good", sold: bool | None = None) -> None:  # fmt: skip
    session.add(MarketListing(  # type: ignore[attr-defined]
        platform="ebay" if index % 2 else "reddit", external_id=f"c{index}", title=title, description="", brand=brand,
        era=era, category=category, condition=condition, price=Decimal(price), currency="GBP",
        price_base=Decimal(price), sold=sold, image_urls=[], ai_tags=[], raw={}, first_seen_at=NOW, last_seen_at=NOW,
    ))  # fmt: skip


def test_price_suggestion_from_comparables(database: Database) -> None:
    with database.session() as session:
        asking = ["9000", "10000", "11000", "12000", "13000"]
        for i, price in enumerate(asking):
            add(session, i, f"Fender Telecaster 196{i} sunburst", price)
        for i, price in enumerate(["9500", "10500", "11500"]):
            add(session, 10 + i, "1965 Fender Telecaster custom, sold", price, sold=True)
        add(session, 20, "Fender Deluxe Reverb 1966", "2500", category="amp")  # other model and category
        add(session, 21, "Gibson Les Paul 1960", "90000", brand="Gibson")  # other brand
        add(
            session,
            22,
            "Fender Telecaster 2015 American Professional",
            "1100",
            era="2010s",
            condition="excellent",
        )
        product = create_product(session, title="Fender Telecaster 1965 Sunburst", price="11800.00")
        product_id = product.id
    research = ResearchSettings(_env_file=None)  # type: ignore[call-arg]
    with database.read_session() as session:
        result = suggest_price(session, product_id, research)
    titles = {e["title"] for e in result["examples"]}
    assert "Fender Deluxe Reverb 1966" not in titles and "Gibson Les Paul 1960" not in titles
    assert "Fender Telecaster 2015 American Professional" not in titles  # wrong era scores too low
    assert result["comparables"]["count"] == 8
    assert (result["sold"]["count"], result["asking"]["count"]) == (3, 5)
    assert result["sold"]["median"] == Decimal("10500.00") and result["asking"]["median"] == Decimal(
        "11000.00"
    )
    assert result["suggested"]["basis"] == "sold"
    assert (result["suggested"]["low"], result["suggested"]["high"]) == (
        Decimal("10000.00"),
        Decimal("11000.00"),
    )
    assert result["era"] == "1960s" and result["currency"] == "GBP" and result["category"] == "guitar"
    reverb = result["channels"]["reverb"]
    assert reverb["net_low"] == net_after_fees(Decimal("10000"), research.resolved_fees()["reverb"])
    assert set(result["channels"]) == {"reverb", "discogs", "ebay"}
    assert result["current_price_percentile"] == 75.0


def test_fee_arithmetic_and_quantiles() -> None:
    reverb = FeeConfig(percent=Decimal("5"), payment_percent=Decimal("2.99"), fixed=Decimal("0.49"))
    discogs = FeeConfig(percent=Decimal("8"))
    assert net_after_fees(Decimal("1000"), reverb) == Decimal("919.61")
    assert net_after_fees(Decimal("100"), discogs) == Decimal("92.00")
    assert net_after_fees(list_price_to_net(Decimal("919.61"), reverb), reverb) == Decimal("919.61")
    assert quantile([Decimal(v) for v in (1, 2, 3, 4)], 0.25) == Decimal("1.75")
    assert quantile([Decimal(7)], 0.75) == Decimal(7)
