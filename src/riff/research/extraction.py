"""Pure functions that read facts out of listing text: price, brand, size, era, condition, style, wash.

Built for how people actually write listings and Reddit posts: ``[WTS] Levi's 501 Big E W32 L30 - $450
shipped``, ``£80``, ``120 USD``, ``asking 300 obo``, ``'65 Strat``, ``late 70s``, ``tagged 34``. Nothing here
touches the database or the network; ``riff.research.analysis`` combines these into one analysis.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"

# ---- text helpers ----------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, accents removed, curly quotes straightened: ``Höfner’s`` -> ``hofner's``."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return (
        text.replace("\u2019", "'")
        .replace("\u2018", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
        .lower()
    )


_BRACKET_TAG = re.compile(r"^\s*(?:\[[^\]]{1,30}\]\s*)+")


def clean_title(title: str) -> str:
    """A Reddit title without its leading ``[WTS] [US-CA]`` tags."""
    return _BRACKET_TAG.sub("", title).strip(" -|:")


# ---- prices ----------------------------------------------------------------------------------------------

SYMBOLS = {"$": "USD", "us$": "USD", "usd$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY", "c$": "CAD",
           "ca$": "CAD", "cad$": "CAD", "a$": "AUD", "au$": "AUD"}  # fmt: skip
CODES = {"usd": "USD", "dollars": "USD", "dollar": "USD", "bucks": "USD", "gbp": "GBP", "pounds": "GBP",
         "quid": "GBP", "eur": "EUR", "euro": "EUR", "euros": "EUR", "cad": "CAD", "aud": "AUD",
         "jpy": "JPY", "yen": "JPY"}  # fmt: skip

_AMOUNT = r"(?P<amt>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)(?P<k>\s?k\b)?"
_SYMBOL_FIRST = re.compile(
    r"(?<![\w$£€])(?P<cur>us\$|usd\$|c\$|ca\$|cad\$|a\$|au\$|\$|£|€|¥)\s?" + _AMOUNT, re.I
)
_SYMBOL_AFTER = re.compile(r"(?<![\w.,])" + _AMOUNT + r"\s?(?P<cur>€|£)", re.I)
_CODE_AFTER = re.compile(
    r"(?<![\w.,$£€])"
    + _AMOUNT
    + r"\s?(?P<code>usd|gbp|eur|euros?|cad|aud|jpy|dollars?|bucks|pounds|quid|yen)\b",
    re.I,
)
_CODE_FIRST = re.compile(r"\b(?P<code>usd|gbp|eur|cad|aud)\s?" + _AMOUNT, re.I)
# A bare number counts only next to a selling word: "asking 300", "450 shipped", "300 obo".
_CUE_BEFORE = re.compile(
    r"\b(?:asking|ask|price|priced at|selling (?:it )?for|sell for|for|pd to|price drop(?: to)?|dropped to|now|"
    r"reduced to|sale price|firm at)\s*:?\s*(?P<amt>\d{1,3}(?:\.\d{1,2})?(?=\s?k\b)|\d{2,3}(?:,\d{3})+|\d{2,6}(?:\.\d{2})?)(?P<k>\s?k\b)?"
    r"(?![\w.%\"'x×/-])",
    re.I,
)
_CUE_AFTER = re.compile(
    r"(?<![\w.,$£€/#-])(?P<amt>\d{1,3}(?:\.\d{1,2})?(?=\s?k\b)|\d{2,3}(?:,\d{3})+|\d{2,6}(?:\.\d{2})?)(?P<k>\s?k\b)?\s*"
    r"(?=(?:shipped|obo|ono|firm|plus shipping|\+ ?ship(?:ping)?|local|pp\b|paypal|net\b|ship(?:ping)? incl))",
    re.I,
)
_NOT_A_PRICE_AFTER = re.compile(
    r"^\s?(?:%|\"|in\b|inch|mm\b|cm\b|days?\b|weeks?\b|months?\b|years?\b|yrs?\b|hours?\b|hrs?\b|mins?\b|"
    r"watts?\b|w\b|lbs?\b|kg\b|oz\b|rpm\b|miles?\b|x\s?\d|×|'s\b|s\b|pcs\b|pieces\b|people\b|times\b|copies\b)",
    re.I,
)
_SHIPPED = re.compile(
    r"^\W{0,3}(?:shipped|ship(?:ping)? incl\w*|incl\w* ship\w*|free ship\w*|delivered)", re.I
)
_LATER_PRICE_CUE = re.compile(r"(?:now|pd|price drop|dropped to|reduced to|new price)\W{0,4}$", re.I)
_STRUCK = re.compile(r"~~.*?~~", re.S)
MAX_PRICE = Decimal("10000000")


@dataclasses.dataclass(frozen=True)
class PriceMention:
    amount: Decimal
    currency: str
    shipped: bool
    start: int
    explicit: bool  # a currency symbol or code was written (not just a cue word)
    preferred: bool = False  # follows "now", "price drop", "reduced to"


def _amount(raw: str, k: str | None) -> Decimal | None:
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    if k:
        value *= 1000
    if value <= 0 or value >= MAX_PRICE:
        return None
    return value.quantize(Decimal("0.01"))


def _looks_like_year(raw: str) -> bool:
    return bool(re.fullmatch(r"(?:19[2-9]\d|20[0-3]\d)", raw))


def extract_prices(text: str, default_currency: str = "USD") -> list[PriceMention]:
    """Every price written in ``text``, in order of appearance. Struck-out prices (``~~$500~~``) are skipped."""
    if not text:
        return []
    text = _STRUCK.sub(lambda m: " " * len(m.group(0)), text)
    found: dict[int, PriceMention] = {}
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str], currency: str, explicit: bool) -> None:
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            return
        raw = match.group("amt")
        if not explicit and _looks_like_year(raw):
            return
        if _NOT_A_PRICE_AFTER.match(text[end : end + 8]):
            return
        amount = _amount(raw, match.groupdict().get("k"))
        if amount is None:
            return
        taken.append((start, end))
        shipped = bool(_SHIPPED.match(text[end : end + 30]))
        preferred = bool(_LATER_PRICE_CUE.search(text[max(0, start - 16) : start]))
        found[start] = PriceMention(amount, currency, shipped, start, explicit, preferred)

    for match in _SYMBOL_FIRST.finditer(text):
        add(match, SYMBOLS[match.group("cur").lower()], True)
    for match in _CODE_FIRST.finditer(text):
        add(match, CODES[match.group("code").lower()], True)
    for match in _CODE_AFTER.finditer(text):
        add(match, CODES[match.group("code").lower()], True)
    for match in _SYMBOL_AFTER.finditer(text):
        add(match, SYMBOLS[match.group("cur")], True)
    for match in _CUE_AFTER.finditer(text):
        add(match, default_currency, False)
    for match in _CUE_BEFORE.finditer(text):
        # Re-anchor the span on the number so overlap checks compare numbers, not the cue word.
        add(match, default_currency, False)
    return [found[k] for k in sorted(found)]


def primary_price(*texts: str, default_currency: str = "USD") -> PriceMention | None:
    """The asking price: the first text that has one wins (title before body); within it a price after
    "now"/"price drop" wins, else the first explicit one, else the first cue-word one."""
    for text in texts:
        mentions = extract_prices(text or "", default_currency)
        if not mentions:
            continue
        preferred = [m for m in mentions if m.preferred]
        if preferred:
            return preferred[-1]
        explicit = [m for m in mentions if m.explicit]
        return (explicit or mentions)[0]
    return None


# ---- brands ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BrandRule:
    name: str
    pattern: re.Pattern[str]
    categories: tuple[str, ...]
    context: re.Pattern[str] | None


@dataclasses.dataclass(frozen=True)
class ModelRule:
    pattern: re.Pattern[str]
    brand: str | None
    category: str


def _alias_regex(aliases: list[str]) -> re.Pattern[str]:
    parts = []
    for alias in sorted(aliases, key=len, reverse=True):
        escaped = re.escape(fold(alias)).replace(r"\ ", r"[\s-]?")
        # Possessive/plural and apostrophe variants: "levis", "levi's", "fenders".
        escaped = escaped.replace("'", "'?")
        parts.append(escaped)
    return re.compile(r"(?<![\w&])(?:" + "|".join(parts) + r")(?:'?s)?(?![\w&])")


@functools.cache
def brand_rules() -> tuple[tuple[BrandRule, ...], tuple[ModelRule, ...]]:
    data = json.loads((DATA_DIR / "brands.json").read_text(encoding="utf-8"))
    brands = []
    for entry in data["brands"]:
        context = entry.get("context")
        context_re = (
            re.compile(r"(?<![\w])(?:" + "|".join(re.escape(fold(w)) for w in context) + r")(?![a-z])")
            if context
            else None
        )
        brands.append(
            BrandRule(entry["name"], _alias_regex(entry["aliases"]), tuple(entry["categories"]), context_re)
        )
    models = [
        ModelRule(
            re.compile(
                r"(?<![\w$£€#/.-])(?:"
                + m["pattern"]
                + r")(?![\w])(?![\s-]*(?:style|copy|type|clone|replica)\b)"
            ),
            m.get("brand"),
            m["category"],
        )
        for m in data["models"]
    ]
    return tuple(brands), tuple(models)


@functools.cache
def brand_names() -> dict[str, tuple[str, ...]]:
    """Canonical brand -> its categories."""
    return {rule.name: rule.categories for rule in brand_rules()[0]}


_NEGATED_BEFORE = re.compile(
    r"(?:\bnot|\bno|\blike|\bsimilar to|\bfits|\bfor|\bvs\.?|\bcompare to|\bstyle of|\bà la)\s*$"
)
_WINDOW_WORDS = 4


def _near(text: str, start: int, end: int, pattern: re.Pattern[str]) -> bool:
    before = text[:start].split()[-_WINDOW_WORDS:]
    after = text[end:].split()[: _WINDOW_WORDS + 1]
    return bool(pattern.search(" ".join([*before, text[start:end], *after])))


@dataclasses.dataclass(frozen=True)
class BrandMatch:
    brand: str
    start: int
    via_model: bool
    category: str | None = None


def find_brands(text: str) -> list[BrandMatch]:
    """Brands written or implied (by a model name) in ``text``, in order of appearance."""
    if not text:
        return []
    folded = fold(text)
    brands, models = brand_rules()
    found: list[BrandMatch] = []
    for rule in brands:
        for match in rule.pattern.finditer(folded):
            start, end = match.span()
            prefix = folded[max(0, start - 24) : start]
            if _NEGATED_BEFORE.search(prefix):
                continue
            if rule.categories == ("record",) and re.search(r"\bthe\s*$", prefix):
                continue  # "The Verve" is a band, "Verve" a label
            if rule.context is not None and not _near(folded, start, end, rule.context):
                continue
            found.append(BrandMatch(rule.name, start, False))
            break
    for model in models:
        hit = model.pattern.search(folded)
        if hit:
            found.append(BrandMatch(model.brand or "", hit.start(), True, model.category))
    return sorted(found, key=lambda m: (m.start, m.via_model))


def identify_brand(title: str, description: str = "") -> str | None:
    """The listing's brand: a brand named in the title (the first one), else one implied by a model name in
    the title (``Strat`` -> Fender), else the same two steps over the description."""
    for text in (title, description):
        matches = [m for m in find_brands(text) if m.brand]
        named = [m for m in matches if not m.via_model]
        if named:
            return named[0].brand
        if matches:
            return matches[0].brand
    return None


# ---- sizes -----------------------------------------------------------------------------------------------

_WAIST_INSEAM = re.compile(r"\bw\s?(\d{2})(?:\"|in)?\s*[/x×,]?\s*l\s?(\d{2})\b", re.I)
_W_BY_L = re.compile(r"(?<![\w.$£€#-])(\d{2})\s?[x×/]\s?(\d{2})(?![\w.])", re.I)
_WAIST_ONLY = re.compile(
    r"\b(?:size|sz|tagged|tag(?:ged)? size|waist|measures|measured|w)\s*:?\s*(?:at\s+)?(\d{2}(?:\.\d)?)(?:\"|in\b|''| inches)?(?![\d.x×/])",
    re.I,
)
_LETTER_SIZE = re.compile(
    r"\b(?:size|sz|tagged|tag(?:ged)? size|fits(?: like)?(?: a)?)\s*:?\s*(xxs|xs|s|m|l|xl|xxl|xxxl|2xl|3xl|small|medium|large|x-large|xx-large)\b",
    re.I,
)
_LETTER_SIZE_PAREN = re.compile(r"[(\[](xxs|xs|s|m|l|xl|xxl|xxxl|2xl|3xl)[)\]]", re.I)
_SHOE_SIZE = re.compile(r"\b(?:size\s*)?(us|uk|eu)\s?(\d{1,2}(?:\.5)?)(?:\s?[de]{1,2})?\b", re.I)
_LETTER_NAMES = {
    "small": "S",
    "medium": "M",
    "large": "L",
    "x-large": "XL",
    "xx-large": "XXL",
    "2xl": "XXL",
    "3xl": "XXXL",
}


def identify_size(title: str, description: str = "", category: str | None = None) -> str | None:
    """Clothing and shoe sizes: ``W32 L34`` for jeans, ``W33`` when only the waist is given, ``M``/``XL``
    for letter sizes, ``40`` for a jacket's chest, ``US 9`` for shoes. Instruments and records have none."""
    if category in {"guitar", "bass", "amp", "record"}:
        return None
    for text in (title, description):
        if not text:
            continue
        match = _WAIST_INSEAM.search(text)
        if match:
            return f"W{match.group(1)} L{match.group(2)}"
        for match in _W_BY_L.finditer(text):
            waist, inseam = int(match.group(1)), int(match.group(2))
            if 23 <= waist <= 48 and 24 <= inseam <= 38:
                return f"W{waist} L{inseam}"
        match = _LETTER_SIZE.search(text) or _LETTER_SIZE_PAREN.search(text)
        if match:
            letter = match.group(1).lower()
            return _LETTER_NAMES.get(letter, letter.upper())
        for match in _WAIST_ONLY.finditer(text):
            value = float(match.group(1))
            if not 23 <= value <= 56:
                continue
            number = match.group(1).rstrip("0").rstrip(".") if "." in match.group(1) else match.group(1)
            is_jacket = bool(re.search(r"jacket|trucker|coat|shirt|chore|blazer|vest", text, re.I))
            return number if is_jacket else f"W{number}"
        match = _SHOE_SIZE.search(text)
        if match and re.search(r"boot|shoe|sneaker|loafer|oxford|moc", text, re.I):
            return f"{match.group(1).upper()} {match.group(2)}"
    return None


