"""The sandbox runtime and the app factory every platform shares.

``create_sandbox_app(platform_cls, config)`` gives a platform its own FastAPI app with persistent state in
``<data_dir>/sandboxes/<name>.db``, seeded with demo data on first start, plus the ``/_sandbox`` control
API, fault injection and the request log.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from riff_sandbox.toolkit.control_api import control_router
from riff_sandbox.toolkit.faults import FaultInjector
from riff_sandbox.toolkit.middleware import SandboxMiddleware
from riff_sandbox.toolkit.platform import ControlError, SandboxConfig, SandboxPlatform
from riff_sandbox.toolkit.store import Document, DocumentStore
from riff_sandbox.toolkit.timeutil import isoformat_utc, utcnow
from riff_sandbox.toolkit.tokens import TokenRegistry
from riff_sandbox.toolkit.webhooks import WebhookDispatcher

log = logging.getLogger("riff_sandbox")

META = "_meta"
MAX_SEED_SIZE = 5_000


class Sandbox:
    """Everything one running sandbox owns: store, faults, tokens, webhooks and the platform."""

    def __init__(self, platform_cls: type[SandboxPlatform], config: SandboxConfig) -> None:
        self.config = config
        self.name = platform_cls.name
        options = platform_cls.options_model.model_validate(dict(config.options))
        self.store = DocumentStore(config.db_path)
        self.faults = FaultInjector()
        self.tokens = TokenRegistry(self.store)
        self.platform = platform_cls(self, options)
        self.webhooks = WebhookDispatcher(
            self.store, self.platform.webhook_headers, self.platform.sign_webhook
        )
        if self.meta() is None:
            self.reset()

    def meta(self) -> Document | None:
        with self.store.transaction() as tx:
            return tx.get(META, "state")

    def reset(self, *, seed: int | None = None, seed_size: int | None = None) -> Document:
        """Back to the demo data: every document, the request log, webhook registrations and deliveries,
        faults and tokens are replaced by a fresh seed."""
        seed = self.config.seed if seed is None else seed
        size = seed_size if seed_size is not None else self.config.seed_size
        size = self.platform.default_seed_size if size is None else size
        if not 0 <= size <= MAX_SEED_SIZE:
            raise ControlError(422, "invalid_seed_size", f"seed_size must be between 0 and {MAX_SEED_SIZE}")
        self.webhooks.drain()
        now = utcnow()
        meta = {"seed": seed, "seed_size": size, "seeded_at": isoformat_utc(now)}
        with self.store.transaction() as tx:
            tx.clear_all()
            self.platform.seed(tx, random.Random(f"{self.name}:{seed}"), size, now)
            tx.put(META, "state", meta)
        self.faults.clear(time.monotonic())
        if self.platform.default_token:
            self.tokens.add(self.platform.default_token, kind="personal", source="default")
        for token in self.configured_tokens():
            self.tokens.add(token, kind="personal", source="configured")
        return meta

    def configured_tokens(self) -> list[str]:
        tokens = getattr(self.platform.options, "tokens", None)
        return list(tokens or [])

    def is_platform_path(self, path: str) -> bool:
        if path.startswith("/_sandbox"):
            return False
        for prefix in self.platform.platform_prefixes:
            if prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return True
        return False

    def log_exception(self, path: str) -> None:
        log.exception("sandbox.request.error", extra={"sandbox": self.name, "path": path})

    def info(self, base_url: str) -> dict[str, Any]:
        return {
            "name": self.name,
            "base_url": base_url,
            "api_base_url": base_url + self.platform.api_base_path,
            "default_token": self.platform.default_token,
            "meta": self.meta(),
            "options": self.platform.options.model_dump(),
            "webhook_topics": list(self.platform.webhook_topics),
            "data_file": str(self.config.db_path),
        }

    def close(self) -> None:
        self.webhooks.shutdown()
        self.store.close()


def create_sandbox_app(platform_cls: type[SandboxPlatform], config: SandboxConfig) -> FastAPI:
    sandbox = Sandbox(platform_cls, config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await anyio.to_thread.run_sync(sandbox.close)

    app = FastAPI(
        title=f"{sandbox.name} sandbox",
        description=f"Local stand-in for the {sandbox.name} API. Control API under /_sandbox.",
        docs_url="/_sandbox/docs",
        redoc_url=None,
        openapi_url="/_sandbox/openapi.json",
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox
    app.include_router(control_router(sandbox))
    app.include_router(sandbox.platform.router())
    sandbox.platform.install(app)

    async def control_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, ControlError)
        return JSONResponse(
            {"error": {"code": error.code, "message": error.message}}, status_code=error.status_code
        )

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if sandbox.is_platform_path(request.url.path):
            return sandbox.platform.error_response(error.status_code, str(error.detail), error.headers)
        return JSONResponse(
            {"error": {"code": "http_error", "message": str(error.detail)}},
            status_code=error.status_code,
            headers=error.headers,
        )

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        if sandbox.is_platform_path(request.url.path):
            if any(e.get("type") == "json_invalid" for e in error.errors()):
                return sandbox.platform.error_response(400, "The request body is not valid JSON.")
            fields: dict[str, list[str]] = {}
            for problem in error.errors():
                field = str(problem.get("loc", ("", "request"))[-1])
                fields.setdefault(field, []).append(str(problem.get("msg", "is invalid")))
            return sandbox.platform.error_response(422, "Invalid request parameters.", errors=fields)
        return JSONResponse(
            {"error": {"code": "invalid_request", "message": str(error.errors())}}, status_code=422
        )

    app.add_exception_handler(ControlError, control_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(SandboxMiddleware, sandbox=sandbox)
    return app
