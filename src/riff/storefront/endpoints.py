"""The public storefront feed: ``GET /api/data``, ``/api/data/{listing_id}``, ``/api/search``, ``/api/stats``.

No login (``riff.auth.consts.PUBLIC_PATH_PREFIXES`` lists these paths), read-only, and cheap to poll:

- every answer carries ``ETag`` (the feed's version + the request's path and query), ``Last-Modified`` and
  ``Cache-Control: public, max-age=N``; ``If-None-Match`` (or ``If-Modified-Since``) that still matches
  is answered ``304`` before any item is read;
- CORS: an ``Origin`` listed in ``RIFF_STOREFRONT_CORS_ORIGINS`` gets ``Access-Control-Allow-Origin``
  (also on 304s, errors and ``OPTIONS`` preflights); any other origin gets no CORS header at all.

The route class below applies both to every route of this router, errors included.
"""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel

from riff.core.deps import ReadSession
from riff.core.errors import RiffError
from riff.storefront import service
from riff.storefront.config import MAX_PAGE_SIZE, StorefrontSettings, get_storefront_settings
from riff.storefront.repository import FeedFilters
from riff.storefront.schemas import Item, ItemPage, Stats

ALLOWED_REQUEST_HEADERS = "Accept, If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = "ETag, Last-Modified"
PREFLIGHT_MAX_AGE_SECONDS = 600
MAX_FILTER_CHARS = 200
MAX_PAGE = 100_000


def storefront_settings(request: Request) -> StorefrontSettings:
    """``app.state.storefront_settings`` when the app was given one (tests), else the environment's."""
    configured = getattr(request.app.state, "storefront_settings", None)
    return configured if isinstance(configured, StorefrontSettings) else get_storefront_settings()


def cors_headers(request: Request, *, preflight: bool = False) -> dict[str, str]:
    origin = request.headers.get("origin")
    headers = {"Vary": "Origin"}
    if not storefront_settings(request).allows(origin):
        return headers
    assert origin is not None
    headers["Access-Control-Allow-Origin"] = origin
    if preflight:
        headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
        headers["Access-Control-Allow-Headers"] = ALLOWED_REQUEST_HEADERS
        headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_SECONDS)
    else:
        headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return headers


def _error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


class StorefrontRoute(APIRoute):
    """Adds the CORS headers to every answer of the feed, errors included."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
                field = ".".join(str(p) for p in first["loc"] if p not in ("query", "path")) or None
                response = _error(422, "validation_error", str(first["msg"]), field)
            except RiffError as exc:
                response = JSONResponse(exc.to_body(), status_code=exc.status_code)
            for name, value in cors_headers(request, preflight=request.method == "OPTIONS").items():
                response.headers[name] = value
            return response

        return handler


router = APIRouter(tags=["storefront"], route_class=StorefrontRoute)


def _not_modified(request: Request, tag: str, last_modified: dt.datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
        return "*" in candidates or tag in candidates
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and last_modified is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def _cached(request: Request, session: Any, build: Callable[[], BaseModel | None]) -> Response:
    """Answer 304 when the client's copy is current; else build the body. ``build`` returning None is a 404."""
    feed = service.version(session)
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    tag = service.etag(feed, f"{request.url.path}?{query}")
    max_age = storefront_settings(request).cache_max_age_seconds
    headers = {"ETag": tag, "Cache-Control": f"public, max-age={max_age}"}
    if feed.last_modified is not None:
        headers["Last-Modified"] = email.utils.format_datetime(
            feed.last_modified.astimezone(dt.UTC), usegmt=True
        )
    if _not_modified(request, tag, feed.last_modified):
        return Response(status_code=304, headers=headers)
    body = build()
    if body is None:
        response: Response = _error(404, "not_found", "no such item in the storefront", "listing_id")
        response.headers["Cache-Control"] = f"public, max-age={max_age}"
        return response
    return Response(body.model_dump_json(), media_type="application/json", headers=headers)


def _per_page(request: Request, per_page: int | None) -> int:
    return per_page or storefront_settings(request).page_size


Page = Query(1, ge=1, le=MAX_PAGE, description="1-based page number")
PerPage = Query(None, ge=1, le=MAX_PAGE_SIZE, description="Items per page (default 50)")


@router.get("/api/data", response_model=ItemPage)
def list_items(
    request: Request, session: ReadSession, page: int = Page, per_page: int | None = PerPage
) -> Response:
    """Everything for sale (records and gear), newest first."""
    size = _per_page(request, per_page)
    return _cached(
        request, session, lambda: service.page(session, FeedFilters(), page_number=page, per_page=size)
    )


@router.get("/api/data/{listing_id}", response_model=Item)
def get_item(request: Request, session: ReadSession, listing_id: str) -> Response:
    """One item by its feed id (``riff-<n>``) or its Discogs listing id."""
    return _cached(request, session, lambda: service.item(session, listing_id))


@router.get("/api/search", response_model=ItemPage)
def search(
    request: Request,
    session: ReadSession,
    q: str | None = Query(None, max_length=400, description="Words in title, artist, label, brand, model..."),
    artist: str | None = Query(None, max_length=MAX_FILTER_CHARS, description="Part of a record's artist"),
    genre: str | None = Query(None, max_length=MAX_FILTER_CHARS, description="A record genre (any case)"),
    format: str | None = Query(None, max_length=MAX_FILTER_CHARS, description='Vinyl, LP, CD, 7"...'),
    brand: str | None = Query(None, max_length=MAX_FILTER_CHARS, description="A gear brand (any case)"),
    category: str | None = Query(
        None, max_length=MAX_FILTER_CHARS, description="Category slug, with sub-categories"
    ),
    page: int = Page,
    per_page: int | None = PerPage,
) -> Response:
    size = _per_page(request, per_page)

    def build() -> ItemPage:
        filters = FeedFilters(
            words=service.words(q),
            artist=artist or None,
            genre=genre or None,
            format=format or None,
            brand=brand or None,
            category_ids=service.category_ids(session, category),
        )
        return service.page(session, filters, page_number=page, per_page=size)

    return _cached(request, session, build)


@router.get("/api/stats", response_model=Stats)
def stats(request: Request, session: ReadSession) -> Response:
    """``total_listings``, ``last_updated`` and counts by channel and by category."""
    return _cached(request, session, lambda: service.stats(session))


def _preflight() -> Response:
    return Response(status_code=204)


for _path in ("/api/data", "/api/data/{listing_id}", "/api/search", "/api/stats"):
    router.add_api_route(_path, _preflight, methods=["OPTIONS"], include_in_schema=False)