# ---- era -------------------------------------------------------------------------------------------------

_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
                 "seventies": 1970, "eighties": 1980, "nineties": 1990}  # fmt: skip
_YEAR = re.compile(
    r"(?<![\w$£€#./-])(?:(19[2-9]\d|20[0-2]\d)|['‘’](\d{2}))(?![\w$£€/]|[.,]\d|\s?(?:x\s?\d|[$£€]))"
)
_DECADE = re.compile(
    r"(?<![\w$£€#])(?:(?:early|mid|late)[\s-]*)?(?:(19[2-9]0|20[0-2]0)|['‘’]?([2-9]0))['‘’]?s\b"
    r"|\b(twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)\b",
    re.I,
)
_REISSUE_AFTER = re.compile(
    r"^[\s-]*(?:\w+\s){0,2}?(?:reissue|re-issue|ri\b|rri\b|avri\b|repro|reproduction|replica|anniversary|"
    r"tribute|style\b|model\b|lot\b|spec\b|vintage reissue|custom shop|relic|nos\b|closet classic|super lead|slp\b|"
    r"hw\b|plexi\b|jubilee)",
    re.I,
)
_REISSUE_BEFORE = re.compile(
    r"(?:american vintage|av|lvc|levi'?s vintage clothing|vintage clothing|(?:reissue|repro(?:duction)?|replica|copy|"
    r"version|take) of(?: the| a| an)?|since|est\.?|established|founded|vintage reissue|classic vibe|"
    r"custom shop|historic|r\d|true historic|class[ie]c series|road worn)\s*['‘’]?$",
    re.I,
)
_STRONG_BEFORE = re.compile(
    r"(?:made in|built in|dated?|date code|pots? (?:date[sd]? )?(?:to|from)|circa|ca\.?|c\.|serial(?: dates? to)?|"
    r"from|pressed in|pressing from|released in|year:?|manufactured in|produced in)\s*['‘’]?$",
    re.I,
)


