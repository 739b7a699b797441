"""Research settings (prefix ``RIFF_RESEARCH_``), apart from the process-wide ``Settings``.

Credentials of the three read-only sources, their base URLs (a sandbox is just another base URL), the
default searches each scheduled sync runs, the currency rates used to compare prices, channel fees for
price suggestions, and the optional OpenAI-compatible endpoint (``RIFF_LLM_URL`` / ``RIFF_LLM_API_KEY``,
without the research prefix). Dict settings take JSON, e.g.
``RIFF_RESEARCH_QUERIES='{"ebay": [{"q": "levis 501", "category_ids": "11483"}]}'``.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from riff.research.consts import DEFAULT_RATE_LIMITS


class SearchSpec(BaseModel):
    """One search a sync runs. ``q`` is the keywords; the rest is per platform (ignored elsewhere)."""

    q: str = Field(min_length=1, max_length=100)
    category_ids: str | None = None  # eBay
    filter: str | None = None  # eBay filter expression, e.g. "conditionIds:{3000}"
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    subreddits: list[str] = Field(default_factory=list)  # Reddit: search these
    max_items: int = Field(400, ge=1, le=10_000)


class FeeConfig(BaseModel):
    percent: Decimal = Field(Decimal(0), ge=0, lt=100, description="Selling fee, % of the sale")
    payment_percent: Decimal = Field(Decimal(0), ge=0, lt=100, description="Payment processing, %")
    fixed: Decimal = Field(Decimal(0), ge=0, description="Fixed fee per sale (listing currency)")


DEFAULT_QUERIES: dict[str, list[dict[str, Any]]] = {
    "ebay": [
        {"q": "vintage levis", "max_items": 400},
        {"q": "vintage fender", "max_items": 400},
        {"q": "vinyl lp original pressing", "max_items": 200},
    ],
    "etsy": [
        {"q": "vintage denim", "max_items": 300},
        {"q": "vintage guitar", "max_items": 200},
        {"q": "vinyl record", "max_items": 200},
    ],
    "reddit": [
        {"q": "WTS", "subreddits": ["rawdenim", "Gear4Sale", "VinylCollectors"], "max_items": 300},
    ],
}
# Reddit marketplace subreddits whose weekly BST threads are expanded into comment listings.
DEFAULT_BST_SUBREDDITS = ["rawdenim", "Gear4Sale", "VinylCollectors"]

# Units of the base currency per unit of each currency. Static, configurable: research compares
# asking prices, it does not settle money.
DEFAULT_FX_TO_GBP: dict[str, Decimal] = {
    "GBP": Decimal("1"),
    "USD": Decimal("0.79"),
    "EUR": Decimal("0.85"),
    "CAD": Decimal("0.58"),
    "AUD": Decimal("0.52"),
    "JPY": Decimal("0.0052"),
}

DEFAULT_FEES: dict[str, dict[str, Any]] = {
    # Reverb: 5 % selling fee + payment processing (UK: 2.99 % + 0.49).
    "reverb": {"percent": "5", "payment_percent": "2.99", "fixed": "0.49"},
    # Discogs: 8 % of the item price (payment processing is charged separately by PayPal/Stripe).
    "discogs": {"percent": "8"},
    # eBay: final value fee as configured (12.9 % + 0.30 per order is the common default).
    "ebay": {"percent": "12.9", "fixed": "0.30"},
}


class ResearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIFF_RESEARCH_", env_file=".env", extra="ignore")

    # eBay Browse (application token via client credentials).
    ebay_base_url: str = Field("https://api.ebay.com", description="Browse API and OAuth host")
    ebay_client_id: str | None = None
    ebay_client_secret: SecretStr | None = None
    ebay_marketplace_id: str = "EBAY_GB"
    ebay_scope: str = "https://api.ebay.com/oauth/api_scope"
    # Etsy Open API v3 (x-api-key: keystring:shared_secret).
    etsy_base_url: str = Field("https://api.etsy.com", description="Host of /v3/application")
    etsy_keystring: str | None = None
    etsy_shared_secret: SecretStr | None = None
    # Reddit Data API (application-only OAuth, or script with username/password).
    reddit_auth_url: str = Field("https://www.reddit.com", description="Host of /api/v1/access_token")
    reddit_api_url: str = Field("https://oauth.reddit.com", description="Host of the OAuth API")
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    reddit_username: str | None = None
    reddit_password: SecretStr | None = None
    reddit_user_agent: str = "python:riff.research:0.1 (by /u/riff-shop)"
    bst_subreddits: list[str] = Field(default_factory=lambda: list(DEFAULT_BST_SUBREDDITS))
    bst_threads_per_subreddit: int = Field(2, ge=0, le=10)

    queries: dict[str, list[SearchSpec]] = Field(
        default_factory=lambda: {k: [SearchSpec(**s) for s in v] for k, v in DEFAULT_QUERIES.items()}
    )
    page_size: dict[str, int] = Field(default_factory=lambda: {"ebay": 200, "etsy": 100, "reddit": 100})
    rate_limits: dict[str, dict[str, float]] = Field(default_factory=dict)

    base_currency: str = Field("GBP", min_length=3, max_length=3)
    fx_rates: dict[str, Decimal] = Field(default_factory=dict, description="Overrides, to base currency")
    fees: dict[str, FeeConfig] = Field(default_factory=dict, description="Overrides of DEFAULT_FEES")

    llm_url: str | None = Field(None, validation_alias=AliasChoices("RIFF_LLM_URL", "llm_url"))
    llm_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RIFF_LLM_API_KEY", "llm_api_key")
    )
    llm_model: str = Field("gpt-4o-mini", validation_alias=AliasChoices("RIFF_LLM_MODEL", "llm_model"))
    llm_timeout_seconds: float = Field(30.0, gt=0)

    def resolved_rate_limits(self) -> dict[str, dict[str, float]]:
        return {**DEFAULT_RATE_LIMITS, **self.rate_limits}

    def resolved_fx(self) -> dict[str, Decimal]:
        base = self.base_currency.upper()
        to_gbp = {**DEFAULT_FX_TO_GBP}
        if base not in to_gbp:
            to_gbp[base] = Decimal(1)
        # Re-express the GBP table in the base currency, then apply overrides (already in base).
        rates = {code: (rate / to_gbp[base]) for code, rate in to_gbp.items()}
        rates.update({k.upper(): Decimal(v) for k, v in self.fx_rates.items()})
        return rates

    def resolved_fees(self) -> dict[str, FeeConfig]:
        fees = {name: FeeConfig(**cfg) for name, cfg in DEFAULT_FEES.items()}
        fees.update(self.fees)
        return fees

    def searches(self, platform: str) -> list[SearchSpec]:
        return list(self.queries.get(platform, []))


@functools.lru_cache(maxsize=1)
def get_research_settings() -> ResearchSettings:
    return ResearchSettings()


def reset_research_settings_cache() -> None:
    """Tests and the CLI change the environment and then call this to re-read it."""
    get_research_settings.cache_clear()
