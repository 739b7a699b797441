"""AI analysis of a market listing: brand, size, style, condition, era, wash/finish, category, tags and a
one-line summary.

Offline by default: the rules of ``riff.research.extraction`` plus a small multinomial naive Bayes
category model trained (in pure Python, in milliseconds) on ``data/category_training.json`` shipped inside
the package. Nothing is downloaded at run time. When ``RIFF_LLM_URL`` (and optionally ``RIFF_LLM_API_KEY``)
name an OpenAI-compatible endpoint, ``analyze`` asks it instead (``POST {url}/chat/completions``) and
falls back to the rules if it fails. Every result records the method that produced it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from riff.core.logging import get_logger
from riff.research import extraction
from riff.research.config import ResearchSettings
from riff.research.consts import CATEGORIES

log = get_logger(__name__)

METHOD_RULES = "rules+nb"
MAX_TAGS = 12
SUMMARY_MAX = 160

# ---- the category model ----------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:['&][a-z0-9]+)?")


def _tokens(text: str) -> list[str]:
    words = _TOKEN.findall(extraction.fold(text))
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


class NaiveBayes:
    """Multinomial naive Bayes with Laplace smoothing over words and word pairs."""

    def __init__(self, examples: dict[str, list[str]]) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.totals: dict[str, int] = {}
        vocabulary: set[str] = set()
        for label, texts in examples.items():
            counter: Counter[str] = Counter()
            for text in texts:
                counter.update(_tokens(text))
            self.counts[label] = counter
            self.totals[label] = sum(counter.values())
            vocabulary.update(counter)
        self.vocabulary_size = len(vocabulary)
        self.labels = sorted(examples)

    def posteriors(self, text: str) -> dict[str, float]:
        tokens = [t for t in _tokens(text) if any(t in c for c in self.counts.values())]
        if not tokens:
            return dict.fromkeys(self.labels, 1.0 / len(self.labels))
        logs = {}
        for label in self.labels:
            denominator = self.totals[label] + self.vocabulary_size
            logs[label] = sum(math.log((self.counts[label][t] + 1) / denominator) for t in tokens)
        top = max(logs.values())
        exps = {label: math.exp(value - top) for label, value in logs.items()}
        total = sum(exps.values())
        return {label: value / total for label, value in exps.items()}


@functools.cache
def category_model() -> NaiveBayes:
    data = json.loads((extraction.DATA_DIR / "category_training.json").read_text(encoding="utf-8"))
    return NaiveBayes({k: v for k, v in data.items() if not k.startswith("_")})


CATEGORY_KEYWORDS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "guitar": r"\b(?:guitars?|fretboard|frets?|fingerboard|neck|pickups?|humbuckers?|tremolo|archtop|"
        r"dreadnought|headstock|semi[- ]hollow|hollow ?body|solid ?body|tuners|acoustic|electric|p-?90s?|"
        r"bigsby|pickguard)\b",
        "bass": r"\b(?:bass|basses|p-?bass|j-?bass|fretless|4[- ]string bass|short scale)\b(?! amp| head| cab)",
        "amp": r"\b(?:amp|amps|amplifier|combo|head|cab|cabinet|tubes?|valves?|watts?|\d+w|speakers?|"
        r"[1248]x1[025]|tolex|grill ?cloth|transformers?|reverb tank|preamp)\b",
        "record": r"\b(?:vinyl|lps?|pressing|press|album|eps?|singles?|7\"|12\"|45 ?rpm|78 ?rpm|sleeve|gatefold|"
        r"matrix|runout|mono|stereo|promo|discogs|records?|label|reissue|ost|soundtrack)\b",
        "denim": r"\b(?:jeans|denim|selvedge|selvage|jacket|trucker|chore|overalls|waist|inseam|rise|indigo|"
        r"raw|chambray|shirt|boots|pants|dungarees|twill|w\d{2}|sanforized|big e|coat|workwear)\b",
        "other": r"\b(?:strap|pedal|pedals|poster|t-shirt|tee|turntable|cartridge|case only|tubes only|"
        r"microphone|cassette|capo|merch)\b",
    }.items()
}


def classify_category(title: str, description: str = "") -> tuple[str, float]:
    """(category, confidence 0..1) from model names, brands, keywords and the naive Bayes model."""
    text = f"{title}\n{description}"
    folded = extraction.fold(text)
    scores = dict.fromkeys(CATEGORIES, 0.0)
    for match in extraction.find_brands(title):
        if match.via_model and match.category:
            scores[match.category] += 3.0
        elif not match.via_model:
            categories = extraction.brand_names().get(match.brand, ())
            for category in categories:
                scores[category] += 1.5 / len(categories)
    for match in extraction.find_brands(description):
        if match.via_model and match.category:
            scores[match.category] += 1.0
    title_folded = extraction.fold(title)
    for category, pattern in CATEGORY_KEYWORDS.items():
        scores[category] += 1.0 * len(pattern.findall(title_folded))
        scores[category] += 0.3 * min(5, len(pattern.findall(folded)))
    for category, probability in category_model().posteriors(text).items():
        scores[category] += 2.0 * probability
    best = max(scores, key=lambda c: scores[c])
    total = sum(scores.values()) or 1.0
    if scores[best] < 1.0:
        return "other", round(scores[best] / total, 3)
    return best, round(scores[best] / total, 3)


# ---- one analysis ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Analysis:
    brand: str | None = None
    size: str | None = None
    style: str | None = None
    condition: str | None = None
    era: str | None = None
    wash: str | None = None
    category: str | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    summary: str = ""
    method: str = METHOD_RULES
    confidence: float | None = None
    price: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class ListingText:
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()
    condition_hint: str | None = None  # the platform's own condition text
    price: Decimal | None = None
    currency: str | None = None
    default_currency: str = "USD"


def _tags(result: Analysis, styles: list[str], extra: tuple[str, ...]) -> list[str]:
    tags: list[str] = []
    for value in (
        result.brand,
        result.category,
        result.era,
        *styles,
        result.wash,
        result.size,
        result.condition,
    ):
        if value:
            tag = value.lower().replace("_", " ")
            if tag not in tags:
                tags.append(tag)
    for value in extra:
        tag = value.strip().lower()
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


_NOUNS = {"guitar": "guitar", "bass": "bass", "amp": "amp", "record": "record", "denim": "denim"}


def summarize(result: Analysis, title: str) -> str:
    """One line: ``1960s Levi's denim (big e, selvedge) · size W32 L30 · raw · very good · USD 450 shipped``."""
    head = " ".join(p for p in (result.era, result.brand, _NOUNS.get(result.category or "", "item")) if p)
    if result.style:
        head += f" ({result.style})"
    parts = [head]
    if result.size:
        parts.append(f"size {result.size}")
    if result.wash:
        parts.append(result.wash)
    if result.condition:
        parts.append(result.condition.replace("_", " "))
    if result.price:
        parts.append(
            f"{result.price['currency']} {Decimal(result.price['amount']):,.0f}"
            + (" shipped" if result.price.get("shipped") else "")
        )
    line = " · ".join(parts)
    if not result.brand and not result.era:
        line = f"{extraction.clean_title(title)[:70]} · {line}"
    return line[:SUMMARY_MAX]


