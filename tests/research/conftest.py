"""Research fixtures: the three research sandboxes over loopback HTTP (started once per session, reset per
test that needs it) and ResearchSettings pointing at them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from riff.core.db import Database
from riff.research.collectors import build_collector, research_rate_limiter, token_cache
from riff.research.config import ResearchSettings, SearchSpec, reset_research_settings_cache
from riff.research.service import SyncResult, run_sync
from riff_sandbox.runner import RunningSandbox, start

EBAY = {"client_id": "RIFF-sandbox-PRD-0123456789-abcdef", "client_secret": "PRD-sandbox-secret"}
ETSY = {"keystring": "riffsandboxkeystring0001", "shared_secret": "riffsandboxsecret"}
REDDIT = {"client_id": "riffSandboxClient", "client_secret": "riff-sandbox-reddit-secret"}
# Generous limits so tests run at loopback speed; the real ones are in riff.research.consts.
FAST_LIMITS = {
    "research.ebay.day": {"rate": 500.0, "burst": 500.0},
    "research.etsy.second": {"rate": 500.0, "burst": 500.0},
    "research.etsy.day": {"rate": 500.0, "burst": 500.0},
    "research.reddit": {"rate": 500.0, "burst": 500.0},
}


@pytest.fixture(scope="session")
def research_sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, RunningSandbox]]:
    data_dir = tmp_path_factory.mktemp("research-sandboxes")
    started = {
        "ebay": start("ebay_browse", data_dir=data_dir, seed_size=120),
        "etsy": start("etsy", data_dir=data_dir, seed_size=120),
        "reddit": start("reddit", data_dir=data_dir, seed_size=90, bst_comments=20),
    }
    try:
        yield started
    finally:
        for sandbox in started.values():
            sandbox.stop()


@pytest.fixture
def sandboxes(research_sandboxes: dict[str, RunningSandbox]) -> dict[str, RunningSandbox]:
    """Fresh sandbox state and an empty token cache for this test."""
    for sandbox in research_sandboxes.values():
        sandbox.control.reset()
    token_cache.clear()
    return research_sandboxes


def settings_for(sandboxes: dict[str, RunningSandbox], **overrides: Any) -> ResearchSettings:
    values: dict[str, Any] = {
        "ebay_base_url": sandboxes["ebay"].base_url,
        "ebay_client_id": EBAY["client_id"],
        "ebay_client_secret": EBAY["client_secret"],
        "etsy_base_url": sandboxes["etsy"].base_url,
        "etsy_keystring": ETSY["keystring"],
        "etsy_shared_secret": ETSY["shared_secret"],
        "reddit_auth_url": sandboxes["reddit"].base_url,
        "reddit_api_url": sandboxes["reddit"].base_url,
        "reddit_client_id": REDDIT["client_id"],
        "reddit_client_secret": REDDIT["client_secret"],
        "bst_subreddits": ["rawdenim", "Gear4Sale", "VinylCollectors"],
        "queries": {
            "ebay": [SearchSpec(q="vintage", max_items=60)],
            "etsy": [SearchSpec(q="vintage", max_items=50)],
            "reddit": [SearchSpec(q="WTS", subreddits=["rawdenim", "Gear4Sale"], max_items=60)],
        },
        "page_size": {"ebay": 20, "etsy": 15, "reddit": 10},
        "rate_limits": FAST_LIMITS,
        "_env_file": None,
    }
    values.update(overrides)
    return ResearchSettings(**values)


@pytest.fixture
def research(sandboxes: dict[str, RunningSandbox]) -> ResearchSettings:
    return settings_for(sandboxes)


def sync(database: Database | None, platform: str, research: ResearchSettings, **kwargs: Any) -> SyncResult:
    """One collector run into ``database`` (in-memory rate limits)."""
    assert database is not None

    async def go() -> SyncResult:
        collector = build_collector(
            platform, research, rate_limiter=research_rate_limiter(None, None, research)
        )
        try:
            return await run_sync(database, collector, research, **kwargs)
        finally:
            await collector.aclose()

    return asyncio.run(go())


@pytest.fixture
def research_env(
    monkeypatch: pytest.MonkeyPatch, sandboxes: dict[str, RunningSandbox]
) -> Iterator[ResearchSettings]:
    """The same settings through the environment, for code that reads ``get_research_settings()`` (jobs)."""
    settings = settings_for(sandboxes)
    env = {
        "RIFF_RESEARCH_EBAY_BASE_URL": settings.ebay_base_url,
        "RIFF_RESEARCH_EBAY_CLIENT_ID": EBAY["client_id"],
        "RIFF_RESEARCH_EBAY_CLIENT_SECRET": EBAY["client_secret"],
        "RIFF_RESEARCH_ETSY_BASE_URL": settings.etsy_base_url,
        "RIFF_RESEARCH_ETSY_KEYSTRING": ETSY["keystring"],
        "RIFF_RESEARCH_ETSY_SHARED_SECRET": ETSY["shared_secret"],
        "RIFF_RESEARCH_REDDIT_AUTH_URL": settings.reddit_auth_url,
        "RIFF_RESEARCH_REDDIT_API_URL": settings.reddit_api_url,
        "RIFF_RESEARCH_REDDIT_CLIENT_ID": REDDIT["client_id"],
        "RIFF_RESEARCH_REDDIT_CLIENT_SECRET": REDDIT["client_secret"],
        "RIFF_RESEARCH_QUERIES": json.dumps(
            {k: [s.model_dump(mode="json") for s in v] for k, v in settings.queries.items()}
        ),
        "RIFF_RESEARCH_PAGE_SIZE": json.dumps(settings.page_size),
        "RIFF_RESEARCH_RATE_LIMITS": json.dumps(FAST_LIMITS),
        "RIFF_RESEARCH_BST_SUBREDDITS": json.dumps(settings.bst_subreddits),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("RIFF_LLM_URL", raising=False)
    reset_research_settings_cache()
    yield settings
    reset_research_settings_cache()
