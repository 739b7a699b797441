"""Realistic generated one-of-a-kind goods (denim, guitars and basses, amps, records) shared by the research
sandboxes (eBay Browse, Etsy, Reddit). Deterministic for a given ``random.Random``; prices in USD, by
brand, model and age the way the vintage market prices them (older and rarer costs more)."""

from __future__ import annotations

import dataclasses
import random
import re
from datetime import datetime, timedelta

WASHES = ("raw", "one wash", "light wash", "medium wash", "dark wash", "faded", "stonewash", "rinsed")
FINISHES = ("3-tone sunburst", "2-tone sunburst", "Olympic White", "Fiesta Red", "Lake Placid Blue",
            "Candy Apple Red", "natural", "black", "cherry", "goldtop", "tobacco burst", "Sonic Blue")  # fmt: skip
CONDITIONS = (("excellent", 0.25), ("very good", 0.35), ("good", 0.25), ("fair", 0.1), ("mint", 0.05))
GRADES = ("NM", "VG+", "VG+", "VG", "EX", "M-")

# (brand, model, kind, base USD price for a recent one, yearly premium for age, first year made)
DENIM = (
    ("Levi's", "501", "jeans", 60, 6.0, 1947),
    ("Levi's", "501XX Big E", "jeans", 400, 25.0, 1955),
    ("Levi's", "505 Orange Tab", "jeans", 70, 5.0, 1967),
    ("Levi's", "517 Bootcut", "jeans", 45, 3.0, 1969),
    ("Levi's", "70505 Type III Trucker Jacket", "jacket", 120, 12.0, 1967),
    ("Levi's", "557XX Type III Jacket", "jacket", 600, 30.0, 1962),
    ("Lee", "101 Riders", "jeans", 70, 8.0, 1950),
    ("Lee", "101J Jacket", "jacket", 110, 10.0, 1950),
    ("Wrangler", "13MWZ", "jeans", 45, 3.0, 1964),
    ("Wrangler", "24MJZ Jacket", "jacket", 90, 6.0, 1964),
    ("Iron Heart", "634S Straight Tapered", "jeans", 260, 0.0, 2008),
    ("Momotaro", "0705SP Going to Battle", "jeans", 230, 0.0, 2010),
    ("Pure Blue Japan", "XX-019 Relaxed Tapered", "jeans", 200, 0.0, 2009),
    ("The Flat Head", "3005", "jeans", 240, 0.0, 2005),
    ("Big Yank", "Chambray Work Shirt", "shirt", 90, 6.0, 1936),
    ("Carhartt", "Double Knee Carpenter", "jeans", 60, 2.0, 1985),
)
GUITARS = (
    ("Fender", "Stratocaster", "guitar", 1200, 220.0, 1954),
    ("Fender", "Telecaster", "guitar", 1100, 200.0, 1951),
    ("Fender", "Jazzmaster", "guitar", 1300, 160.0, 1958),
    ("Fender", "Precision Bass", "bass", 1000, 150.0, 1957),
    ("Fender", "Jazz Bass", "bass", 1100, 160.0, 1960),
    ("Gibson", "Les Paul Standard", "guitar", 2200, 600.0, 1952),
    ("Gibson", "SG Special", "guitar", 1100, 120.0, 1961),
    ("Gibson", "ES-335", "guitar", 2400, 260.0, 1958),
    ("Gibson", "J-45", "guitar", 1800, 90.0, 1942),
    ("Gretsch", "6120 Chet Atkins", "guitar", 2000, 150.0, 1955),
    ("Rickenbacker", "330", "guitar", 1600, 60.0, 1958),
    ("Martin", "D-28", "guitar", 2300, 140.0, 1931),
    ("Epiphone", "Casino", "guitar", 600, 60.0, 1961),
    ("Guild", "Starfire IV", "guitar", 1200, 50.0, 1963),
)
AMPS = (
    ("Fender", "Deluxe Reverb", "amp", 900, 90.0, 1963),
    ("Fender", "Twin Reverb", "amp", 900, 40.0, 1963),
    ("Fender", "Bassman", "amp", 1000, 120.0, 1952),
    ("Marshall", "JCM800 2203", "amp", 1300, 30.0, 1981),
    ("Marshall", "Super Lead 1959", "amp", 1800, 120.0, 1965),
    ("Vox", "AC30 Top Boost", "amp", 1100, 80.0, 1960),
    ("Ampeg", "B-15N Portaflex", "amp", 700, 25.0, 1960),
    ("Hiwatt", "DR103 Custom 100", "amp", 1500, 60.0, 1970),
    ("Orange", "OR120 Graphic", "amp", 1200, 40.0, 1972),
)
# (artist, album, label, catalogue number, release year, base USD price of a clean original)
RECORDS = (
    ("Pink Floyd", "The Dark Side of the Moon", "Harvest", "SHVL 804", 1973, 300),
    ("The Beatles", "Abbey Road", "Apple", "PCS 7088", 1969, 250),
    ("John Coltrane", "Blue Train", "Blue Note", "BLP 1577", 1957, 2200),
    ("Miles Davis", "Kind of Blue", "Columbia", "CS 8163", 1959, 600),
    ("Led Zeppelin", "IV", "Atlantic", "2401012", 1971, 180),
    ("Joy Division", "Unknown Pleasures", "Factory", "FACT 10", 1979, 250),
    ("Black Sabbath", "Paranoid", "Vertigo", "6360 011", 1970, 500),
    ("Bob Marley & The Wailers", "Catch a Fire", "Island", "ILPS 9241", 1973, 350),
    ("Bill Evans Trio", "Waltz for Debby", "Riverside", "RLP 399", 1962, 400),
    ("Stevie Wonder", "Songs in the Key of Life", "Motown", "T13-340C2", 1976, 60),
    ("Radiohead", "OK Computer", "Parlophone", "NODATA 02", 1997, 350),
    ("Nirvana", "Nevermind", "DGC", "DGC-24425", 1991, 400),
)


