"""Price suggestions for a RIFF product from comparable market listings.

Comparables share the product's brand (else its category and a title word), are scored by title
similarity (rapidfuzz token set/sort ratios of brand + model + title), category, era and condition, and the
best ``MAX_COMPARABLES`` above ``MIN_SCORE`` count. From their prices (converted to the product's
currency) come count, median, quartiles and IQR, asking versus sold, and a suggested range (the
interquartile range, centred on sold prices when there are enough), then per channel what that range nets
after the channel's fees and what to list at to net it (``RIFF_RESEARCH_FEES``).
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from riff.catalog.models import Product
from riff.core.errors import NotFound
from riff.research import extraction
from riff.research.analysis import classify_category
from riff.research.config import FeeConfig, ResearchSettings
from riff.research.models import MarketListing
from riff.research.repository import ListingRepository

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MIN_SCORE = 60.0
MAX_COMPARABLES = 50
CANDIDATE_LIMIT = 2000
MIN_FOR_CONFIDENCE = 5
MIN_SOLD_TO_ANCHOR = 3
CONDITION_RANK = {"new": 0, "excellent": 1, "very_good": 2, "good": 3, "fair": 4, "poor": 5}
STOPWORDS = frozenset({"the", "and", "with", "for", "vintage", "original", "used", "guitar", "electric", "amp",
                       "jeans", "record", "vinyl", "made", "from", "in", "of", "a"})  # fmt: skip
CATEGORY_HINTS = (
    ("bass", "bass"),
    ("amp", "amp"),
    ("record", "record"),
    ("vinyl", "record"),
    ("lp", "record"),
    ("denim", "denim"),
    ("jean", "denim"),
    ("jacket", "denim"),
    ("clothing", "denim"),
    ("apparel", "denim"),
    ("guitar", "guitar"),
)


def _q(value: Decimal | float) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def quantile(values: list[Decimal], q: float) -> Decimal:
    """Linear interpolation between closest ranks (as ``percentile_cont``)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = Decimal(str(q)) * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def research_category(product: Product) -> str:
    names = " ".join(filter(None, [product.category.slug if product.category else None,
                                   product.category.name if product.category else None])).lower()  # fmt: skip
    for hint, category in CATEGORY_HINTS:
        if hint in names:
            return category
    return classify_category(product.title, product.description or "")[0]


def product_era(product: Product) -> str | None:
    if product.decade:
        match = re.search(r"(1[89]\d0|20\d0)", product.decade)
        if match:
            return f"{match.group(1)}s"
        short = re.search(r"(\d0)s", product.decade)
        if short:
            return extraction.decade_of(extraction._two_digit(short.group(1)))
    if product.year:
        return extraction.decade_of(product.year)
    return extraction.identify_era(product.title, product.description or "")


def _decade_number(era: str | None) -> int | None:
    return int(era[:4]) if era and era[:4].isdigit() else None


@dataclasses.dataclass
class Comparable:
    listing: MarketListing
    score: float
    price: Decimal  # in the product's currency


def score_comparable(product_text: str, model: str | None, category: str, era: str | None, condition: str | None,
                     listing: MarketListing) -> float:  # fmt: skip
    title = extraction.fold(f"{listing.brand or ''} {listing.title}")
    # token_set alone calls "Telecaster" and "Telecaster 2015 American Professional" identical; the sort
    # ratio charges for the extra words.
    score = (
        float(fuzz.token_set_ratio(product_text, title)) + float(fuzz.token_sort_ratio(product_text, title))
    ) / 2
    if model:
        tokens = [t for t in re.split(r"\W+", extraction.fold(model)) if len(t) >= 2]
        if tokens and all(t in title for t in tokens):
            score += 10
    if listing.category and listing.category != category:
        score -= 15
    mine, theirs = _decade_number(era), _decade_number(listing.era)
    if mine is not None and theirs is not None:
        gap = abs(mine - theirs) // 10
        # Decades apart is another market for vintage goods (a '65 Tele is not a 2015 Tele).
        score += 10 if gap == 0 else (0 if gap == 1 else -40)
    if condition in CONDITION_RANK and listing.condition in CONDITION_RANK:
        score -= 4 * abs(CONDITION_RANK[condition] - CONDITION_RANK[listing.condition or ""])
    return score


