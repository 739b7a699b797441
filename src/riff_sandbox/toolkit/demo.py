"""Deterministic demo stock for every sandbox: vintage guitars, basses and amps from 1952-1989.

Everything is drawn from the ``random.Random`` the caller passes, so the same seed gives the same shop on
every platform sandbox. Prices are in whole pounds; platforms convert with ``price_in``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Kinds, platform-neutral; each platform maps them to its own categories.
ELECTRIC_SOLID = "electric_solid"
ELECTRIC_SEMI = "electric_semi_hollow"
ELECTRIC_HOLLOW = "electric_hollow"
ELECTRIC_TWELVE = "electric_12_string"
ACOUSTIC_DREADNOUGHT = "acoustic_dreadnought"
ACOUSTIC_SMALL = "acoustic_small_body"
BASS = "bass"
AMP_COMBO = "amp_combo"
AMP_HEAD = "amp_head"
AMP_CABINET = "amp_cabinet"

KINDS = (
    ELECTRIC_SOLID,
    ELECTRIC_SEMI,
    ELECTRIC_HOLLOW,
    ELECTRIC_TWELVE,
    ACOUSTIC_DREADNOUGHT,
    ACOUSTIC_SMALL,
    BASS,
    AMP_COMBO,
    AMP_HEAD,
    AMP_CABINET,
)

# Platform-neutral condition keys, best first.
CONDITIONS = ("mint", "excellent", "very_good", "good", "fair", "poor")
_CONDITION_WEIGHTS = (5, 35, 32, 20, 6, 2)

# Fixed conversion for demo prices (not a live rate).
USD_PER_GBP = Decimal("1.27")
EUR_PER_GBP = Decimal("1.17")

FIRST_YEAR = 1952
LAST_YEAR = 1989


@dataclass(frozen=True)
class Model:
    make: str
    model: str
    kind: str
    first_year: int
    last_year: int
    finishes: tuple[str, ...]
    base_price_gbp: int
    origin_country_code: str = "US"


# fmt: off
CATALOGUE: tuple[Model, ...] = (
    Model("Fender", "Stratocaster", ELECTRIC_SOLID, 1954, 1989,
          ("Sunburst", "Olympic White", "Fiesta Red", "Lake Placid Blue", "Black", "Sonic Blue"), 6500),
    Model("Fender", "Telecaster", ELECTRIC_SOLID, 1952, 1989,
          ("Butterscotch Blonde", "Sunburst", "Black", "Natural", "Olympic White"), 5500),
    Model("Fender", "Esquire", ELECTRIC_SOLID, 1954, 1969, ("Butterscotch Blonde", "Sunburst"), 7000),
    Model("Fender", "Jazzmaster", ELECTRIC_SOLID, 1958, 1980,
          ("Sunburst", "Olympic White", "Candy Apple Red", "Lake Placid Blue"), 4800),
    Model("Fender", "Jaguar", ELECTRIC_SOLID, 1962, 1975, ("Sunburst", "Candy Apple Red", "Olympic White"), 4200),
    Model("Fender", "Mustang", ELECTRIC_SOLID, 1964, 1981, ("Dakota Red", "Daphne Blue", "Competition Orange"), 1600),
    Model("Fender", "Precision Bass", BASS, 1957, 1989, ("Sunburst", "Olympic White", "Black", "Natural"), 3800),
    Model("Fender", "Jazz Bass", BASS, 1960, 1989, ("Sunburst", "Olympic White", "Black", "Natural"), 4500),
    Model("Fender", "Twin Reverb", AMP_COMBO, 1963, 1982, ("Blackface", "Silverface"), 1700),
    Model("Fender", "Deluxe Reverb", AMP_COMBO, 1963, 1982, ("Blackface", "Silverface"), 2000),
    Model("Fender", "Princeton Reverb", AMP_COMBO, 1964, 1981, ("Blackface", "Silverface"), 1500),
    Model("Fender", "Bassman", AMP_HEAD, 1963, 1979, ("Blackface", "Silverface"), 1100),
    Model("Fender", "Champ", AMP_COMBO, 1953, 1964, ("Tweed",), 1300),
    Model("Gibson", "Les Paul Standard", ELECTRIC_SOLID, 1968, 1989,
          ("Cherry Sunburst", "Goldtop", "Tobacco Sunburst", "Wine Red"), 5200),
    Model("Gibson", "Les Paul Custom", ELECTRIC_SOLID, 1968, 1989, ("Ebony", "Alpine White", "Wine Red"), 4200),
    Model("Gibson", "Les Paul Junior", ELECTRIC_SOLID, 1954, 1963, ("Sunburst", "TV Yellow", "Cherry"), 4500),
    Model("Gibson", "SG Standard", ELECTRIC_SOLID, 1961, 1989, ("Cherry", "Walnut", "Pelham Blue"), 2800),
    Model("Gibson", "ES-335TD", ELECTRIC_SEMI, 1958, 1989, ("Sunburst", "Cherry", "Natural"), 5500),
    Model("Gibson", "ES-175", ELECTRIC_HOLLOW, 1952, 1989, ("Sunburst", "Natural"), 3200),
    Model("Gibson", "Flying V", ELECTRIC_SOLID, 1967, 1989, ("Cherry", "White", "Ebony"), 4800),
    Model("Gibson", "Firebird III", ELECTRIC_SOLID, 1963, 1969, ("Sunburst", "Cardinal Red", "Polaris White"), 6500),
    Model("Gibson", "J-45", ACOUSTIC_DREADNOUGHT, 1952, 1989, ("Sunburst", "Cherry Sunburst"), 2800),
    Model("Gibson", "Hummingbird", ACOUSTIC_DREADNOUGHT, 1960, 1989, ("Cherry Sunburst", "Natural"), 3600),
    Model("Gibson", "EB-3", BASS, 1961, 1979, ("Cherry", "Walnut"), 2000),
    Model("Gretsch", "6120 Chet Atkins", ELECTRIC_HOLLOW, 1955, 1968, ("Western Orange", "Amber Red"), 5500),
    Model("Gretsch", "Duo Jet", ELECTRIC_SOLID, 1953, 1971, ("Black", "Cadillac Green", "Silver Sparkle"), 4800),
    Model("Gretsch", "Country Gentleman", ELECTRIC_HOLLOW, 1957, 1981, ("Walnut", "Mahogany"), 4000),
    Model("Gretsch", "White Falcon", ELECTRIC_HOLLOW, 1955, 1981, ("White",), 9000),
    Model("Gretsch", "Tennessean", ELECTRIC_HOLLOW, 1958, 1972, ("Cherry Red", "Walnut"), 2800),
    Model("Rickenbacker", "330", ELECTRIC_SEMI, 1958, 1989, ("Fireglo", "Jetglo", "Mapleglo"), 2400),
    Model("Rickenbacker", "360/12", ELECTRIC_TWELVE, 1964, 1989, ("Fireglo", "Mapleglo", "Jetglo"), 4000),
    Model("Rickenbacker", "4001", BASS, 1961, 1985, ("Fireglo", "Mapleglo", "Jetglo"), 2800),
    Model("Rickenbacker", "620", ELECTRIC_SOLID, 1974, 1989, ("Fireglo", "Jetglo"), 1600),
    Model("Vox", "AC30 Top Boost", AMP_COMBO, 1960, 1989, ("Fawn", "Black"), 2800, "GB"),
    Model("Vox", "AC15", AMP_COMBO, 1958, 1965, ("Fawn",), 2500, "GB"),
    Model("Vox", "Phantom VI", ELECTRIC_SOLID, 1962, 1969, ("White", "Sunburst"), 1800, "GB"),
    Model("Vox", "Mark VI Teardrop", ELECTRIC_SOLID, 1963, 1968, ("White", "Sunburst"), 2800, "GB"),
    Model("Marshall", "JTM45", AMP_HEAD, 1962, 1966, ("Black",), 11000, "GB"),
    Model("Marshall", "1959 Super Lead", AMP_HEAD, 1966, 1981, ("Black",), 3500, "GB"),
    Model("Marshall", "1987 Lead", AMP_HEAD, 1966, 1981, ("Black",), 2800, "GB"),
    Model("Marshall", "JCM800 2203", AMP_HEAD, 1981, 1989, ("Black",), 1200, "GB"),
    Model("Marshall", "1960A 4x12 Cabinet", AMP_CABINET, 1967, 1989, ("Black", "Basketweave"), 900, "GB"),
    Model("Hiwatt", "DR103 Custom 100", AMP_HEAD, 1970, 1984, ("Black",), 2800, "GB"),
    Model("Hiwatt", "DR504 Custom 50", AMP_HEAD, 1970, 1984, ("Black",), 2200, "GB"),
    Model("Hiwatt", "SE4123 4x12 Cabinet", AMP_CABINET, 1970, 1984, ("Black",), 1200, "GB"),
    Model("Martin", "D-28", ACOUSTIC_DREADNOUGHT, 1952, 1989, ("Natural",), 4200),
    Model("Martin", "D-18", ACOUSTIC_DREADNOUGHT, 1952, 1989, ("Natural",), 3200),
    Model("Martin", "D-35", ACOUSTIC_DREADNOUGHT, 1965, 1989, ("Natural",), 2800),
    Model("Martin", "000-18", ACOUSTIC_SMALL, 1952, 1989, ("Natural",), 3000),
    Model("Martin", "00-18", ACOUSTIC_SMALL, 1952, 1989, ("Natural", "Sunburst"), 2400),
    Model("Epiphone", "Casino", ELECTRIC_HOLLOW, 1961, 1970, ("Sunburst", "Royal Tan", "Cherry"), 3600),
    Model("Epiphone", "Riviera", ELECTRIC_SEMI, 1962, 1970, ("Sunburst", "Cherry"), 2800),
    Model("Epiphone", "Sheraton", ELECTRIC_SEMI, 1959, 1969, ("Natural", "Sunburst"), 4500),
    Model("Epiphone", "Texan", ACOUSTIC_DREADNOUGHT, 1958, 1970, ("Natural", "Sunburst"), 2400),
    Model("Epiphone", "Coronet", ELECTRIC_SOLID, 1959, 1969, ("Cherry",), 2000),
    Model("Danelectro", "U-2", ELECTRIC_SOLID, 1956, 1959, ("Black", "Copper"), 1100),
    Model("Danelectro", "Longhorn Bass", BASS, 1958, 1969, ("Copperburst",), 1400),
    Model("Danelectro", "Shorthorn 3021", ELECTRIC_SOLID, 1959, 1968, ("Red Burst", "Black"), 950),
    Model("Danelectro", "Bellzouki 12", ELECTRIC_TWELVE, 1961, 1969, ("Sunburst",), 1200),
)
# fmt: on

_CASES = {
    AMP_COMBO: "Supplied with a fitted cover.",
    AMP_HEAD: "Supplied with a fitted cover.",
    AMP_CABINET: "Casters included.",
}
_CONDITION_NOTES = {
    "mint": "Near-pristine: no playwear to speak of.",
    "excellent": "Light playwear consistent with careful use.",
    "very_good": "Honest wear, fully serviced and playing well.",
    "good": "Noticeable wear and a few repairs, all disclosed in the photos.",
    "fair": "Heavily played with replaced parts; priced accordingly.",
    "poor": "Project instrument: sold as seen.",
}


@dataclass(frozen=True)
class GearItem:
    make: str
    model: str
    kind: str
    year: int
    finish: str
    condition: str
    price_gbp: int
    origin_country_code: str
    description: str

    @property
    def title(self) -> str:
        return f"{self.make} {self.model} {self.year} - {self.finish}"

    @property
    def is_amp(self) -> bool:
        return self.kind in (AMP_COMBO, AMP_HEAD, AMP_CABINET)

    def price_in(self, currency: str) -> Decimal:
        """The price in ``currency`` (GBP, USD or EUR), rounded to 5 units for the converted ones."""
        if currency == "GBP":
            return Decimal(self.price_gbp)
        rate = {"USD": USD_PER_GBP, "EUR": EUR_PER_GBP}[currency]
        return (Decimal(self.price_gbp) * rate / 5).quantize(Decimal(1), ROUND_HALF_UP) * 5


def _price(model: Model, year: int, condition: str, rng: random.Random) -> int:
    age_bonus = max(0, 1975 - year) * 0.035
    condition_factor = {
        "mint": 1.25,
        "excellent": 1.1,
        "very_good": 1.0,
        "good": 0.85,
        "fair": 0.7,
        "poor": 0.5,
    }
    raw = model.base_price_gbp * (1 + age_bonus) * condition_factor[condition] * rng.uniform(0.9, 1.12)
    step = 50 if raw < 5000 else 250
    return max(step, int(round(raw / step)) * step - (1 if rng.random() < 0.3 else 0))


def generate(rng: random.Random, count: int) -> list[GearItem]:
    """``count`` demo items, deterministic for a given ``rng`` state."""
    items = []
    for _ in range(count):
        model = rng.choice(CATALOGUE)
        year = rng.randint(max(model.first_year, FIRST_YEAR), min(model.last_year, LAST_YEAR))
        finish = rng.choice(model.finishes)
        condition = rng.choices(CONDITIONS, weights=_CONDITION_WEIGHTS)[0]
        origin = model.origin_country_code
        if model.make == "Epiphone" and year >= 1970:
            origin = "JP"
        description = (
            f"<p>{year} {model.make} {model.model} in {finish}.</p>"
            f"<p>{_CONDITION_NOTES[condition]} {_CASES.get(model.kind, 'Comes with its original case.')}</p>"
            "<p>Fully checked by our workshop before dispatch. Worldwide shipping, insured and tracked.</p>"
        )
        items.append(
            GearItem(
                make=model.make,
                model=model.model,
                kind=model.kind,
                year=year,
                finish=finish,
                condition=condition,
                price_gbp=_price(model, year, condition, rng),
                origin_country_code=origin,
                description=description,
            )
        )
    return items


@dataclass(frozen=True)
class Buyer:
    first_name: str
    last_name: str
    street_address: str
    locality: str
    region: str
    postal_code: str
    country_code: str
    country_name: str
    phone: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# Fictional people at placeholder addresses (5555550100-style phone numbers are reserved for fiction).
# fmt: off
BUYERS: tuple[Buyer, ...] = (
    Buyer("Alex", "Example", "123 Example Ave", "Nashville", "TN", "37203", "US", "United States", "5555550100"),
    Buyer("Sam", "Sample", "42 Placeholder Rd", "Austin", "TX", "78701", "US", "United States", "5555550101"),
    Buyer("Jo", "Tester", "7 Demo Street", "Manchester", "ENG", "M1 1AA", "GB", "United Kingdom", "07700900001"),
    Buyer("Chris", "Specimen", "9 Mock Lane", "Glasgow", "SCT", "G1 1AA", "GB", "United Kingdom", "07700900002"),
    Buyer("Robin", "Muster", "Beispielweg 5", "Hamburg", "HH", "20095", "DE", "Germany", "015550000003"),
    Buyer("Kim", "Exemple", "12 Rue Fictive", "Lyon", "ARA", "69001", "FR", "France", "0655500004"),
    Buyer("Lee", "Voorbeeld", "Teststraat 3", "Utrecht", "UT", "3511 AA", "NL", "Netherlands", "0655500005"),
    Buyer("Pat", "Placeholder", "88 Sample Blvd", "Portland", "OR", "97205", "US", "United States", "5555550106"),
    Buyer("Morgan", "Dummy", "5 Fake Crescent", "Bristol", "ENG", "BS1 1AA", "GB", "United Kingdom", "07700900007"),
    Buyer("Taylor", "Mock", "300 Imaginary St", "Chicago", "IL", "60601", "US", "United States", "5555550108"),
)
# fmt: on
