"""The Vintage & Rare sandbox, plugged into the toolkit.

Besides the toolkit's control API it adds, under ``/_sandbox/vintage_and_rare``:

- ``GET|POST /settings``: read or change the runtime options (``VintageAndRareOptions`` but credentials);
- ``POST /clearance`` ``{"user_agent"}``: a valid ``cf_clearance`` cookie, as a harvested cookie file holds it;
- ``POST /expire-sessions``, ``POST /expire-clearances``: PHP session garbage collection / Cloudflare expiry;
- ``GET /items/{id}``, ``GET /items?external_id=``: the stored item, as the seller sees it on the site.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.platform import ControlError, SandboxPlatform
from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import utcnow
from riff_sandbox.vintage_and_rare import cloudflare, pages
from riff_sandbox.vintage_and_rare import seed as demo_seed
from riff_sandbox.vintage_and_rare.consts import CLEARANCE_COOKIE, NAME
from riff_sandbox.vintage_and_rare.routes import GateMiddleware, build_router
from riff_sandbox.vintage_and_rare.site import Record, VintageAndRareOptions, VintageAndRareSite

CONTROL_PREFIX = f"/_sandbox/{NAME}"
SELLER_EDITABLE = {
    "brand", "model", "year", "finish", "description", "price", "external_id", "sold", "deleted", "categories",
}  # fmt: skip


class VintageAndRareSandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = ""
    platform_prefixes: ClassVar[tuple[str, ...]] = ("/",)
    default_token: ClassVar[str | None] = None
    default_seed_size: ClassVar[int] = 1500
    options_model = VintageAndRareOptions
    options: VintageAndRareOptions

    def __init__(self, sandbox: Any, options: Any) -> None:
        super().__init__(sandbox, options)
        self.runtime = self.options.model_copy()
        # Rendered export lines by item id, valid while the item and the export settings are unchanged: the
        # export's slowness is ``export_seconds``, not the time to render 1,500 rows again.
        self._export_lines: dict[int, tuple[tuple[Any, ...], str]] = {}

    def export_line(self, site: VintageAndRareSite, record: Record, base_url: str) -> str:
        from riff_sandbox.vintage_and_rare.routes import csv_line

        key = (record.get("updated_at"), base_url, self.runtime.export_external_id_share)
        cached = self._export_lines.get(record["id"])
        if cached is not None and cached[0] == key:
            return cached[1]
        line = csv_line(site.export_row(record, base_url))
        self._export_lines[record["id"]] = (key, line)
        return line

    def site(self, tx: Transaction, now: datetime | None = None) -> VintageAndRareSite:
        """The site over one store transaction."""
        return VintageAndRareSite(tx, self.runtime, now or utcnow())

    # Toolkit hooks ---------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        self.runtime = self.options.model_copy()  # a reset also forgets runtime setting changes
        self._export_lines = {}
        demo_seed.seed(tx, rng, size, now)

    def router(self) -> APIRouter:
        return build_router(self)

    def install(self, app: FastAPI) -> None:
        app.add_middleware(GateMiddleware, platform=self)
        app.include_router(self._control_router())

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        return HTMLResponse(
            pages.error_page(status, message), status_code=status, headers=dict(headers or {})
        )

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        # Cloudflare's rate-limit page ("Error 1015: You are being rate limited").
        page = pages.error_page(429, "Error 1015: You are being rate limited.")
        return HTMLResponse(page, status_code=429, headers={"Retry-After": str(retry_after_seconds)})

    def token_expired_response(self) -> Response:
        # The site has no tokens: a lost PHP session sends every page to the login form.
        return RedirectResponse("/login", status_code=302)

    # Buyer and seller simulation --------------------------------------------------------------------

    def _item(self, site: VintageAndRareSite, item_id: Any) -> Record:
        record = site.item(item_id)
        if record is None:
            raise ControlError(404, "not_found", f"no item {item_id}")
        return record

    def purchase(self, base_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A buyer buys the item on the site: it is marked sold (V&R has no order API for RIFF to read)."""
        with self.sandbox.store.transaction() as tx:
            site = self.site(tx)
            record = self._item(site, body["listing_id"])
            if record.get("sold"):
                raise ControlError(409, "already_sold", f"item {record['id']} is already sold")
            site.mark_sold(record)
        return {"item": record, "url": f"{base_url}/product/{record['id']}"}

    def edit_listing(self, base_url: str, listing_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The seller edits an item on the site (``sold``/``deleted`` booleans mark it sold or delete it)."""
        unknown = set(changes) - SELLER_EDITABLE
        if unknown:
            raise ControlError(422, "invalid_edit", f"unsupported fields: {', '.join(sorted(unknown))}")
        with self.sandbox.store.transaction() as tx:
            site = self.site(tx)
            record = self._item(site, listing_id)
            for key, value in changes.items():
                if key == "deleted":
                    if value:
                        site.delete(record)
                    continue
                if key == "sold":
                    if value:
                        site.mark_sold(record)
                    else:
                        site.restore_from_sold(record)
                    continue
                record[key] = str(value) if key == "price" else value
            if not record.get("deleted"):
                site.save_item(record)
        return {"item": record}

    # Sandbox-specific control routes -----------------------------------------------------------------

    def _control_router(self) -> APIRouter:
        router = APIRouter(prefix=CONTROL_PREFIX, tags=["sandbox control"])

        @router.get("/settings")
        def get_settings() -> dict[str, Any]:
            return self.runtime.model_dump()

        @router.post("/settings")
        def set_settings(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
            if {"username", "password"} & set(body):
                raise ControlError(422, "invalid_settings", "credentials are fixed when the sandbox starts")
            merged = {**self.runtime.model_dump(), **body}
            try:
                self.runtime = VintageAndRareOptions.model_validate(merged)
            except ValueError as exc:
                raise ControlError(422, "invalid_settings", str(exc)) from None
            return self.runtime.model_dump()

        @router.post("/clearance")
        def clearance(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
            user_agent = str(body.get("user_agent") or "")
            if not user_agent:
                raise ControlError(422, "invalid_request", "user_agent is required")
            ttl = float(body.get("ttl_seconds") or self.runtime.clearance_ttl_seconds)
            with self.sandbox.store.transaction() as tx:
                record = cloudflare.issue(tx, user_agent, utcnow(), ttl)
            host = urlsplit(base_url_of(request)).hostname or "127.0.0.1"
            return {"name": CLEARANCE_COOKIE, "value": record["value"], "domain": host, "path": "/",
                    "expiry": record["expires"]}  # fmt: skip

        @router.post("/expire-sessions")
        def expire_sessions() -> dict[str, Any]:
            with self.sandbox.store.transaction() as tx:
                return {"expired": self.site(tx).expire_sessions()}

        @router.post("/expire-clearances")
        def expire_clearances() -> dict[str, Any]:
            with self.sandbox.store.transaction() as tx:
                return {"expired": cloudflare.expire_all(tx)}

        @router.get("/items/{item_id}")
        def get_item(item_id: str) -> dict[str, Any]:
            with self.sandbox.store.transaction() as tx:
                record = tx.get("items", item_id)
            if record is None:
                raise ControlError(404, "not_found", f"no item {item_id}")
            return record

        @router.get("/items")
        def find_items(external_id: str | None = None, limit: int = 50) -> dict[str, Any]:
            with self.sandbox.store.transaction() as tx:
                found = [
                    r
                    for r in self.site(tx).items()
                    if external_id is None or r.get("external_id") == external_id
                ]
            newest = sorted(found, key=lambda r: r["id"], reverse=True)[:limit]
            return {"count": len(found), "items": newest}

        return router