def analyze_offline(listing: ListingText) -> Analysis:
    """Rules plus the naive Bayes category model: no network, deterministic."""
    title = listing.title or ""
    description = listing.description or ""
    category, confidence = classify_category(title, description)
    brand = extraction.identify_brand(title, description)
    if brand is None and listing.tags:
        brand = extraction.identify_brand(" ".join(listing.tags))
    era = extraction.identify_era(title, description, category=category)
    text = f"{title}\n{description}\n{' '.join(listing.tags)}"
    styles = extraction.identify_style(text, category)
    condition = extraction.identify_condition(title, description) or extraction.identify_condition(
        listing.condition_hint or ""
    )
    price: dict[str, Any] | None
    if listing.price is not None:
        price = {"amount": str(listing.price), "currency": listing.currency or listing.default_currency,
                 "shipped": False}  # fmt: skip
    else:
        price = extraction.as_dict(
            extraction.primary_price(title, description, default_currency=listing.default_currency)
        )
    result = Analysis(
        brand=brand,
        size=extraction.identify_size(title, description, category),
        style=", ".join(styles[:3]) or None,
        condition=condition,
        era=era,
        wash=extraction.identify_wash(text, category),
        category=category,
        confidence=confidence,
        price=price,
    )
    result.tags = _tags(result, styles[:4], listing.tags[:4])
    result.summary = summarize(result, title)
    return result


# ---- the optional OpenAI-compatible endpoint ---------------------------------------------------------------