def _stats(prices: list[Decimal]) -> dict[str, Any]:
    if not prices:
        return {"count": 0, "median": None, "p25": None, "p75": None, "iqr": None, "min": None, "max": None}
    p25, p75 = quantile(prices, 0.25), quantile(prices, 0.75)
    return {
        "count": len(prices),
        "median": _q(statistics.median(prices)),
        "p25": _q(p25),
        "p75": _q(p75),
        "iqr": _q(p75 - p25),
        "min": _q(min(prices)),
        "max": _q(max(prices)),
    }


def net_after_fees(price: Decimal, fee: FeeConfig) -> Decimal:
    rate = (fee.percent + fee.payment_percent) / HUNDRED
    return _q(price * (1 - rate) - fee.fixed)


def list_price_to_net(net: Decimal, fee: FeeConfig) -> Decimal:
    rate = (fee.percent + fee.payment_percent) / HUNDRED
    return _q((net + fee.fixed) / (1 - rate))


def suggest_price(session: Session, product_id: int, research: ResearchSettings) -> dict[str, Any]:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product {product_id}")
    category = research_category(product)
    era = product_era(product)
    condition = product.condition.value if product.condition else None
    brand = product.brand or extraction.identify_brand(product.title, product.description or "")
    product_text = extraction.fold(" ".join(filter(None, [brand, product.model, product.title])))
    terms = [t for t in re.split(r"\W+", extraction.fold(f"{product.model or ''} {product.title}"))
             if len(t) >= 3 and t not in STOPWORDS][:6]  # fmt: skip
    candidates = ListingRepository(session).comparables(
        brand=brand, category=category, terms=terms, limit=CANDIDATE_LIMIT
    )
    rates = research.resolved_fx()
    currency = (product.currency or research.base_currency).upper()
    to_product = rates.get(currency)
    scored: list[Comparable] = []
    for listing in candidates:
        if listing.price_base is None or not to_product:
            continue
        score = score_comparable(product_text, product.model, category, era, condition, listing)
        if score >= MIN_SCORE:
            scored.append(Comparable(listing, score, _q(Decimal(listing.price_base) / to_product)))
    scored.sort(key=lambda c: (-c.score, -c.listing.id))
    best = scored[:MAX_COMPARABLES]
    prices = [c.price for c in best]
    overall = _stats(prices)
    sold = _stats([c.price for c in best if c.listing.sold])
    asking = _stats([c.price for c in best if not c.listing.sold])
    anchor = sold if sold["count"] >= MIN_SOLD_TO_ANCHOR else overall
    suggestion: dict[str, Any] | None = None
    channels: dict[str, Any] = {}
    if anchor["count"]:
        low, high, mid = anchor["p25"], anchor["p75"], anchor["median"]
        suggestion = {"low": low, "high": high, "price": mid, "basis": "sold" if anchor is sold else "all"}
        for name, fee in sorted(research.resolved_fees().items()):
            channels[name] = {
                "fee_percent": _q(fee.percent + fee.payment_percent),
                "fee_fixed": _q(fee.fixed),
                "net_low": net_after_fees(low, fee),
                "net_high": net_after_fees(high, fee),
                "net_at_price": net_after_fees(mid, fee),
                "list_to_net_low": list_price_to_net(low, fee),
                "list_to_net_high": list_price_to_net(high, fee),
            }
    current = Decimal(product.base_price) if product.base_price is not None else None
    position = None
    if current is not None and prices:
        position = round(100.0 * sum(1 for p in prices if p <= current) / len(prices), 1)
    return {
        "product_id": product.id,
        "title": product.title,
        "brand": brand,
        "category": category,
        "era": era,
        "condition": condition,
        "currency": currency,
        "current_price": _q(current) if current is not None else None,
        "current_price_percentile": position,
        "confidence": "high"
        if overall["count"] >= 15
        else ("medium" if overall["count"] >= MIN_FOR_CONFIDENCE else "low"),
        "comparables": overall,
        "asking": asking,
        "sold": sold,
        "suggested": suggestion,
        "channels": channels,
        "examples": [
            {
                "id": c.listing.id,
                "platform": c.listing.platform,
                "title": c.listing.title,
                "url": c.listing.url,
                "price": c.price,
                "sold": c.listing.sold,
                "era": c.listing.era,
                "condition": c.listing.condition,
                "score": round(c.score, 1),
            }
            for c in best[:10]
        ],
    }
