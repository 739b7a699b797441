"""Research pages: ``/research`` (market overview with charts), ``/research/listings`` (filterable list),
``/research/listings/{id}``, and the price-suggestion partial a product page includes with
``<div hx-get="/research/products/{{ product.id }}/price-suggestion" hx-trigger="load" hx-swap="outerHTML"></div>``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from riff.auth.deps import CurrentUser, Writer
from riff.core.deps import ReadSession, get_database
from riff.core.errors import RiffError
from riff.core.logging import get_logger
from riff.research import charts, pricing, service
from riff.research.config import get_research_settings
from riff.research.consts import CATEGORIES, PLATFORMS
from riff.research.repository import ListingRepository, SyncJobRepository, TrendRepository
from riff.web.common import Page, can_write, error_page, page_number, query_url
from riff.web.templating import flash, redirect, render

log = get_logger(__name__)

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
DAY_CHOICES = (7, 30, 90)
CONDITIONS = ("new", "excellent", "very_good", "good", "fair", "poor")


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _days(value: str | None) -> int:
    try:
        days = int(value or 30)
    except ValueError:
        return 30
    return days if days in DAY_CHOICES else 30


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value and value.strip() else None
    except InvalidOperation:
        return None


@router.get("/research", response_class=HTMLResponse)
def overview(request: Request, session: ReadSession, user: CurrentUser) -> HTMLResponse:
    research = get_research_settings()
    query = request.query_params
    days = _days(query.get("days"))
    platform = _choice(query.get("platform"), PLATFORMS)
    category = _choice(query.get("category"), CATEGORIES)
    since = service.since_days(days)
    listings = ListingRepository(session)
    prices = listings.price_values(since, platform=platform, category=category)
    trend_rows = TrendRepository(session).query(since=since, platform=platform, category=category, brand=None)
    brands = service.top_brands(session, days=days, limit=10, platform=platform, category=category)
    summary = service.market_summary(session, research, days=days)
    points = [(row.period_start.strftime("%d %b"), float(row.median_price) if row.median_price is not None else None)
              for row in trend_rows]  # fmt: skip
    context: dict[str, Any] = {
        "title": "Market research",
        "days": days,
        "day_choices": DAY_CHOICES,
        "platform": platform,
        "category": category,
        "platforms": PLATFORMS,
        "categories": CATEGORIES,
        "summary": summary,
        "stats": service.platform_stats(session),
        "runs": SyncJobRepository(session).history(platform=None, status=None, limit=10, offset=0)[0],
        "can_write": can_write(user),
        "currency": research.base_currency,
        "price_chart": charts.histogram(
            prices, title=f"Price distribution ({research.base_currency})", currency=research.base_currency
        ),  # fmt: skip
        "trend_chart": charts.line_chart(
            points, title="Median price per day", counts=[row.listing_count for row in trend_rows]
        ),  # fmt: skip
        "brand_chart": charts.bar_chart(
            [(b["brand"], b["listings"]) for b in brands], title="Top brands by listings"
        ),
        "brands": brands,
    }
    return render(request, "research/index.html", context)


@router.post("/research/sync", response_class=HTMLResponse)
def sync_now(request: Request, user: Writer, platform: str = Form("all")) -> Response:
    try:
        with get_database(request).session() as session:
            jobs = service.request_sync(session, platform, actor=user.username)
        flash(request, f"Sync queued: {', '.join(jobs)}.", "success")
    except RiffError as exc:
        flash(request, exc.message, "error")
    return redirect(request, "/research")


@router.get("/research/listings", response_class=HTMLResponse)
def listings_page(request: Request, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    query = request.query_params
    params = {
        "platform": _choice(query.get("platform"), PLATFORMS),
        "category": _choice(query.get("category"), CATEGORIES),
        "condition": _choice(query.get("condition"), CONDITIONS),
        "brand": (query.get("brand") or "").strip()[:120] or None,
        "size": (query.get("size") or "").strip()[:40] or None,
        "min_price": query.get("min_price") if _decimal(query.get("min_price")) is not None else None,
        "max_price": query.get("max_price") if _decimal(query.get("max_price")) is not None else None,
        "sort": _choice(query.get("sort"), ("created_at", "price", "trend_score")) or "created_at",
    }
    number = page_number(query.get("page"))
    sort_by = params["sort"] or "created_at"
    repository = ListingRepository(session)
    filtered = repository.filtered(
        platform=params["platform"], brand=params["brand"], min_price=_decimal(params["min_price"]),
        max_price=_decimal(params["max_price"]), size=params["size"], condition=params["condition"],
        category=params["category"],
    )  # fmt: skip
    items, total = repository.page(
        filtered, sort_by=sort_by, descending=sort_by != "price" or query.get("order") != "asc",
        limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE,
    )  # fmt: skip
    clean = {k: v for k, v in params.items() if v}
    return render(request, "research/listings.html", {
        "title": "Market listings",
        "items": items,
        "params": clean,
        "platforms": PLATFORMS,
        "categories": CATEGORIES,
        "conditions": CONDITIONS,
        "page": Page(number=number, size=PAGE_SIZE, total=total),
        "page_url": lambda n: query_url("/research/listings", clean, page=n if n > 1 else None),
        "currency": get_research_settings().base_currency,
    })  # fmt: skip


@router.get("/research/listings/{listing_id}", response_class=HTMLResponse)
def listing_page(request: Request, listing_id: int, session: ReadSession, _user: CurrentUser) -> HTMLResponse:
    listing = ListingRepository(session).get(listing_id)
    if listing is None:
        return error_page(request, RiffError(f"No market listing {listing_id}.", status_code=404))
    return render(request, "research/listing.html", {"title": listing.title[:80], "listing": listing})


@router.get("/research/products/{product_id}/price-suggestion", response_class=HTMLResponse)
def price_suggestion_partial(
    request: Request, product_id: int, session: ReadSession, _user: CurrentUser
) -> HTMLResponse:
    try:
        suggestion = pricing.suggest_price(session, product_id, get_research_settings())
    except RiffError as exc:
        return render(
            request,
            "research/partials/price_suggestion.html",
            {"error": exc.message},
            status_code=exc.status_code,
        )
    return render(request, "research/partials/price_suggestion.html", {"s": suggestion})
