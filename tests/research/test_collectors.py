"""Collectors over loopback HTTP against the three sandboxes: paging, upserts without duplicates, the sync
job record, rate limits and token expiry."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from riff.channels.errors import AuthExpired, RateLimited
from riff.core.db import Database
from riff.research.collectors import build_collector, research_rate_limiter, token_cache
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.models import MarketListing, MarketSyncJob
from riff_sandbox.runner import RunningSandbox

from .conftest import sync

SEARCH_PATHS = {
    "ebay": "/buy/browse/v1/item_summary/search",
    "etsy": "/v3/application/listings/active",
    "reddit": "/r/",
}


def listing_count(database: Database, platform: str) -> int:
    with database.read_session() as session:
        return int(session.scalar(sa.select(sa.func.count()).where(MarketListing.platform == platform)) or 0)


@pytest.mark.parametrize("platform", ["ebay", "etsy", "reddit"])
def test_sync_pages_upserts_without_duplicates_and_records_the_run(
    database: Database, sandboxes: dict[str, RunningSandbox], research: ResearchSettings, platform: str
) -> None:
    sandbox = sandboxes[platform]
    first = sync(database, platform, research)
    assert first.status == "completed" and first.added == first.fetched > 0 and first.errors == 0
    searches = sandbox.control.requests(path_prefix=SEARCH_PATHS[platform])
    assert len(searches) >= 3, "paged through several pages"
    if platform == "ebay":
        offsets = [dict(p.split("=", 1) for p in r["query"].split("&"))["offset"] for r in searches]
        assert offsets[:3] == ["0", "20", "40"]
        assert all(r["headers"]["authorization"] == "Bearer [redacted]" for r in searches)
    if platform == "reddit":
        assert any("after=" in r["query"] for r in searches)
        assert sandbox.control.requests(path_prefix="/comments/"), "BST threads expanded"

    second = sync(database, platform, research)
    assert second.added == 0 and second.fetched == first.fetched
    assert second.updated + second.unchanged == first.fetched
    assert listing_count(database, platform) == first.added
    with database.read_session() as session:
        runs = list(session.scalars(sa.select(MarketSyncJob).order_by(MarketSyncJob.id)))
        assert [(r.platform, r.status, r.added) for r in runs] == [(platform, "completed", first.added),
                                                                    (platform, "completed", 0)]  # fmt: skip
        assert runs[0].requests >= 3 and runs[0].duration_seconds is not None and runs[0].finished_at
        row = session.scalars(
            sa.select(MarketListing).where(MarketListing.platform == platform).limit(1)
        ).one()
        assert row.title and row.external_id and row.raw and row.ai_method == "rules+nb"
        priced = session.scalar(
            sa.select(sa.func.count()).where(
                MarketListing.price.is_not(None), MarketListing.platform == platform
            )
        )
        assert priced and priced >= first.added * 0.9
        branded = session.scalar(
            sa.select(sa.func.count()).where(
                MarketListing.brand.is_not(None), MarketListing.platform == platform
            )
        )
        assert branded and branded >= first.added * 0.8


def test_listing_fields_per_platform(database: Database, research: ResearchSettings) -> None:
    for platform in ("ebay", "etsy"):
        sync(database, platform, research, specs=[SearchSpec(q="vintage", max_items=20)])
    with database.read_session() as session:
        ebay = session.scalars(
            sa.select(MarketListing).where(MarketListing.platform == "ebay").limit(1)
        ).one()
        etsy = session.scalars(
            sa.select(MarketListing).where(MarketListing.platform == "etsy").limit(1)
        ).one()
        check_fields(ebay, etsy)


def check_fields(ebay: MarketListing, etsy: MarketListing) -> None:
    assert ebay.external_id.startswith("v1|") and ebay.currency == "GBP" and ebay.image_urls and ebay.seller
    assert ebay.url and "/itm/" in ebay.url and ebay.listed_at is not None
    assert (
        etsy.image_urls
        and all("etsystatic" in u for u in etsy.image_urls)
        and etsy.engagement_score is not None
    )
    assert etsy.price_base is not None and etsy.currency in {"USD", "GBP", "EUR"}


def collect(platform: str, research: ResearchSettings, spec: SearchSpec) -> tuple[int, int]:
    """(listings, requests) of one search, straight from the collector (no database)."""

    async def go() -> tuple[int, int]:
        collector = build_collector(
            platform, research, rate_limiter=research_rate_limiter(None, None, research)
        )
        try:
            total = 0
            async for page in collector.pages(spec):
                total += len(page)
            return total, collector.requests
        finally:
            await collector.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("platform", ["ebay", "etsy", "reddit"])
def test_collectors_survive_rate_limits(sandboxes: dict[str, RunningSandbox], research: ResearchSettings,
                                        platform: str) -> None:  # fmt: skip
    spec = SearchSpec(q="vintage" if platform != "reddit" else "WTS", max_items=60,
                      subreddits=["rawdenim", "Gear4Sale"] if platform == "reddit" else [])  # fmt: skip
    baseline, _ = collect(platform, research, spec)
    sandbox = sandboxes[platform]
    sandbox.control.faults(
        rate_limit={"every_nth": 3, "retry_after_seconds": 1}, path_prefix=SEARCH_PATHS[platform]
    )
    total, _ = collect(platform, research, spec)
    assert total == baseline
    limited = [r for r in sandbox.control.requests() if r["status"] == 429]
    assert limited, "the sandbox answered 429s"


def test_etsy_per_second_limit_is_honoured(
    sandboxes: dict[str, RunningSandbox], research: ResearchSettings
) -> None:
    """The sandbox enforces 3 requests a second; the collector's limiter at 3/s never trips it."""
    etsy = sandboxes["etsy"]
    etsy.control._call("POST", "/etsy/limits", json={"qps": 3, "reset_usage": True})
    paced = research.model_copy(update={"rate_limits": {"research.etsy.second": {"rate": 3.0, "burst": 1.0}}})
    total, requests = collect("etsy", paced, SearchSpec(q="vintage", max_items=30))
    assert total == 30
    assert all(r["status"] == 200 for r in etsy.control.requests(path_prefix="/v3"))
    headers = {
        k: v for k, v in etsy.control.requests(path_prefix="/v3")[-1]["headers"].items() if k == "x-api-key"
    }
    assert headers == {"x-api-key": "[redacted]"}
    assert requests == len(etsy.control.requests(path_prefix="/v3"))