@dataclasses.dataclass(frozen=True)
class YearMention:
    year: int
    start: int
    strong: bool
    decade_only: bool


def _current_year() -> int:
    from riff.core.clock import utcnow

    return utcnow().year


def _two_digit(value: str) -> int:
    number = int(value)
    return 1900 + number if number >= 30 else 2000 + number


def find_years(text: str, *, reissue_is_era: bool = False) -> list[YearMention]:
    """Years and decades written in ``text`` that date the item itself. Design years of reissues
    (``'57 reissue``, ``LVC 1947 501``, ``American Vintage '62``) are skipped unless ``reissue_is_era``
    (records: a ``1977 reissue`` was pressed in 1977)."""
    if not text:
        return []
    folded = fold(text)
    latest = _current_year()
    mentions: list[YearMention] = []
    for match in _YEAR.finditer(folded):
        year = int(match.group(1)) if match.group(1) else _two_digit(match.group(2))
        if year > latest or year < 1900:
            continue
        before = folded[max(0, match.start() - 40) : match.start()]
        after = folded[match.end() : match.end() + 40]
        if re.match(r"^\s?(?:%|x\b|mm\b|cm\b|watts?\b|w\b)", after):
            continue
        if not reissue_is_era and (_REISSUE_AFTER.match(after) or _REISSUE_BEFORE.search(before)):
            continue
        if (
            match.group(2)
            and not re.match(r"^\s?(?:[a-z]|\(|-)", after)
            and not _STRONG_BEFORE.search(before)
        ):
            # A bare '65 must be followed by a word ("'65 Strat") or be introduced ("circa '65").
            if not re.search(r"[a-z]\s*$", before):
                continue
        mentions.append(YearMention(year, match.start(), bool(_STRONG_BEFORE.search(before)), False))
    for match in _DECADE.finditer(folded):
        if match.group(1):
            decade = int(match.group(1))
        elif match.group(2):
            decade = _two_digit(match.group(2))
        else:
            decade = _DECADE_WORDS[match.group(3).lower()]
        before = folded[max(0, match.start() - 40) : match.start()]
        after = folded[match.end() : match.end() + 40]
        if not reissue_is_era and (_REISSUE_AFTER.match(after) or _REISSUE_BEFORE.search(before)):
            continue
        if re.search(r"(?:inspired|style|look|vibe|feel)", after[:14]):
            continue  # "70s style", "60s inspired": a look, not a date
        if decade <= latest:
            mentions.append(YearMention(decade, match.start(), False, True))
    return sorted(mentions, key=lambda m: m.start)