@dataclasses.dataclass
class Good:
    key: str
    category: str  # denim | guitar | bass | amp | record
    brand: str
    model: str
    year: int
    price_usd: float
    condition: str
    size: str | None
    finish: str | None
    detail: str  # one sentence a seller would write
    tags: list[str]
    materials: list[str]
    created_at: datetime
    sold: bool = False

    @property
    def decade(self) -> str:
        return f"{self.year // 10 * 10}s"

    @property
    def short_decade(self) -> str:
        return f"{str(self.year)[2]}0s"


def _condition(rng: random.Random) -> str:
    roll = rng.random()
    total = 0.0
    for name, weight in CONDITIONS:
        total += weight
        if roll <= total:
            return name
    return "good"


def _price(
    rng: random.Random, base: float, premium: float, year: int, now_year: int, condition: str
) -> float:
    age = max(0, now_year - year - 10)
    value = base + premium * age
    value *= {"mint": 1.3, "excellent": 1.15, "very good": 1.0, "good": 0.85, "fair": 0.65}.get(
        condition, 1.0
    )
    value *= rng.uniform(0.75, 1.3)
    return round(value, -1 if value > 200 else 0) - (0.01 if rng.random() < 0.3 else 0)


def make_good(rng: random.Random, index: int, now: datetime) -> Good:
    kind = rng.choices(("denim", "guitar", "amp", "record"), weights=(35, 30, 15, 20))[0]
    created = now - timedelta(days=rng.uniform(0, 45), minutes=rng.randint(0, 1440))
    condition = _condition(rng)
    if kind == "record":
        artist, album, label, catno, release, base = rng.choice(RECORDS)
        original = rng.random() < 0.55
        year = (
            release
            if original
            else rng.choice(
                [y for y in (1975, 1982, 1990, 2003, 2012, 2016, 2021) if y > release] or [release]
            )
        )
        grade = rng.choice(GRADES)
        price = (
            base
            * (1.0 if original else 0.12)
            * rng.uniform(0.7, 1.3)
            * (1.2 if grade in ("NM", "M-") else 1.0)
        )
        pressing = "first pressing" if original else f"{year} reissue"
        detail = (f"{label} {catno}, {pressing}. Vinyl {grade}, sleeve VG+ with light ring wear."
                  if original else f"{label} reissue from {year}, vinyl {grade}, plays clean.")  # fmt: skip
        return Good(
            key=f"g{index}", category="record", brand=label, model=f"{artist} - {album}", year=year,
            price_usd=round(max(15.0, price), 2), condition=grade, size=None, finish=None, detail=detail,
            tags=["vinyl", "lp", artist.lower(), "original pressing" if original else "reissue"],
            materials=["vinyl"], created_at=created,
        )  # fmt: skip
    table = {"denim": DENIM, "guitar": GUITARS, "amp": AMPS}[kind]
    brand, model, sub, base, premium, first = rng.choice(table)
    last = min(now.year - 1, 1999 if premium > 0 else now.year - 1)
    year = rng.randint(first, max(first, last)) if premium > 0 else rng.randint(first, now.year - 1)
    price = _price(rng, base, premium, year, now.year, condition)
    size = finish = None
    if kind == "denim":
        if sub == "jeans":
            size = f"W{rng.randint(28, 38)} L{rng.choice((30, 30, 32, 32, 34, 36))}"
        else:
            size = rng.choice(("38", "40", "42", "44", "M", "L"))
        finish = rng.choice(WASHES)
        detail = f"Made in USA, {finish}, {condition} condition with honest wear. Measures flat as tagged."
        tags = ["vintage", "denim", sub, finish]
        materials = ["cotton", "denim"]
        category = "denim"
    elif kind == "guitar":
        finish = rng.choice(FINISHES)
        detail = (
            f"{finish} finish, {condition} condition, original pickups, with hard case. Neck date {year}."
        )
        tags = ["vintage", "guitar" if sub == "guitar" else "bass", finish.lower()]
        materials = ["wood"]
        category = sub
    else:
        finish = rng.choice(("black tolex", "blonde tolex", "tweed", "silverface", "blackface"))
        detail = f"{finish}, serviced, new tubes and filter caps, {condition} condition. Transformers date to {year}."
        tags = ["vintage", "amp", "tube amp"]
        materials = ["wood", "metal"]
        category = "amp"
    return Good(
        key=f"g{index}", category=category, brand=brand, model=model, year=year, price_usd=max(20.0, price),
        condition=condition, size=size, finish=finish, detail=detail, tags=tags, materials=materials,
        created_at=created, sold=rng.random() < 0.08,
    )  # fmt: skip


def make_goods(rng: random.Random, size: int, now: datetime) -> list[Good]:
    return [make_good(rng, index, now) for index in range(size)]


def good_text(good: Good) -> str:
    """Words a keyword search matches: title-ish facts plus tags."""
    return " ".join([good.brand, good.model, good.decade, str(good.year), good.category, good.finish or "",
                     good.size or "", good.detail, "vintage", *good.tags])  # fmt: skip


def normalise(text: str) -> str:
    return "".join(
        ch if ch.isalnum() or ch.isspace() else " " if ch not in "'’" else "" for ch in text.lower()
    )


def matches_keywords(text: str, keywords: str | None) -> bool:
    """Every word of ``keywords`` appears (apostrophes ignored: ``levis`` finds ``Levi's``). ``text`` is
    normalised here; seeded documents store it normalised already (``search_text``), which is idempotent."""
    if not keywords:
        return True
    haystack = text if _NORMALISED.fullmatch(text) else normalise(text)
    return all(word in haystack for word in normalise(keywords).split())


_NORMALISED = re.compile(r"[a-z0-9\s]*")


def search_text(*parts: str) -> str:
    return " ".join(normalise(" ".join(parts)).split())
