"""Read-only collectors of comparable listings: eBay Browse, Etsy Open API v3, Reddit."""

from __future__ import annotations

import httpx

from riff.research.collectors.base import (
    CollectedListing,
    Collector,
    MultiBucketLimiter,
    NotConfigured,
    research_rate_limiter,
    token_cache,
)
from riff.research.collectors.ebay_browse import EbayBrowseCollector
from riff.research.collectors.etsy import EtsyCollector
from riff.research.collectors.reddit import RedditCollector
from riff.research.config import ResearchSettings
from riff.research.consts import Platform

COLLECTORS: dict[str, type[Collector]] = {
    Platform.EBAY: EbayBrowseCollector,
    Platform.ETSY: EtsyCollector,
    Platform.REDDIT: RedditCollector,
}


def build_collector(
    platform: str,
    research: ResearchSettings,
    *,
    rate_limiter: MultiBucketLimiter | None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Collector:
    """The collector of ``platform``; raises ``NotConfigured`` without credentials."""
    cls = COLLECTORS[platform]
    return cls(research, rate_limiter=rate_limiter, transport=transport)  # type: ignore[call-arg]


__all__ = [
    "COLLECTORS",
    "CollectedListing",
    "Collector",
    "MultiBucketLimiter",
    "NotConfigured",
    "build_collector",
    "research_rate_limiter",
    "token_cache",
]