def decade_of(year: int) -> str:
    return f"{year // 10 * 10}s"


def identify_era(title: str, description: str = "", category: str | None = None) -> str | None:
    """The decade the item was made (``1960s``), or None. A year introduced by "made in"/"dated"/"circa"
    wins anywhere; otherwise the first dating mention in the title, then in the description."""
    reissue_is_era = category == "record"
    per_text = [find_years(text, reissue_is_era=reissue_is_era) for text in (title, description)]
    for mentions in per_text:
        strong = [m for m in mentions if m.strong]
        if strong:
            return decade_of(strong[0].year)
    for mentions in per_text:
        if mentions:
            return decade_of(mentions[0].year)
    return None


# ---- condition, style, wash ------------------------------------------------------------------------------

CONDITION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        ("poor", r"\bfor parts\b|\bnot working\b|\bbroken\b(?! in)|\bpoor condition\b|\bspares or repair\b"),
        (
            "new",
            r"\bnwt\b|\bbnwt\b|new with(?:out)? tags|\bbrand new\b|\bdeadstock\b|\bdead stock\b|\bds\b|"
            r"\bunworn\b|\bnew old stock\b|\bnos\b|\bstill sealed\b|\bsealed\b|\bunplayed\b",
        ),
        (
            "excellent",
            r"\bnear mint\b|\bmint\b(?! green| colou?r)|\bnm\b|\bexcellent\b|\bexc\b|\blike new\b|\bpristine\b|"
            r"\b(?:9\.5|9|10)/10\b|\bimmaculate\b",
        ),
        (
            "very_good",
            r"\bvery good\b|\bvg\+|\bvg\s?plus\b|\bgreat condition\b|\blightly worn\b|\blight wear\b|"
            r"\b8(?:\.5)?/10\b|\bgreat shape\b",
        ),
        (
            "fair",
            r"\bfair condition\b|\bfair shape\b|\bin fair\b|\bwell worn\b|\bheavily worn\b|\bbeater\b|"
            r"\bplayer grade\b|\bplayer'?s grade\b|\bneeds work\b|\bproject (?:guitar|amp|piece)\b|"
            r"\bfixer(?: upper)?\b|\bsold as is\b|\b[56]/10\b|\bthrashed\b",
        ),
        ("good", r"\bgood condition\b|\bgood shape\b|\bvg\b|\bgently used\b|\bsome wear\b|\b7/10\b|\bg\+"),
    )
)