SYSTEM_PROMPT = (
    "You tag second-hand listings of vintage guitars, basses, amps, records and denim. Reply with one JSON "
    'object with the keys "brand", "size", "style", "condition", "era", "wash", "category", "tags" and '
    '"summary". brand: the maker (for records the label) or null. era: the decade the item was made, like '
    '"1960s", or null (a reissue is dated by when it was made). condition: one of new, excellent, very_good, '
    "good, fair, poor or null. category: one of guitar, bass, amp, record, denim, other. wash: denim wash or "
    "instrument finish or null. tags: up to 12 short lowercase strings. summary: one line under 160 "
    "characters. Use only what the listing says."
)


class LlmAnalysis(BaseModel):
    model_config = ConfigDict(extra="ignore")

    brand: str | None = None
    size: str | None = None
    style: str | None = None
    condition: str | None = None
    era: str | None = None
    wash: str | None = None
    category: str | None = None
    tags: list[str] = []
    summary: str | None = None

    @field_validator("style", mode="before")
    @classmethod
    def _join_list(cls, value: Any) -> Any:
        return ", ".join(str(v) for v in value) if isinstance(value, list) else value

    @field_validator("era", mode="before")
    @classmethod
    def _decade(cls, value: Any) -> Any:
        if isinstance(value, int):
            return extraction.decade_of(value)
        if isinstance(value, str):
            match = re.search(r"(1[89]\d\d|20\d\d)", value)
            if match:
                return extraction.decade_of(int(match.group(1)))
            return None
        return value

    @field_validator("condition", mode="before")
    @classmethod
    def _condition(cls, value: Any) -> Any:
        if isinstance(value, str):
            normalized = value.strip().lower().replace(" ", "_").replace("-", "_")
            return (
                normalized
                if normalized in {"new", "excellent", "very_good", "good", "fair", "poor"}
                else None
            )
        return value

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip().lower() if value.strip().lower() in CATEGORIES else "other"
        return value


class LlmError(Exception):
    pass


def _content_json(body: Any) -> dict[str, Any]:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LlmError("response has no choices[0].message.content") from exc
    if isinstance(content, dict):
        return content
    text = str(content).strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.S)
    if fenced:
        text = fenced.group(1)
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise LlmError("the model's reply is not JSON") from exc
    if not isinstance(parsed, dict):
        raise LlmError("the model's reply is not a JSON object")
    return parsed


async def analyze_with_llm(
    listing: ListingText, settings: ResearchSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Analysis:
    assert settings.llm_url
    url = settings.llm_url.rstrip("/") + "/chat/completions"
    headers = {"Content-Type": "application/json"}
    if settings.llm_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    user = {
        "title": listing.title,
        "description": (listing.description or "")[:4000],
        "tags": list(listing.tags),
        "platform_condition": listing.condition_hint,
    }
    body = {
        "model": settings.llm_model,
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": json.dumps(user, ensure_ascii=False)},
        ],
    }
    async with httpx.AsyncClient(
        timeout=settings.llm_timeout_seconds, transport=transport, trust_env=False
    ) as http:
        try:
            response = await http.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise LlmError(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise LlmError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        parsed = LlmAnalysis.model_validate(_content_json(response.json()))
    except (ValueError, ValidationError) as exc:
        raise LlmError(str(exc)[:300]) from exc
    rules = analyze_offline(listing)
    result = Analysis(
        brand=parsed.brand or None,
        size=parsed.size or None,
        style=parsed.style or None,
        condition=parsed.condition,
        era=parsed.era,
        wash=parsed.wash or None,
        category=parsed.category or rules.category,
        tags=[t.strip().lower() for t in parsed.tags if t.strip()][:MAX_TAGS],
        method=f"llm:{settings.llm_model}",
        price=rules.price,
    )
    result.summary = (parsed.summary or "").strip()[:SUMMARY_MAX] or summarize(result, listing.title)
    if not result.tags:
        result.tags = _tags(result, [], listing.tags[:4])
    return result


async def analyze(
    listing: ListingText, settings: ResearchSettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Analysis:
    """The LLM's analysis when one is configured and answers; otherwise (or then on failure) the rules'."""
    if not settings.llm_url:
        return analyze_offline(listing)
    try:
        return await analyze_with_llm(listing, settings, transport=transport)
    except LlmError as exc:
        log.warning("research.analysis.llm_failed", error=str(exc)[:300])
        result = analyze_offline(listing)
        result.error = f"llm failed, used rules: {str(exc)[:200]}"
        return result
