"""The Discogs sandbox, plugged into the toolkit.

Besides the API routes it adds a gate in front of them that does what Discogs does before any route:
refuse a request without a ``User-Agent``, count the request in the moving rate-limit window (per client
address, authenticated and anonymous apart), answer 429 when the window is full and put
``X-Discogs-Ratelimit``/``-Used``/``-Remaining`` on every response.
"""

from __future__ import annotations

import html
import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riff_sandbox.discogs import catalogue
from riff_sandbox.discogs import seed as demo_seed
from riff_sandbox.discogs.consts import (
    API_BASE_PATH,
    DEFAULT_CONSUMER_KEY,
    DEFAULT_CONSUMER_SECRET,
    DEFAULT_TOKEN,
    NAME,
    PLATFORM_PREFIXES,
    RATE_LIMIT_MESSAGE,
)
from riff_sandbox.discogs.errors import DiscogsError, error_response
from riff_sandbox.discogs.ratelimit import MovingWindow, WindowDecision
from riff_sandbox.discogs.render import render_listing, render_order
from riff_sandbox.discogs.routes import build_router
from riff_sandbox.discogs.shop import DiscogsOptions, DiscogsShop, Record
from riff_sandbox.toolkit.platform import ControlError, SandboxPlatform
from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import utcnow

USER_AGENT_REQUIRED = "A User-Agent header identifying your application is required (e.g. MyShopSync/1.0 +https://shop.example)."


class DiscogsSandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = API_BASE_PATH
    platform_prefixes: ClassVar[tuple[str, ...]] = PLATFORM_PREFIXES
    default_token: ClassVar[str | None] = DEFAULT_TOKEN
    default_seed_size: ClassVar[int] = 538  # the record shop's inventory in the reference document
    options_model = DiscogsOptions
    options: DiscogsOptions

    consumer = (DEFAULT_CONSUMER_KEY, DEFAULT_CONSUMER_SECRET)

    def __init__(self, sandbox: Any, options: Any) -> None:
        super().__init__(sandbox, options)
        self.window = MovingWindow(self.options.rate_limit_window_seconds)
        # The inventory endpoint reads every listing; a parsed copy is kept until the next write.
        self._cache: list[Record] | None = None
        self._cache_version = 0
        self._cache_lock = threading.Lock()

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        self._invalidate()
        self.window.clear()
        demo_seed.seed(tx, rng, size, now, self.options)

    def router(self) -> APIRouter:
        return build_router(self)

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        if errors:
            field, problems = next(iter(errors.items()))
            message = f"Invalid {field}: {problems[0]}"
        return error_response(status, message, headers)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        # Discogs documents no Retry-After; the window headers say the budget is spent.
        full = WindowDecision(allowed=False, limit=self.options.rate_limit, used=self.options.rate_limit)
        return error_response(429, RATE_LIMIT_MESSAGE, full.headers())

    def token_expired_response(self) -> Response:
        return error_response(401, "You must authenticate to access this resource.")

    def install(self, app: FastAPI) -> None:
        async def discogs_error(_request: Request, error: Exception) -> Response:
            assert isinstance(error, DiscogsError)
            return error_response(error.status, error.message, error.headers)

        app.add_exception_handler(DiscogsError, discogs_error)
        app.add_middleware(DiscogsGate, platform=self)
        app.add_api_route(
            "/sell/item/{listing_id}", self._web_listing, methods=["GET"], include_in_schema=False
        )
        app.add_api_route("/images/{name}", self._image, methods=["GET"], include_in_schema=False)

    # State ---------------------------------------------------------------------------------------

    def _invalidate(self) -> None:
        with self._cache_lock:
            self._cache = None
            self._cache_version += 1

    @contextmanager
    def session(self) -> Iterator[DiscogsShop]:
        """One store transaction over the shop; the listing cache is dropped once it has committed."""
        try:
            with self.sandbox.store.transaction() as tx:
                yield DiscogsShop(tx, self.options, utcnow())
        finally:
            self._invalidate()

    def all_listings(self) -> list[Record]:
        """Every stored listing (read-only: callers must not change the dicts)."""
        with self._cache_lock:
            if self._cache is not None:
                return self._cache
            version = self._cache_version
        with self.sandbox.store.transaction() as tx:
            loaded = tx.list("listings")
        with self._cache_lock:
            if self._cache_version == version:
                self._cache = loaded
        return loaded

    # Control API ---------------------------------------------------------------------------------

    def _control_listing(self, shop: DiscogsShop, listing_id: Any) -> Record:
        record = shop.listing(int(listing_id)) if str(listing_id).isdigit() else None
        if record is None:
            raise ControlError(404, "not_found", f"no listing {listing_id}")
        return record

    def purchase(self, base_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        buyer_index = body.get("buyer_index")
        with self.session() as shop:
            listing = self._control_listing(shop, body["listing_id"])
            order = shop.purchase(
                listing,
                buyer_index=buyer_index if isinstance(buyer_index, int) else None,
                paid=body.get("paid", True) is not False,
            )
        return {
            "order": render_order(order, base_url, self.options),
            "listing": render_listing(listing, base_url, self.options, owner=True),
        }

    def edit_listing(self, base_url: str, listing_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self.session() as shop:
            record = shop.seller_edit(self._control_listing(shop, listing_id), changes)
        return {"listing": render_listing(record, base_url, self.options, owner=True)}

    def update_order(self, base_url: str, order_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        with self.session() as shop:
            order = shop.order(order_id)
            if order is None:
                raise ControlError(404, "not_found", f"no order {order_id}")
            shop.update_order(order, changes)
        return {"order": render_order(order, base_url, self.options)}

    # Web stand-ins: the listing page (``uri``) and cover images -----------------------------------

    def _web_listing(self, request: Request, listing_id: str) -> HTMLResponse:
        base_url = str(request.base_url).rstrip("/")
        with self.session() as shop:
            record = shop.listing(int(listing_id)) if listing_id.isdigit() else None
        if record is None or record["status"] == "Deleted":
            return HTMLResponse("<h1>Listing not found</h1>", status_code=404)
        body = render_listing(record, base_url, self.options, owner=False)
        release = body["release"]
        page = (
            f"<!doctype html><title>{html.escape(release['description'])} | Discogs sandbox</title>"
            f"<p><em>Discogs sandbox: a local stand-in, not discogs.com.</em></p>"
            f"<h1>{html.escape(release['description'])}</h1>"
            f"<p><strong>{html.escape(body['original_price']['formatted'])}</strong> &middot; "
            f"{html.escape(body['status'])} &middot; Media: {html.escape(body['condition'])} &middot; "
            f"Sleeve: {html.escape(body['sleeve_condition'])}</p>"
            f'<img src="{html.escape(release["thumbnail"])}" width="150" alt="">'
            f"<p>{html.escape(body['comments'])}</p>"
        )
        return HTMLResponse(page)

    def _image(self, name: str) -> Response:
        # R-<release id>-<size>.svg: a plain cover with the release's artist and title.
        if name.startswith("avatar-"):
            avatar = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96"><circle cx="48" cy="48" r="48" fill="#888"/></svg>'
            return Response(avatar, media_type="image/svg+xml")
        parts = name.removesuffix(".svg").split("-")
        if len(parts) != 3 or parts[0] != "R" or not parts[1].isdigit() or not parts[2].isdigit():
            return Response(status_code=404)
        release = catalogue.release(int(parts[1]))
        size = min(int(parts[2]), 1200)
        hue = int(parts[1]) * 37 % 360
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 600 600">'
            f'<rect width="600" height="600" fill="hsl({hue},45%,35%)"/>'
            f'<circle cx="300" cy="300" r="230" fill="#111"/><circle cx="300" cy="300" r="70" fill="#eee"/>'
            f'<text x="300" y="560" font-size="34" fill="#fff" text-anchor="middle">'
            f"{html.escape(release.album.artist)}</text>"
            f'<text x="300" y="60" font-size="34" fill="#fff" text-anchor="middle">'
            f"{html.escape(release.album.title)}</text></svg>"
        )
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


class DiscogsGate:
    """In front of the API routes: User-Agent check, moving-window rate limit, rate-limit headers."""

    def __init__(self, app: ASGIApp, platform: DiscogsSandbox) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sandbox = self.platform.sandbox
        if scope["type"] != "http" or not sandbox.is_platform_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        options = self.platform.options
        if options.require_user_agent and not headers.get("user-agent", "").strip():
            # Discogs blocks such requests without a word (platform_apis.md section 4: "empty response").
            refusal = (
                error_response(403, USER_AGENT_REQUIRED)
                if options.user_agent_refusal == "message"
                else Response(status_code=403)
            )
            await refusal(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        authenticated = bool(headers.get("authorization")) or any(
            f"{name}=" in query for name in ("token", "key", "secret")
        )
        client = scope.get("client") or ("unknown", 0)
        key = f"{client[0]}:{'auth' if authenticated else 'anon'}"
        limit = options.rate_limit if authenticated else options.rate_limit_unauthenticated
        decision = self.platform.window.hit(key, limit, time.monotonic())
        if not decision.allowed:
            await error_response(429, RATE_LIMIT_MESSAGE, decision.headers())(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                mutable = MutableHeaders(scope=message)
                for name, value in decision.headers().items():
                    mutable[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