def identify_condition(title: str, description: str = "") -> str | None:
    """One of RIFF's conditions (new, excellent, very_good, good, fair, poor) when the text grades the
    item; the title wins over the description, and within a text the most specific phrase wins."""
    for text in (title, description):
        if not text:
            continue
        for name, pattern in CONDITION_PATTERNS:
            if pattern.search(text):
                return name
    return None


STYLE_TERMS: dict[str, tuple[str, ...]] = {
    "denim": (
        "selvedge",
        "selvage",
        "slim straight",
        "straight leg",
        "slim tapered",
        "tapered",
        "bootcut",
        "boot cut",
        "relaxed",
        "skinny",
        "wide leg",
        "high rise",
        "mom jeans",
        "carpenter",
        "painter",
        "type i",
        "type ii",
        "type iii",
        "trucker",
        "chore coat",
        "overalls",
        "western shirt",
        "sanforized",
        "unsanforized",
        "shrink to fit",
        "loomstate",
        "big e",
        "redline",
        "hidden rivets",
        "button fly",
        "zip fly",
        "chain stitch",
        "jacket",
    ),
    "guitar": (
        "solid body",
        "semi-hollow",
        "hollow body",
        "archtop",
        "acoustic",
        "electric",
        "dreadnought",
        "parlor",
        "12-string",
        "left-handed",
        "lefty",
        "bigsby",
        "tremolo",
        "hardtail",
        "humbucker",
        "p-90",
        "p90",
        "single coil",
        "relic",
        "refin",
        "all original",
        "slab board",
        "rosewood",
        "maple neck",
        "brazilian rosewood",
        "custom color",
    ),
    "bass": ("short scale", "long scale", "fretless", "flatwound", "4-string", "5-string"),
    "amp": (
        "combo",
        "head",
        "cabinet",
        "4x12",
        "2x12",
        "1x12",
        "2x10",
        "4x10",
        "1x15",
        "tube",
        "valve",
        "solid state",
        "tweed",
        "blackface",
        "silverface",
        "brownface",
        "blonde",
        "plexi",
        "reverb",
        "tremolo",
        "hand-wired",
        "handwired",
        "point-to-point",
    ),
    "record": (
        "lp",
        "ep",
        '7"',
        '10"',
        '12"',
        "45 rpm",
        "78 rpm",
        "first pressing",
        "1st press",
        "original pressing",
        "reissue",
        "mono",
        "stereo",
        "gatefold",
        "promo",
        "white label",
        "test pressing",
        "audiophile",
        "180g",
        "rvg",
        "deep groove",
        "box set",
        "picture disc",
        "colored vinyl",
        "colour vinyl",
    ),
}
DENIM_WASHES: tuple[str, ...] = (
    "raw",
    "rigid",
    "rinsed",
    "one wash",
    "onewash",
    "stonewash",
    "stone wash",
    "acid wash",
    "light wash",
    "medium wash",
    "mid wash",
    "dark wash",
    "indigo",
    "black",
    "faded",
    "distressed",
    "whiskers",
    "honeycombs",
    "bleached",
    "overdyed",
    "grey",
    "ecru",
)
FINISHES: tuple[str, ...] = (
    "3-tone sunburst",
    "three tone sunburst",
    "2-tone sunburst",
    "sunburst",
    "tobacco burst",
    "cherry burst",
    "cherry",
    "olympic white",
    "lake placid blue",
    "fiesta red",
    "sonic blue",
    "candy apple red",
    "shoreline gold",
    "surf green",
    "seafoam green",
    "goldtop",
    "gold top",
    "natural",
    "blonde",
    "butterscotch",
    "walnut",
    "ebony",
    "tv yellow",
    "pelham blue",
    "burgundy mist",
    "inca silver",
    "firemist",
    "dakota red",
    "vintage white",
    "refinished",
    "nitro",
    "tolex",
)


