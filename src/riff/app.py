"""The composition root of the web process: settings + database → FastAPI app with every router."""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

import riff
from riff.core import migrate
from riff.core.db import Database
from riff.core.errors import RiffError, TooManyRequests
from riff.core.generations import GenerationCache
from riff.core.security import load_secret_key, session_signing_key
from riff.core.settings import Settings, get_settings
from riff.web.api_docs import install_api_docs
from riff.web.install import install_web

SESSION_COOKIE = "riff_session"
AUTH_CACHE_ENTRIES = 1024  # callers (tokens and session users) per process
CATALOG_CACHE_ENTRIES = 256  # product-list pages per process (each at most a few hundred KB)


def _validation_field(loc: tuple[Any, ...]) -> str:
    # ("body", "items", 3, "price") -> "items[3].price"; the transport part ("body"/"query") is dropped.
    parts = [p for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None  # type: ignore[return-value]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RiffError)
    async def _riff_error(_request: Request, exc: RiffError) -> JSONResponse:
        headers = {}
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return JSONResponse(exc.to_body(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        details = [{"field": _validation_field(tuple(e["loc"])), "message": e["msg"]} for e in errors]
        body = {
            "error": {
                "code": "validation_error",
                "message": first["msg"],
                "field": _validation_field(tuple(first["loc"])),
                "details": details,
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = {"error": {"code": code, "message": str(exc.detail), "field": None}}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or Database(settings.resolved_database_url)
    master_key = load_secret_key(settings)

    app = FastAPI(
        title="RIFF",
        version=riff.__version__,
        description="Realtime Inventory Fast Flow API",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.master_key = master_key
    # Reads served again while their area's change generation stands (riff.core.generations).
    app.state.auth_cache = GenerationCache(max_entries=AUTH_CACHE_ENTRIES)
    app.state.catalog_cache = GenerationCache(max_entries=CATALOG_CACHE_ENTRIES)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_signing_key(master_key),
        session_cookie=SESSION_COOKIE,
        same_site="lax",
        https_only=settings.session_cookie_secure,
    )
    _install_error_handlers(app)
    install_web(app)
    install_api_docs(app)

    @app.get("/health", tags=["system"])
    def health() -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            checks["database"] = "ok"
            checks["migrations"] = "current" if migrate.is_current(database.engine) else "pending"
        except Exception as exc:  # any failure to reach the DB is exactly what health reports
            checks["database"] = f"unreachable: {type(exc).__name__}"
            checks["migrations"] = "unknown"
        healthy = checks["database"] == "ok" and checks["migrations"] == "current"
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", **checks}, status_code=200 if healthy else 503
        )

    @app.get("/version", tags=["system"])
    def version() -> dict[str, str]:
        return {"version": riff.__version__, "database": database.dialect}

    for router in _routers():
        app.include_router(router)
    return app


def freeze_startup_heap() -> None:
    """Move everything alive now into the garbage collector's permanent generation (``gc.freeze``).

    A web process holds ~200,000 long-lived objects once the app is built (routes, models, schemas,
    SQLAlchemy mappers). Every full collection would walk them all again: an 80 ms pause on this
    machine, landing on whatever requests are in flight, and it was most of bench/api_list.py's p99.
    Frozen, a full collection walks only what was allocated since. Server processes only: in a test
    run that builds hundreds of apps, freezing would pin each earlier app in memory for good.
    """
    gc.collect()
    gc.freeze()


def create_server_app() -> FastAPI:
    """The app as a long-running server process runs it: ``uvicorn riff.app:create_server_app --factory``."""
    app = create_app()
    freeze_startup_heap()
    return app


def _routers() -> list[Any]:
    # Each package exposes `router` from endpoints.py (JSON API) or views.py (HTML); list them here.
    from riff.auth.endpoints import router as auth_router
    from riff.catalog.endpoints import router as catalog_router
    from riff.catalog.image_endpoints import router as catalog_images_router
    from riff.channels.ebay.endpoints import router as ebay_router
    from riff.channels.endpoints import router as channels_router
    from riff.channels.endpoints import webhook_router as channels_webhook_router
    from riff.channels.vintage_and_rare.endpoints import router as vintage_and_rare_router
    from riff.fulfilment.endpoints import router as fulfilment_router
    from riff.jobs.endpoints import metrics_router as jobs_metrics_router
    from riff.jobs.endpoints import router as jobs_router
    from riff.orders.endpoints import router as orders_router
    from riff.records.endpoints import router as records_router
    from riff.research.endpoints import router as research_router
    from riff.research.views import router as research_views_router
    from riff.storefront.endpoints import router as storefront_router
    from riff.sync.endpoints import router as sync_router
    from riff.web.views import router as web_router

    return [
        auth_router,
        catalog_router,
        catalog_images_router,
        web_router,
        channels_router,
        channels_webhook_router,
        ebay_router,
        vintage_and_rare_router,
        jobs_router,
        jobs_metrics_router,
        orders_router,
        fulfilment_router,
        records_router,
        research_router,
        research_views_router,
        storefront_router,
        sync_router,
    ]
