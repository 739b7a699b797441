"""JSON API of market research: ``/api/research/...`` (authentication required everywhere)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from riff.auth.deps import CurrentUser, Writer
from riff.core.deps import DbSession, ReadSession
from riff.core.errors import NotFound, ValidationFailed
from riff.research import pricing, service
from riff.research.config import get_research_settings
from riff.research.consts import MAX_LISTING_PAGE, MAX_TREND_DAYS
from riff.research.models import MarketListing
from riff.research.repository import (
    ListingRepository,
    SavedSearchRepository,
    SyncJobRepository,
    TrendRepository,
)
from riff.research.schemas import (
    AnalysisAccepted,
    BrandOut,
    JobStatusOut,
    ListingDetail,
    ListingPage,
    SavedSearchIn,
    SavedSearchOut,
    SavedSearchPatch,
    SyncAccepted,
    SyncJobPage,
    SyncRequest,
    TrendOut,
)

router = APIRouter(prefix="/api/research", tags=["research"])

_ERROR = {"description": 'Error body: {"error": {"code", "message", "field"}}'}
READ_ERRORS: dict[int | str, dict[str, Any]] = {401: _ERROR, 404: _ERROR, 422: _ERROR}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {**READ_ERRORS, 403: _ERROR, 409: _ERROR}

PlatformQ = Annotated[Literal["ebay", "etsy", "reddit"] | None, Query(description="ebay, etsy or reddit")]
CategoryQ = Annotated[
    Literal["guitar", "bass", "amp", "record", "denim", "other"] | None,
    Query(description="Research category"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LISTING_PAGE)]
Offset = Annotated[int, Query(ge=0)]
Days = Annotated[int, Query(ge=1, le=MAX_TREND_DAYS)]
Money = Annotated[Decimal | None, Query(ge=0, description="In the research base currency")]


@router.get("/listings", response_model=ListingPage, responses=READ_ERRORS)
def list_listings(
    session: ReadSession,
    _user: CurrentUser,
    platform: PlatformQ = None,
    brand: Annotated[str | None, Query(max_length=120)] = None,
    min_price: Money = None,
    max_price: Money = None,
    size: Annotated[str | None, Query(max_length=40)] = None,
    condition: Annotated[
        Literal["new", "excellent", "very_good", "good", "fair", "poor"] | None, Query()
    ] = None,
    category: CategoryQ = None,
    era: Annotated[str | None, Query(pattern=r"^(19|20)\d0s$")] = None,
    sold: bool | None = None,
    sort_by: Literal["created_at", "price", "trend_score", "last_seen_at", "engagement_score"] = "created_at",
    sort_order: Literal["asc", "desc"] = "desc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Market listings filtered by platform, brand, price range (base currency), size, condition, category,
    era and sold flag; sorted by first seen (``created_at``), price or trend score."""
    if min_price is not None and max_price is not None and min_price > max_price:
        raise ValidationFailed("min_price must not exceed max_price", field="min_price")
    repository = ListingRepository(session)
    query = repository.filtered(
        platform=platform, brand=brand, min_price=min_price, max_price=max_price, size=size,
        condition=condition, category=category, era=era, sold=sold,
    )  # fmt: skip
    items, total = repository.page(
        query, sort_by=sort_by, descending=sort_order == "desc", limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/listings/search", response_model=ListingPage, responses=READ_ERRORS)
def search_listings(
    session: ReadSession,
    _user: CurrentUser,
    q: Annotated[str, Query(min_length=2, max_length=100, description="Words that must all appear")],
    platform: PlatformQ = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Text search over title, brand and description; listings with more of the words in the title first."""
    terms = [t for t in q.split() if t][:8]
    if not terms:
        raise ValidationFailed("q must contain a word", field="q")
    items, total = ListingRepository(session).search(terms, platform, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/listings/{listing_id}", response_model=ListingDetail, responses=READ_ERRORS)
def get_listing(listing_id: int, session: ReadSession, _user: CurrentUser) -> MarketListing:
    listing = ListingRepository(session).get(listing_id)
    if listing is None:
        raise NotFound(f"no market listing {listing_id}")
    return listing


@router.post(
    "/listings/{listing_id}/analyze", status_code=202, response_model=AnalysisAccepted, responses=WRITE_ERRORS
)
def analyze_listing(listing_id: int, session: DbSession, _user: Writer) -> dict[str, Any]:
    """Queue an AI analysis of the listing (the OpenAI-compatible endpoint when configured, else offline)."""
    return {"listing_id": listing_id, "job_id": service.request_analysis(session, listing_id)}


@router.get("/trends", response_model=list[TrendOut], responses=READ_ERRORS)
def get_trends(
    session: ReadSession,
    _user: CurrentUser,
    platform: PlatformQ = None,
    category: CategoryQ = None,
    brand: Annotated[str | None, Query(max_length=120)] = None,
    days: Days = 7,
) -> list[Any]:
    """Daily trend rows (count, avg/median/min/max/IQR price, engagement) for the last ``days`` days: every
    platform unless one is named, every category/brand unless one is named."""
    return list(
        TrendRepository(session).query(
            since=service.since_days(days), platform=platform, category=category, brand=brand
        )
    )


@router.get("/trends/brands", response_model=list[BrandOut], responses=READ_ERRORS)
def get_top_brands(
    session: ReadSession,
    _user: CurrentUser,
    days: Days = 30,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    platform: PlatformQ = None,
    category: CategoryQ = None,
) -> list[dict[str, Any]]:
    """Brands ranked by listings first seen in the period, with growth against the period before."""
    return service.top_brands(session, days=days, limit=limit, platform=platform, category=category)


@router.get("/trends/summary", responses=READ_ERRORS)
def get_summary(session: ReadSession, _user: CurrentUser, days: Days = 7) -> dict[str, Any]:
    """Market overview: listings per platform, average and range of prices (base currency), top 5 brands."""
    return service.market_summary(session, get_research_settings(), days=days)


@router.get("/sync-jobs", response_model=SyncJobPage, responses=READ_ERRORS)
def sync_history(
    session: ReadSession,
    _user: CurrentUser,
    platform: PlatformQ = None,
    status: Annotated[Literal["running", "completed", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Offset = 0,
) -> dict[str, Any]:
    items, total = SyncJobRepository(session).history(
        platform=platform, status=status, limit=limit, offset=offset
    )
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post("/sync", status_code=202, response_model=SyncAccepted, responses=WRITE_ERRORS)
def trigger_sync(body: SyncRequest, session: DbSession, user: Writer) -> dict[str, Any]:
    """Run a sync now (a job per platform); poll ``GET /api/research/sync/{job_id}``."""
    return {
        "jobs": service.request_sync(
            session, body.platform, query=body.query, limit=body.limit, actor=user.username
        )
    }


@router.get("/sync/{job_id}", response_model=JobStatusOut, responses=READ_ERRORS)
def sync_status(job_id: int, session: ReadSession, _user: CurrentUser) -> dict[str, Any]:
    """A research job's state (queued, in_progress, completed, failed) and the sync runs it recorded."""
    return service.job_status(session, job_id)


@router.get("/stats", responses=READ_ERRORS)
def stats(session: ReadSession, _user: CurrentUser) -> dict[str, Any]:
    """Per platform: listings stored, last sync (time, status, error), last success; database health."""
    return service.platform_stats(session)


@router.get("/products/{product_id}/price-suggestion", responses=READ_ERRORS)
def price_suggestion(product_id: int, session: ReadSession, _user: CurrentUser) -> dict[str, Any]:
    """Comparables for a RIFF product (count, median, IQR, asking vs sold) and a suggested range with what
    it nets on each channel after fees."""
    return pricing.suggest_price(session, product_id, get_research_settings())


@router.get("/saved-searches", response_model=list[SavedSearchOut], responses=READ_ERRORS)
def list_saved_searches(session: ReadSession, _user: CurrentUser) -> list[Any]:
    return SavedSearchRepository(session).all()


@router.post("/saved-searches", status_code=201, response_model=SavedSearchOut, responses=WRITE_ERRORS)
def create_saved_search(body: SavedSearchIn, session: DbSession, user: Writer) -> Any:
    """Watch a multi-platform search: listings added after now that match are POSTed to ``notify_url``."""
    return service.create_saved_search(session, body.model_dump(), user.username)


@router.get("/saved-searches/{search_id}", response_model=SavedSearchOut, responses=READ_ERRORS)
def get_saved_search(search_id: int, session: ReadSession, _user: CurrentUser) -> Any:
    return service.get_saved_search(session, search_id)


@router.patch("/saved-searches/{search_id}", response_model=SavedSearchOut, responses=WRITE_ERRORS)
def update_saved_search(search_id: int, body: SavedSearchPatch, session: DbSession, _user: Writer) -> Any:
    search = service.get_saved_search(session, search_id)
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(search, key, value)
    session.flush()
    return search


@router.delete("/saved-searches/{search_id}", status_code=204, responses=WRITE_ERRORS)
def delete_saved_search(search_id: int, session: DbSession, _user: Writer) -> None:
    SavedSearchRepository(session).delete(service.get_saved_search(session, search_id))