def _terms_in(text: str, terms: tuple[str, ...]) -> list[str]:
    folded = fold(text)
    found = []
    for term in terms:
        if re.search(r"(?<![\w])" + re.escape(term) + r"(?![\w])", folded):
            found.append(term)
    return found


def identify_style(text: str, category: str | None) -> list[str]:
    groups = [category] if category in STYLE_TERMS else list(STYLE_TERMS)
    found: list[str] = []
    for group in groups:
        for term in _terms_in(text, STYLE_TERMS[group]):
            if term not in found:
                found.append(term)
    return found


def identify_wash(text: str, category: str | None = None) -> str | None:
    """Denim wash (``raw``, ``stonewash``) or an instrument's finish (``3-tone sunburst``)."""
    if category == "denim":
        terms = DENIM_WASHES
    elif category in {"guitar", "bass", "amp"}:
        terms = FINISHES
    elif category == "record":
        return None
    else:
        terms = DENIM_WASHES + FINISHES
    found = _terms_in(text, terms)
    # The most specific (longest) name: "3-tone sunburst" over "sunburst", "dark wash" over "indigo".
    return max(found, key=len) if found else None


# ---- engagement --------------------------------------------------------------------------------------------


def engagement_score(
    score: int | float | None,
    comments: int | float | None,
    created: dt.datetime | None,
    now: dt.datetime,
    *,
    favorites: int | float | None = None,
) -> float:
    """Interest in a post or listing: votes, comments (worth two votes) and favourites, decayed with age
    like a news ranking (half the weight after ~2 days). 0 for nothing, grows without bound."""
    points = max(0.0, float(score or 0)) + 2.0 * max(0.0, float(comments or 0)) + float(favorites or 0)
    age_hours = max(0.0, (now - created).total_seconds() / 3600) if created else 48.0
    decay = math.pow(1.0 + age_hours / 48.0, -1.0)
    return round(math.log1p(points) * 10.0 * decay, 3)


# ---- sold flags -------------------------------------------------------------------------------------------

_SOLD = re.compile(
    r"\[\s*sold\s*\]|\(\s*sold\s*\)|^\s*sold\b|\bsold\s*$|\bsold out\b|\bsold!|\bclosed\b", re.I
)


def looks_sold(*texts: str | None) -> bool:
    return any(bool(text and _SOLD.search(text)) for text in texts)


def is_want_to_buy(title: str) -> bool:
    return bool(re.match(r"^\s*(?:\[[^\]]*\]\s*)*\[\s*(?:wtb|looking for|iso|lf)\s*\]", title, re.I)) or bool(
        re.match(r"^\s*(?:wtb|iso|looking for)\b", title, re.I)
    )


def as_dict(mention: PriceMention | None) -> dict[str, Any] | None:
    if mention is None:
        return None
    return {"amount": str(mention.amount), "currency": mention.currency, "shipped": mention.shipped}