def test_reddit_window_and_429_are_survived(
    sandboxes: dict[str, RunningSandbox], research: ResearchSettings
) -> None:
    reddit = sandboxes["reddit"]
    reddit.control._call(
        "POST", "/reddit/limits", json={"window_requests": 4, "window_seconds": 2, "reset": True}
    )
    total, _ = collect(
        "reddit", research, SearchSpec(q="WTS", subreddits=["rawdenim", "Gear4Sale"], max_items=40)
    )
    assert total > 0
    statuses = [r["status"] for r in reddit.control.requests(path_prefix="/r/")]
    assert statuses[-1] == 200


@pytest.mark.parametrize(("platform", "expire"), [("ebay", "/ebay_browse/expire_access_tokens"),
                                                  ("reddit", "/reddit/expire_access_tokens")])  # fmt: skip
def test_expired_token_is_replaced_once(sandboxes: dict[str, RunningSandbox], research: ResearchSettings,
                                        platform: str, expire: str) -> None:  # fmt: skip
    sandbox = sandboxes[platform]
    spec = SearchSpec(
        q="vintage" if platform == "ebay" else "WTS", subreddits=["rawdenim", "Gear4Sale"], max_items=40
    )
    baseline, _ = collect(platform, research, spec)
    sandbox.control.clear_requests()
    token_cache.clear()

    async def go() -> int:
        collector = build_collector(platform, research, rate_limiter=None)
        try:
            total = 0
            async for page in collector.pages(spec):
                total += len(page)
                sandbox.control._call("POST", expire)  # the token dies mid-sync
            return total
        finally:
            await collector.aclose()

    total = asyncio.run(go())
    assert total == baseline > 10
    token_calls = sandbox.control.requests(
        path_prefix="/identity" if platform == "ebay" else "/api/v1/access_token"
    )
    assert len(token_calls) >= 2, "a new token was fetched after the old one expired"
    assert any(r["status"] == 401 for r in sandbox.control.requests())


def test_cached_token_is_reused_until_expiry(
    sandboxes: dict[str, RunningSandbox], research: ResearchSettings
) -> None:
    collect("ebay", research, SearchSpec(q="vintage", max_items=20))
    collect("ebay", research, SearchSpec(q="levis", max_items=20))
    assert len(sandboxes["ebay"].control.requests(path_prefix="/identity")) == 1
    token_cache.clear()


def test_bad_credentials_and_rejected_queries(
    sandboxes: dict[str, RunningSandbox], research: ResearchSettings
) -> None:
    wrong = research.model_copy(update={"ebay_client_secret": SecretStr("nope")})
    with pytest.raises(AuthExpired, match="invalid_client"):
        collect("ebay", wrong, SearchSpec(q="vintage"))
    wrong_etsy = research.model_copy(update={"etsy_shared_secret": SecretStr("nope")})
    with pytest.raises(AuthExpired, match="Invalid API key"):
        collect("etsy", wrong_etsy, SearchSpec(q="vintage"))
    sandboxes["ebay"].control._call("POST", "/ebay_browse/quota", json={"daily_call_limit": 0})
    with pytest.raises(RateLimited, match="errorId 2001"):
        collect("ebay", research, SearchSpec(q="vintage"))


def test_not_configured_platform_records_a_failed_run(database: Database) -> None:
    from riff.research.collectors import NotConfigured
    from riff.research.service import record_not_configured

    settings = ResearchSettings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(NotConfigured):
        build_collector("etsy", settings, rate_limiter=None)
    record_not_configured(database, "etsy", None, "Etsy needs credentials", "schedule")
    with database.read_session() as session:
        run: Any = session.scalars(sa.select(MarketSyncJob)).one()
        assert (run.status, run.errors, run.error_detail) == ("failed", 1, "Etsy needs credentials")
