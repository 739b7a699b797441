"""Which product is this unknown remote listing? Exact SKU first, else a scored fuzzy match (RapidFuzz) on
brand, model, title, year, price and description, with the reasons shown to the user.

Scoring (after the original RIFF's ``match_utils``): brand similarity > 85 % +0.35 (> 65 % +0.20), model
the same, title > 80 % +0.20 (> 60 % +0.10), year within one +0.10 (same decade +0.05), price within 10 %
+0.10 (20 % +0.05), description > 75 % +0.05; capped at 0.95 (only an exact SKU is certain).
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz, process, utils

from riff.catalog.models import Product
from riff.channels.contract import RemoteListing

MIN_SCORE = 0.3
MAX_SCORE = 0.95
TAG = re.compile(r"<[^>]+>")
YEAR = re.compile(r"(19|20)\d\d")


@dataclasses.dataclass(frozen=True)
class Details:
    """What a remote listing says about the item, from its normalized fields and raw payload."""

    sku: str | None
    title: str
    brand: str | None
    model: str | None
    year: int | None
    price: Decimal | None
    description: str

    def as_json(self) -> dict[str, Any]:
        return {
            "brand": self.brand,
            "model": self.model,
            "year": self.year,
            "description": self.description[:2000],
        }


@dataclasses.dataclass(frozen=True)
class Candidate:
    product_id: int
    sku: str
    title: str
    score: float
    reasons: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "sku": self.sku,
            "title": self.title,
            "score": round(self.score, 3),
            "reasons": list(self.reasons),
        }


def _text(raw: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, dict):
            value = value.get("name") or value.get("display_name")
        if isinstance(value, str | int) and str(value).strip():
            return str(value).strip()
    return None


def details(remote: RemoteListing) -> Details:
    raw = remote.raw or {}
    year_text = _text(raw, "year", "years")
    year_match = YEAR.search(year_text or "")
    description = _text(raw, "description", "body_html", "descriptionHtml", "notes", "comments") or ""
    return Details(
        sku=remote.sku,
        title=remote.title or "",
        brand=_text(raw, "make", "brand", "vendor", "manufacturer"),
        model=_text(raw, "model"),
        year=int(year_match.group(0)) if year_match else None,
        price=remote.price,
        description=html.unescape(TAG.sub(" ", description)).strip(),
    )


def _similarity(a: str | None, b: str | None, scorer: Any = fuzz.ratio) -> float:
    if not a or not b:
        return 0.0
    return float(scorer(a, b, processor=utils.default_process)) / 100.0


def score(item: Details, product: Product) -> tuple[float, list[str]]:
    total = 0.0
    reasons: list[str] = []
    for label, theirs, ours in (("brand", item.brand, product.brand), ("model", item.model, product.model)):
        similarity = _similarity(theirs, ours)
        if similarity > 0.85:
            total += 0.35
            reasons.append(f"{label} {theirs!r} ~ {ours!r} ({similarity:.0%})")
        elif similarity > 0.65:
            total += 0.20
            reasons.append(f"{label} {theirs!r} ~ {ours!r} ({similarity:.0%})")
    similarity = _similarity(item.title, product.title, fuzz.token_set_ratio)
    if similarity > 0.8:
        total += 0.20
        reasons.append(f"title {similarity:.0%} alike")
    elif similarity > 0.6:
        total += 0.10
        reasons.append(f"title {similarity:.0%} alike")
    if item.year is not None and product.year is not None:
        if abs(item.year - product.year) <= 1:
            total += 0.10
            reasons.append(f"year {item.year} ~ {product.year}")
        elif item.year // 10 == product.year // 10:
            total += 0.05
            reasons.append(f"same decade ({product.year // 10 * 10}s)")
    if item.price and product.base_price:
        difference = abs(item.price - product.base_price) / product.base_price
        if difference <= Decimal("0.10"):
            total += 0.10
            reasons.append(f"price {item.price} within 10% of {product.base_price}")
        elif difference <= Decimal("0.20"):
            total += 0.05
            reasons.append(f"price {item.price} within 20% of {product.base_price}")
    if item.description and product.description:
        similarity = _similarity(item.description[:150], product.description[:150])
        if similarity > 0.75:
            total += 0.05
            reasons.append(f"description {similarity:.0%} alike")
    return min(total, MAX_SCORE), reasons


class Matcher:
    """Finds candidates for many remote listings against one catalog snapshot.

    ``by_sku``: products keyed by lower-cased SKU; ``by_brand``: lower-cased brand -> products;
    ``titles``: (product id, title) for the title search when the brand gives nothing.
    """

    def __init__(
        self,
        *,
        by_sku: Mapping[str, Product],
        by_brand: Mapping[str, Sequence[Product]],
        titles: Sequence[tuple[int, str]],
        products: Mapping[int, Product],
        load: Callable[[list[int]], Mapping[int, Product]] | None = None,
    ) -> None:
        self.by_sku = by_sku
        self.by_brand = by_brand
        self.title_ids = [pid for pid, _ in titles]
        self.title_texts = [utils.default_process(title) for _, title in titles]
        self.products = dict(products)
        self.load = load

    def candidates(self, item: Details, limit: int = 3) -> list[Candidate]:
        if item.sku:
            exact = self.by_sku.get(item.sku.strip().lower())
            if exact is not None:
                return [Candidate(exact.id, exact.sku, exact.title, 1.0, (f"same SKU {exact.sku}",))]
        pool: dict[int, Product] = {}
        if item.brand:
            for product in self.by_brand.get(item.brand.strip().lower(), ()):
                pool[product.id] = product
        if len(pool) < 50 and item.title and self.title_texts:
            found = process.extract(
                utils.default_process(item.title), self.title_texts, scorer=fuzz.token_set_ratio, limit=10,
                score_cutoff=60,
            )  # fmt: skip
            ids = [self.title_ids[index] for _, _, index in found]
            missing = [pid for pid in ids if pid not in self.products]
            if missing and self.load is not None:
                self.products.update(self.load(missing))
            for pid in ids:
                found_product = self.products.get(pid)
                if found_product is not None:
                    pool[found_product.id] = found_product
        scored = []
        for product in pool.values():
            value, reasons = score(item, product)
            if value >= MIN_SCORE:
                scored.append(Candidate(product.id, product.sku, product.title, value, tuple(reasons)))
        scored.sort(key=lambda c: (-c.score, c.product_id))
        return scored[:limit]


def build_matcher(
    products: Iterable[Product],
    *,
    by_sku: Mapping[str, Product],
    titles: Sequence[tuple[int, str]],
    load: Callable[[list[int]], Mapping[int, Product]] | None = None,
) -> Matcher:
    by_brand: dict[str, list[Product]] = {}
    by_id: dict[int, Product] = {}
    for product in products:
        by_id[product.id] = product
        if product.brand:
            by_brand.setdefault(product.brand.strip().lower(), []).append(product)
    for product in by_sku.values():
        by_id.setdefault(product.id, product)
    return Matcher(by_sku=by_sku, by_brand=by_brand, titles=titles, products=by_id, load=load)
