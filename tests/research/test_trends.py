"""Daily trends computed in SQL on a known data set, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from riff.core.db import Database
from riff.research import trends
from riff.research.models import MarketListing, MarketTrend
from riff.research.pricing import quantile

DAY1 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)

# (day, hour, platform, brand, category, price in base currency, sold, engagement)
ROWS: list[tuple[dt.datetime, int, str, str | None, str | None, str | None, bool | None, float | None]] = [
    (DAY1, 1, "ebay", "Fender", "guitar", "100", None, None),
    (DAY1, 2, "ebay", "Fender", "guitar", "200", None, None),
    (DAY1, 3, "ebay", "Fender", "guitar", "300", None, None),
    (DAY1, 4, "ebay", "Fender", "guitar", "400", None, None),
    (DAY1, 5, "ebay", "Levi's", "denim", "50", None, None),
    (DAY1, 6, "ebay", "Levi's", "denim", "70", None, None),
    (DAY1, 7, "ebay", "Levi's", "denim", "95", None, None),
    (DAY1, 8, "ebay", None, None, None, None, None),
    (DAY1, 9, "etsy", "Fender", "guitar", "1000", False, 12.0),
    (DAY1, 22, "reddit", "Gibson", "guitar", "500", True, 30.0),
    (DAY1, 23, "reddit", "Gibson", "guitar", "700", True, 10.0),
    (DAY2, 0, "ebay", "Fender", "amp", "900", None, None),
    (DAY2, 12, "etsy", "Levi's", "denim", "60", False, 4.0),
    (DAY2 + dt.timedelta(days=1), 1, "ebay", "Fender", "guitar", "999", None, None),  # outside the range
]


def seed(database: Database) -> None:
    with database.session() as session:
        for index, (day, hour, platform, brand, category, price, sold, engagement) in enumerate(ROWS):
            seen = day + dt.timedelta(hours=hour)
            session.add(MarketListing(
                platform=platform, external_id=f"x{index}", title=f"item {index}", description="", brand=brand,
                category=category, price=None if price is None else Decimal(price), currency="GBP",
                price_base=None if price is None else Decimal(price), sold=sold, engagement_score=engagement,
                image_urls=[], ai_tags=[], raw={}, first_seen_at=seen, last_seen_at=seen,
            ))  # fmt: skip


def expected(prices: list[str]) -> dict[str, Decimal]:
    values = [Decimal(p) for p in prices]
    q = lambda x: quantile(values, x).quantize(Decimal("0.01"))  # noqa: E731
    return {"median_price": q(0.5), "p25_price": q(0.25), "p75_price": q(0.75), "iqr_price": q(0.75) - q(0.25),
            "min_price": min(values), "max_price": max(values),
            "avg_price": (sum(values) / len(values)).quantize(Decimal("0.01"))}  # fmt: skip


def rows_by_key(database: Database) -> dict[tuple[Any, ...], MarketTrend]:
    with database.read_session() as session:
        rows = list(session.scalars(sa.select(MarketTrend)))
        for row in rows:
            session.expunge(row)
    return {(r.period_start, r.platform, r.category, r.brand): r for r in rows}


def money(row: MarketTrend) -> dict[str, Decimal]:
    return {k: Decimal(getattr(row, k)).quantize(Decimal("0.01")) for k in
            ("median_price", "p25_price", "p75_price", "iqr_price", "min_price", "max_price", "avg_price")}  # fmt: skip


def test_daily_trends_on_a_known_data_set(database: Database) -> None:
    seed(database)
    with database.session() as session:
        written = trends.compute_trends(session, DAY1, DAY2 + dt.timedelta(days=1), currency="GBP")
    rows = rows_by_key(database)
    assert written == len(rows) > 0
    assert all(r.period == "day" and r.currency == "GBP" for r in rows.values())
    assert {key[0] for key in rows} == {DAY1, DAY2}

    ebay = rows[(DAY1, "ebay", "", "")]
    assert (ebay.listing_count, ebay.sold_count) == (8, 0)
    assert money(ebay) == expected(["100", "200", "300", "400", "50", "70", "95"])

    fender = rows[(DAY1, "all", "", "Fender")]
    assert fender.listing_count == 5
    assert money(fender) == expected(["100", "200", "300", "400", "1000"])
    assert money(fender)["median_price"] == Decimal("300.00") and money(fender)["iqr_price"] == Decimal(
        "200.00"
    )

    levis = rows[(DAY1, "ebay", "", "Levi's")]
    assert money(levis)["median_price"] == Decimal("70.00") and money(levis)["p25_price"] == Decimal("60.00")
    assert money(levis)["p75_price"] == Decimal("82.50")

    guitars = rows[(DAY1, "all", "guitar", "")]
    assert guitars.listing_count == 7 and guitars.sold_count == 2
    assert money(guitars) == expected(["100", "200", "300", "400", "1000", "500", "700"])

    reddit = rows[(DAY1, "reddit", "", "")]
    assert reddit.sold_count == 2 and reddit.avg_engagement == 20.0
    assert rows[(DAY1, "ebay", "other", "")].listing_count == 1  # uncategorised listings count as "other"
    assert rows[(DAY1, "ebay", "other", "")].median_price is None

    day2 = rows[(DAY2, "all", "", "")]
    assert day2.listing_count == 2 and money(day2)["median_price"] == Decimal("480.00")
    assert (DAY2, "all", "", "Gibson") not in rows

    # Recomputing a range replaces its rows instead of adding duplicates.
    with database.session() as session:
        trends.compute_daily_trends(session, DAY1.date(), currency="GBP")
    assert len(rows_by_key(database)) == len(rows)
