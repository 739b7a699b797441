"""Research domain logic: run a collector into ``market_listings`` (recording a ``market_sync_jobs`` row),
watch saved searches, notify, analyse, trigger syncs, clean up. Nothing here commits a request's session;
``run_sync`` is a job body and owns its short transactions (one per page) like any job handler.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.channels.errors import ChannelError
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.errors import NotFound, ValidationFailed
from riff.core.logging import get_logger
from riff.jobs import service as jobs
from riff.jobs.models import Job
from riff.research import analysis, extraction, trends
from riff.research.collectors.base import CollectedListing, Collector
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.consts import (
    KIND_ANALYZE,
    KIND_CHECK_SAVED,
    KIND_NOTIFY,
    KIND_SYNC,
    MANUAL_SYNC_PRIORITY,
    PLATFORMS,
    SYNC_JOB_RETENTION_DAYS,
    SyncStatus,
)
from riff.research.models import MarketListing, MarketSyncJob, SavedSearch
from riff.research.repository import (
    ListingRepository,
    SavedSearchRepository,
    SyncJobRepository,
    UpsertCounts,
)

log = get_logger(__name__)

MAX_ERROR_DETAIL = 2000
MAX_NOTIFY_MATCHES = 50
MATCH_SCAN_LIMIT = 500
NOTIFY_TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# ---- one listing's stored values ---------------------------------------------------------------------------


def to_base(price: Decimal | None, currency: str | None, research: ResearchSettings) -> Decimal | None:
    if price is None:
        return None
    rate = research.resolved_fx().get((currency or research.base_currency).upper())
    if rate is None:
        return None
    return (Decimal(price) * rate).quantize(Decimal("0.01"))


def listing_values(
    collected: CollectedListing, research: ResearchSettings, now: dt.datetime
) -> dict[str, Any]:
    """Everything a ``market_listings`` row stores, with the offline analysis (brand, size, era, category,
    condition, tags) run on the way in."""
    result = analysis.analyze_offline(
        analysis.ListingText(
            title=collected.title,
            description=collected.description,
            tags=tuple(collected.tags),
            condition_hint=collected.condition_text,
            price=collected.price,
            currency=collected.currency,
            default_currency=collected.default_currency,
        )
    )
    engagement: float | None = None
    if collected.score is not None or collected.comments is not None or collected.favorites is not None:
        engagement = extraction.engagement_score(
            collected.score, collected.comments, collected.listed_at, now, favorites=collected.favorites
        )
    return {
        "external_id": collected.external_id[:120],
        "url": (collected.url or None) and collected.url[:1000],
        "title": (collected.title or "(untitled)")[:500],
        "description": collected.description or "",
        "price": collected.price,
        "currency": (collected.currency or None) and collected.currency.upper()[:3],
        "price_base": to_base(collected.price, collected.currency, research),
        "condition": result.condition,
        "brand": result.brand,
        "size": result.size,
        "era": result.era,
        "category": result.category,
        "image_urls": collected.image_urls[:20],
        "seller": (collected.seller or None) and str(collected.seller)[:120],
        "engagement_score": engagement,
        "trend_score": engagement,
        "ai_tags": result.tags,
        "ai_analysis": result.as_dict(),
        "ai_method": result.method,
        "analyzed_at": now,
        "raw": collected.raw,
        "sold": collected.sold,
        "listed_at": collected.listed_at,
    }


# ---- a sync run ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class SyncResult:
    record_id: int
    platform: str
    status: str
    fetched: int
    added: int
    updated: int
    unchanged: int
    errors: int
    requests: int
    duration_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _start_record(database: Database, platform: str, specs: Sequence[SearchSpec], job_id: int | None,
                  trigger: str) -> int:  # fmt: skip
    with database.session() as session:
        record = SyncJobRepository(session).add(
            MarketSyncJob(
                platform=platform,
                status=SyncStatus.RUNNING,
                trigger=trigger,
                job_id=job_id,
                queries=[s.model_dump(mode="json", exclude_defaults=True) for s in specs],
                started_at=utcnow(),
                requests=0,
                fetched=0,
                added=0,
                updated=0,
                unchanged=0,
                errors=0,
            )  # fmt: skip
        )
        return record.id


async def run_sync(
    database: Database,
    collector: Collector,
    research: ResearchSettings,
    *,
    specs: Sequence[SearchSpec] | None = None,
    job_id: int | None = None,
    trigger: str = "schedule",
    heartbeat: Callable[[], None] | None = None,
) -> SyncResult:
    """Collect every page of every search (plus the platform's extra pages), upserting page by page, and
    record the run. A failure still records what was done, then propagates (the job engine retries)."""
    platform = collector.platform
    specs = list(specs if specs is not None else research.searches(platform))
    record_id = _start_record(database, platform, specs, job_id, trigger)
    started = time.perf_counter()
    counts = UpsertCounts()
    fetched = errors = 0
    seen: set[str] = set()
    failure: BaseException | None = None

    async def store(page: list[CollectedListing]) -> None:
        nonlocal fetched, errors
        now = utcnow()
        rows = []
        for collected in page:
            if collected.external_id in seen:
                continue
            seen.add(collected.external_id)
            fetched += 1
            try:
                rows.append(listing_values(collected, research, now))
            except Exception as exc:  # one odd listing must not lose the page
                errors += 1
                log.warning("research.sync.parse_failed", platform=platform, external_id=collected.external_id,
                            error=type(exc).__name__, message=str(exc)[:200])  # fmt: skip
        with database.session() as session:
            counts.__iadd__(ListingRepository(session).upsert(platform, rows, now))
        if heartbeat is not None:
            heartbeat()

    try:
        for spec in specs:
            async for page in collector.pages(spec):
                await store(page)
        async for page in collector.extra_pages():
            await store(page)
    except BaseException as exc:
        failure = exc
    duration = round(time.perf_counter() - started, 3)
    status = SyncStatus.FAILED if failure is not None else SyncStatus.COMPLETED
    with database.session() as session:
        record = SyncJobRepository(session).get(record_id)
        assert record is not None
        record.status = status
        record.finished_at = utcnow()
        record.duration_seconds = duration
        record.requests = collector.requests
        record.fetched = fetched
        record.added = counts.added
        record.updated = counts.updated
        record.unchanged = counts.unchanged
        record.errors = errors + (1 if failure is not None else 0)
        if failure is not None:
            record.error_detail = f"{type(failure).__name__}: {failure}"[:MAX_ERROR_DETAIL]
        if counts.added:
            jobs.enqueue(
                session, KIND_CHECK_SAVED, coalesce_key=KIND_CHECK_SAVED, priority=MANUAL_SYNC_PRIORITY
            )
    result = SyncResult(record_id, platform, status, fetched, counts.added, counts.updated, counts.unchanged,
                        errors, collector.requests, duration)  # fmt: skip
    log.info(f"research.sync.{status}", **{k: v for k, v in result.as_dict().items() if k != "status"})
    if failure is not None:
        raise failure
    return result


def record_not_configured(
    database: Database, platform: str, job_id: int | None, message: str, trigger: str
) -> None:
    with database.session() as session:
        now = utcnow()
        SyncJobRepository(session).add(
            MarketSyncJob(
                platform=platform,
                status=SyncStatus.FAILED,
                trigger=trigger,
                job_id=job_id,
                queries=[],
                started_at=now,
                finished_at=now,
                duration_seconds=0.0,
                requests=0,
                fetched=0,
                added=0,
                updated=0,
                unchanged=0,
                errors=1,
                error_detail=message[:MAX_ERROR_DETAIL],
            )  # fmt: skip
        )


# ---- triggering -------------------------------------------------------------------------------------------------


def request_sync(
    session: Session,
    platform: str,
    *,
    query: str | None = None,
    limit: int | None = None,
    actor: str | None = None,
) -> dict[str, int | None]:
    """Enqueue a sync now for one platform or ``all``; a sync of that platform still queued absorbs it.
    Returns platform -> job id (None when absorbed into the queued one)."""
    platforms = list(PLATFORMS) if platform == "all" else [platform]
    if any(p not in PLATFORMS for p in platforms):
        raise ValidationFailed(f"platform must be one of {', '.join((*PLATFORMS, 'all'))}", field="platform")
    out: dict[str, int | None] = {}
    for name in platforms:
        payload: dict[str, Any] = {"platform": name, "trigger": "manual", "actor": actor}
        if query:
            payload["query"] = query
        if limit:
            payload["limit"] = limit
        job = jobs.enqueue(
            session,
            KIND_SYNC,
            payload=payload,
            priority=MANUAL_SYNC_PRIORITY,
            coalesce_key=f"{KIND_SYNC}:{name}:{query or ''}"[:200],
        )
        out[name] = job.id if job is not None else None
    return out


def specs_for_payload(research: ResearchSettings, platform: str, payload: dict[str, Any]) -> list[SearchSpec]:
    """The searches a job runs: the payload's ad-hoc query, else the configured ones."""
    limit = payload.get("limit")
    if payload.get("query"):
        spec = SearchSpec(q=str(payload["query"])[:100])
        if platform == "reddit":
            spec.subreddits = list(research.bst_subreddits)
        if limit:
            spec.max_items = int(limit)
        return [spec]
    specs = research.searches(platform)
    if limit:
        specs = [s.model_copy(update={"max_items": min(s.max_items, int(limit))}) for s in specs]
    return specs


def job_status(session: Session, job_id: int) -> dict[str, Any]:
    job = session.get(Job, job_id)
    if job is None or not job.kind.startswith("research."):
        raise NotFound(f"no research job {job_id}")
    runs = SyncJobRepository(session).for_job(job_id)
    return {
        "job_id": job.id,
        "kind": job.kind,
        "status": job.status,
        "attempts": job.attempts,
        "payload": job.payload,
        "result": job.result,
        "last_error": job.last_error_message,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "runs": runs,
    }


def request_analysis(session: Session, listing_id: int) -> int | None:
    if ListingRepository(session).get(listing_id) is None:
        raise NotFound(f"no market listing {listing_id}")
    job = jobs.enqueue(
        session, KIND_ANALYZE, payload={"listing_id": listing_id}, priority=MANUAL_SYNC_PRIORITY,
        coalesce_key=f"{KIND_ANALYZE}:{listing_id}",
    )  # fmt: skip
    return job.id if job is not None else None


async def analyze_listing(
    database: Database,
    listing_id: int,
    research: ResearchSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """Re-analyse one stored listing (the LLM when configured) and store the result with its method."""
    with database.read_session() as session:
        listing = ListingRepository(session).get(listing_id)
        if listing is None:
            raise NotFound(f"no market listing {listing_id}")
        text = analysis.ListingText(
            title=listing.title,
            description=listing.description,
            tags=tuple((listing.raw or {}).get("tags") or ()),
            condition_hint=(listing.raw or {}).get("condition") if isinstance(listing.raw, dict) else None,
            price=listing.price,
            currency=listing.currency,
        )
    result = await analysis.analyze(text, research, transport=transport)
    now = utcnow()
    with database.session() as session:
        listing = ListingRepository(session).get(listing_id)
        if listing is None:
            raise NotFound(f"no market listing {listing_id}")
        listing.brand = result.brand
        listing.size = result.size
        listing.era = result.era
        listing.condition = result.condition
        listing.category = result.category
        listing.ai_tags = result.tags
        listing.ai_analysis = result.as_dict()
        listing.ai_method = result.method
        listing.analyzed_at = now
    return result.as_dict()


# ---- saved searches and notifications -------------------------------------------------------------------------


def check_saved_searches(session: Session) -> dict[str, Any]:
    """Match every watched saved search against the listings added since it last looked; enqueue one
    notification job per search with new matches. Runs after every sync that added listings."""
    repository = ListingRepository(session)
    up_to = repository.max_id()
    now = utcnow()
    notified: dict[int, int] = {}
    for search in SavedSearchRepository(session).watched():
        if up_to <= search.last_listing_id:
            continue
        matches = repository.new_matches(
            search, after_id=search.last_listing_id, up_to_id=up_to, limit=MATCH_SCAN_LIMIT
        )
        search.last_listing_id = up_to
        search.last_checked_at = now
        if not matches:
            continue
        search.match_count += len(matches)
        notified[search.id] = len(matches)
        if search.notify_url:
            jobs.enqueue(
                session,
                KIND_NOTIFY,
                payload={
                    "saved_search_id": search.id,
                    "listing_ids": [m.id for m in matches[:MAX_NOTIFY_MATCHES]],
                    "count": len(matches),
                },  # fmt: skip
                priority=MANUAL_SYNC_PRIORITY,
            )
    session.flush()
    return {"checked_up_to": up_to, "matches": notified}


def notification_body(search: SavedSearch, listings: Sequence[MarketListing], count: int) -> dict[str, Any]:
    return {
        "event": "research.saved_search.match",
        "saved_search": {"id": search.id, "name": search.name, "query": search.query},
        "count": count,
        "sent_at": utcnow().isoformat(),
        "matches": [
            {
                "id": listing.id,
                "platform": listing.platform,
                "external_id": listing.external_id,
                "title": listing.title,
                "brand": listing.brand,
                "price": None if listing.price is None else str(listing.price),
                "currency": listing.currency,
                "url": listing.url,
            }
            for listing in listings
        ],
    }


class NotifyFailed(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


async def send_notification(
    database: Database, payload: dict[str, Any], *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """POST the matches of one saved search to its webhook URL (plain JSON webhook)."""
    with database.read_session() as session:
        repository = SavedSearchRepository(session)
        search = repository.get(int(payload["saved_search_id"]))
        if search is None or not search.notify_url or not search.notify_enabled:
            return {"skipped": "saved search gone or notifications off"}
        listings = repository.listings([int(i) for i in payload.get("listing_ids") or []])
        body = notification_body(search, listings, int(payload.get("count") or len(listings)))
        url = search.notify_url
        search_id = search.id
    async with httpx.AsyncClient(timeout=NOTIFY_TIMEOUT, transport=transport, trust_env=False,
                                 follow_redirects=False) as http:  # fmt: skip
        try:
            response = await http.post(url, json=body, headers={"User-Agent": "RIFF research notifier"})
        except httpx.HTTPError as exc:
            raise NotifyFailed(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise NotifyFailed(f"webhook answered {response.status_code}", retryable=True)
    if response.status_code >= 400:
        raise NotifyFailed(f"webhook refused with {response.status_code}", retryable=False)
    with database.session() as session:
        search_row = SavedSearchRepository(session).get(search_id)
        if search_row is not None:
            search_row.last_notified_at = utcnow()
    return {"status": response.status_code, "matches": len(body["matches"])}


# ---- housekeeping and trends ------------------------------------------------------------------------------------


def cleanup_sync_jobs(session: Session, *, days: int = SYNC_JOB_RETENTION_DAYS) -> int:
    cutoff = utcnow() - dt.timedelta(days=days)
    return SyncJobRepository(session).delete_older_than(cutoff)


def run_daily_trends(session: Session, research: ResearchSettings, *, days: int = 1) -> dict[str, Any]:
    """Recompute the last ``days`` full days (yesterday by default) and today so far."""
    today = trends.day_start(utcnow())
    start = today - dt.timedelta(days=max(1, days))
    rows = trends.compute_trends(
        session, start, today + dt.timedelta(days=1), currency=research.base_currency
    )
    return {"from": start.isoformat(), "rows": rows}


def ensure_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise ValidationFailed(f"platform must be one of {', '.join(PLATFORMS)}", field="platform")
    return platform


def is_config_error(exc: BaseException) -> bool:
    return isinstance(exc, ChannelError) and not exc.retryable


# ---- read models for the API and pages ----------------------------------------------------------------------


def since_days(days: int) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


def top_brands(
    session: Session, *, days: int, limit: int, platform: str | None = None, category: str | None = None
) -> list[dict[str, Any]]:
    """Brands by listings first seen in the last ``days`` days, with growth against the ``days`` before."""
    now = utcnow()
    start = now - dt.timedelta(days=days)
    repository = ListingRepository(session)
    brands = repository.top_brands(start, limit, platform=platform, category=category)
    previous = repository.brand_counts([b["brand"] for b in brands], start - dt.timedelta(days=days), start)
    for brand in brands:
        before = previous.get(brand["brand"], 0)
        brand["previous_listings"] = before
        brand["growth_percent"] = round(100.0 * (brand["listings"] - before) / before, 1) if before else None
    return brands


def market_summary(session: Session, research: ResearchSettings, *, days: int) -> dict[str, Any]:
    start = since_days(days)
    repository = ListingRepository(session)
    by_platform = repository.counts_by_platform(start)
    return {
        "days": days,
        "currency": research.base_currency,
        "total_listings": sum(by_platform.values()),
        "listings_by_platform": {p: by_platform.get(p, 0) for p in PLATFORMS},
        **repository.price_stats(start),
        "top_brands": top_brands(session, days=days, limit=5),
    }


def platform_stats(session: Session) -> dict[str, Any]:
    listings = ListingRepository(session)
    runs = SyncJobRepository(session)
    totals = listings.counts_by_platform()
    last = runs.last_by_platform()
    last_success = runs.last_success_by_platform()
    out: dict[str, Any] = {}
    for platform in PLATFORMS:
        record = last.get(platform)
        out[platform] = {
            "listings": totals.get(platform, 0),
            "last_sync_at": record.started_at if record else None,
            "last_sync_status": record.status if record else None,
            "last_success_at": last_success.get(platform),
            "last_error": record.error_detail if record and record.status == SyncStatus.FAILED else None,
        }
    try:
        session.execute(sa.text("SELECT 1"))
        health = "ok"
    except Exception as exc:  # the stats page reports the database, it must not fail on it
        health = f"error: {type(exc).__name__}"
    return {"platforms": out, "total_listings": sum(totals.values()), "database": health}


def create_saved_search(session: Session, data: dict[str, Any], actor: str | None) -> SavedSearch:
    search = SavedSearch(
        **data, created_by=actor, last_listing_id=ListingRepository(session).max_id(), match_count=0
    )
    return SavedSearchRepository(session).add(search)


def get_saved_search(session: Session, search_id: int) -> SavedSearch:
    search = SavedSearchRepository(session).get(search_id)
    if search is None:
        raise NotFound(f"no saved search {search_id}")
    return search
