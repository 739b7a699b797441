"""The site's pages, form posts and AJAX endpoints, on the real site's paths, plus the Cloudflare and
maintenance gate in front of them. Facts and sources: docs/channels/vintage_and_rare.md."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import utcnow
from riff_sandbox.vintage_and_rare import cloudflare, pages
from riff_sandbox.vintage_and_rare.consts import (
    BRAND_AJAX_PATHS,
    CHALLENGE_TRACE_PATH,
    CHALLENGE_VERIFY_PATH,
    CLEARANCE_COOKIE,
    EXPORT_COLUMNS,
    MAX_IMAGES,
    SELLER_USER_ID,
    SESSION_COOKIE,
    SHOP_SLUG,
)
from riff_sandbox.vintage_and_rare.site import FormErrors, FormInput, Record, VintageAndRareSite, in_window

if TYPE_CHECKING:
    from riff_sandbox.vintage_and_rare.platform import VintageAndRareSandbox

EXPORT_PAGE_PATH = "/instruments/export_inventory"
EXPORT_CSV_PATH = "/instruments/export_inventory/export_inventory"
EXPORT_CHUNK_ROWS = 100
# A 1x1 grey JPEG served for seeded images (they have no stored bytes).
PLACEHOLDER_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
    "141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100"
    "ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000"
    "017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a"
    "3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293949596"
    "9798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2"
    "f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def _cookies(scope: Scope) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for key, value in scope["headers"]:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, sep, content = part.strip().partition("=")
                if sep:
                    cookies[name] = content
    return cookies


class GateMiddleware:
    """Cloudflare first (it sits in front of the origin), then the origin's nightly maintenance."""

    def __init__(self, app: ASGIApp, platform: VintageAndRareSandbox) -> None:
        self.app = app
        self.platform = platform

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/_sandbox", "/cdn-cgi/")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        response = await anyio.to_thread.run_sync(self._gate, headers, _cookies(scope))
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    def _gate(self, headers: dict[str, str], cookies: dict[str, str]) -> Response | None:
        options = self.platform.runtime
        now = utcnow()
        if options.cloudflare:
            user_agent = headers.get("user-agent", "")
            reason = cloudflare.flag_reason(headers)
            with self.platform.sandbox.store.transaction() as tx:
                valid = cloudflare.clearance_valid(tx, cookies.get(CLEARANCE_COOKIE), user_agent, now)
                if reason is not None or not valid:
                    nonce = cloudflare.new_nonce(tx, user_agent, now)
                    return HTMLResponse(
                        cloudflare.challenge_page(nonce, reason),
                        status_code=403,
                        headers={
                            "cf-mitigated": "challenge",
                            "Cache-Control": "no-store",
                            "Server": "cloudflare",
                        },
                    )
        if options.maintenance_now or in_window(options.maintenance_window_utc, now):
            return HTMLResponse(pages.maintenance_page(), status_code=503)
        return None


def build_router(platform: VintageAndRareSandbox) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    store = platform.sandbox.store

    def site_session(request: Request, tx: Transaction) -> tuple[VintageAndRareSite, Record | None]:
        site = platform.site(tx)
        return site, site.session(request.cookies.get(SESSION_COOKIE))

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", status_code=302)

    # Cloudflare endpoints (never challenged) --------------------------------------------------------

    @router.get(CHALLENGE_TRACE_PATH)
    def trace(request: Request) -> PlainTextResponse:
        host = request.url.hostname or ""
        return PlainTextResponse(f"fl=sandbox\nh={host}\nvisit_scheme={request.url.scheme}\nhttp=http/1.1\n")

    @router.post(CHALLENGE_VERIFY_PATH)
    async def verify(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        if not platform.runtime.detect_webdriver and isinstance(body, dict):
            body["webdriver"] = False
        headers = {k.lower(): v for k, v in request.headers.items()}

        def run() -> tuple[dict[str, Any] | None, str | None]:
            with store.transaction() as tx:
                return cloudflare.verify(
                    tx, body if isinstance(body, dict) else {}, headers, utcnow(),
                    platform.runtime.clearance_ttl_seconds,
                )  # fmt: skip

        clearance, reason = await anyio.to_thread.run_sync(run)
        if clearance is None:
            return PlainTextResponse(reason or "failed", status_code=403)
        return Response(
            json.dumps({"value": clearance["value"], "expires": clearance["expires"]}),
            media_type="application/json",
        )

    # Public pages ------------------------------------------------------------------------------------

    @router.get("/")
    def home(request: Request) -> HTMLResponse:
        with store.transaction() as tx:
            _, session = site_session(request, tx)
        return HTMLResponse(pages.home_page(session is not None, session["username"] if session else None))

    @router.get("/login")
    def login_form() -> HTMLResponse:
        return HTMLResponse(pages.login_page())

    @router.post("/do_login")
    async def do_login(request: Request) -> Response:
        form = await request.form()
        username = str(form.get("username") or "")
        password = str(form.get("pass") or "")

        def run() -> str | None:
            with store.transaction() as tx:
                site = platform.site(tx)
                site.logout(request.cookies.get(SESSION_COOKIE))
                return site.login(username, password)

        session_id = await anyio.to_thread.run_sync(run)
        if session_id is None:
            return HTMLResponse(pages.login_page("Invalid username or password."), status_code=200)
        response = RedirectResponse("/account", status_code=302)
        response.set_cookie(SESSION_COOKIE, session_id, path="/", httponly=True, samesite="lax")
        return response

    @router.get("/logout")
    def logout(request: Request) -> Response:
        with store.transaction() as tx:
            platform.site(tx).logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/", status_code=302)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/product/{item_id}")
    def product(request: Request, item_id: str) -> HTMLResponse:
        with store.transaction() as tx:
            record = platform.site(tx).item(item_id)
        if record is None:
            return HTMLResponse(pages.not_found_page(), status_code=404)
        return HTMLResponse(pages.product_page(record, base_url_of(request)))

    @router.get("/instruments/show")
    def show(id: str = "") -> Response:  # noqa: A002 - the site's query parameter
        return RedirectResponse(f"/product/{id}", status_code=301)

    @router.get("/uploads/products/{shop}/{media_id}/original.jpg")
    def media(shop: str, media_id: int) -> Response:
        if shop != SHOP_SLUG:
            return HTMLResponse(pages.not_found_page(), status_code=404)
        with store.transaction() as tx:
            data = platform.site(tx).media_bytes(media_id)
        return Response(data or PLACEHOLDER_JPEG, media_type="image/jpeg")

    # Account pages -----------------------------------------------------------------------------------

    @router.get("/account")
    def account(request: Request) -> Response:
        with store.transaction() as tx:
            site, session = site_session(request, tx)
            if session is None:
                return to_login()
            count = len(site.items())
        return HTMLResponse(pages.account_page(session["username"], count))

    @router.get("/account/items")
    def items(request: Request, added: str = "") -> Response:
        with store.transaction() as tx:
            _, session = site_session(request, tx)
        if session is None:
            return to_login()
        return HTMLResponse(pages.items_page(session["username"], added == "1"))

    @router.get(EXPORT_PAGE_PATH)
    def export_page(request: Request) -> Response:
        with store.transaction() as tx:
            site, session = site_session(request, tx)
            if session is None:
                return to_login()
            session["export_visited"] = True
            site.save_session(session)
        return HTMLResponse(pages.export_page(session["username"]))

    @router.get(EXPORT_CSV_PATH)
    async def export_csv(request: Request) -> Response:
        started = time.monotonic()
        base_url = base_url_of(request)
        referer = request.headers.get("referer", "")
        options = platform.runtime

        def run() -> tuple[Response | None, list[str]]:
            with store.transaction() as tx:
                site, session = site_session(request, tx)
                if session is None:
                    return to_login(), []
                if options.require_export_referer and (
                    not session.get("export_visited")
                    or urlsplit(referer).path.rstrip("/") != EXPORT_PAGE_PATH
                ):
                    return RedirectResponse(EXPORT_PAGE_PATH, status_code=302), []
                return None, [platform.export_line(site, r, base_url) for r in site.exported_items()]

        refusal, rows = await anyio.to_thread.run_sync(run)
        if refusal is not None:
            return refusal
        remaining = max(0.0, options.export_seconds - (time.monotonic() - started))
        chunks = max(1, (len(rows) + EXPORT_CHUNK_ROWS - 1) // EXPORT_CHUNK_ROWS)

        async def stream() -> AsyncIterator[bytes]:
            yield csv_line([*EXPORT_COLUMNS, ""]).encode("utf-8")
            for index in range(chunks):
                chunk = rows[index * EXPORT_CHUNK_ROWS : (index + 1) * EXPORT_CHUNK_ROWS]
                yield "".join(chunk).encode("utf-8")
                if remaining:
                    await asyncio.sleep(remaining / chunks)

        return StreamingResponse(
            stream(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="inventory_export.csv"'},
        )

    # The add/edit form -------------------------------------------------------------------------------

    @router.get("/instruments/add_edit_item")
    def add_form(request: Request) -> Response:
        return form_page(request, None)

    @router.get("/instruments/add_edit_item/{item_id}")
    def edit_form(request: Request, item_id: str) -> Response:
        return form_page(request, item_id)

    def form_page(request: Request, item_id: str | None) -> Response:
        with store.transaction() as tx:
            site, session = site_session(request, tx)
            if session is None:
                return to_login()
            item = site.item(item_id) if item_id is not None else None
            if item_id is not None and item is None:
                return HTMLResponse(pages.not_found_page(), status_code=404)
            token = site.new_form_token(session)
        values = pages.form_values(item) if item else dict(NEW_ITEM_DEFAULTS)
        return HTMLResponse(
            pages.item_form_page(
                username=session["username"],
                form_token=token,
                values=values,
                item=item,
                base_url=base_url_of(request),
                show_cookie_banner=request.cookies.get(pages.CONSENT_COOKIE) is None,
            )
        )

    @router.post("/instruments/add_edit_item")
    async def add_item(request: Request) -> Response:
        return await submit(request, None)

    @router.post("/instruments/add_edit_item/{item_id}")
    async def edit_item(request: Request, item_id: str) -> Response:
        return await submit(request, item_id)

    async def submit(request: Request, item_id: str | None) -> Response:
        started = time.monotonic()
        form = await _form_input(request)
        base_url = base_url_of(request)

        def run() -> Response:
            with store.transaction() as tx:
                site, session = site_session(request, tx)
                if session is None:
                    return to_login()
                existing = site.item(item_id) if item_id is not None else None
                if item_id is not None and existing is None:
                    return HTMLResponse(pages.not_found_page(), status_code=404)
                errors: list[str] = []
                if not site.consume_form_token(session, form.first("form_token")):
                    errors.append("Your session has expired. Please reload the page and try again.")
                elif form.first("user_id") != str(SELLER_USER_ID) or (
                    existing is not None and form.first("item_id") != str(existing["id"])
                ):
                    errors.append("This form does not belong to your account.")
                if not errors:
                    try:
                        if existing is None:
                            record = site.create_item(form)
                            if platform.runtime.id_in_redirect:
                                return RedirectResponse(
                                    f"/instruments/add_edit_item/{record['id']}?created=1", status_code=302
                                )
                            return RedirectResponse("/account/items?added=1", status_code=302)
                        site.save_item(site.apply_form(form, existing))
                        return RedirectResponse(
                            f"/instruments/add_edit_item/{existing['id']}?saved=1", status_code=302
                        )
                    except FormErrors as exc:
                        errors = exc.messages
                token = site.new_form_token(session)
            values = pages.submitted_values(form.values)
            if existing is not None:
                values["media"] = existing.get("media") or []
            return HTMLResponse(
                pages.item_form_page(
                    username=session["username"], form_token=token, values=values, item=existing,
                    errors=errors, base_url=base_url, show_cookie_banner=False,
                )
            )  # fmt: skip

        response = await anyio.to_thread.run_sync(run)
        if item_id is None and platform.runtime.create_seconds:
            await asyncio.sleep(max(0.0, platform.runtime.create_seconds - (time.monotonic() - started)))
        return response

    # AJAX ------------------------------------------------------------------------------------------

    def ajax_refusal(request: Request) -> Response | None:
        """The brand endpoints answer only what looks like the site's own jQuery call."""
        site_origin = base_url_of(request)
        origin = request.headers.get("origin", "")
        referer = request.headers.get("referer", "")
        if request.headers.get("x-requested-with") != "XMLHttpRequest":
            return PlainTextResponse("Forbidden", status_code=403)
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return PlainTextResponse("Forbidden", status_code=403)
        if origin.rstrip("/") != site_origin and not referer.startswith(site_origin + "/"):
            return PlainTextResponse("Forbidden", status_code=403)
        return None

    @router.post(BRAND_AJAX_PATHS[0])
    async def check_brand_exists(request: Request) -> Response:
        refusal = ajax_refusal(request)
        if refusal is not None:
            return refusal
        name = str((await request.form()).get("brand_name") or "")
        with store.transaction() as tx:
            brand_id = platform.site(tx).brand_id(name)
        return PlainTextResponse(f'"{brand_id or 0}"', media_type="text/html")

    @router.post(BRAND_AJAX_PATHS[1])
    async def suggest_brands(request: Request) -> Response:
        refusal = ajax_refusal(request)
        if refusal is not None:
            return refusal
        term = str((await request.form()).get("term") or "")
        with store.transaction() as tx:
            suggestions = platform.site(tx).suggest_brands(term)
        return Response(json.dumps(suggestions), media_type="application/json")

    async def item_action(request: Request, action: str) -> Response:
        form = await request.form()
        product_id = str(form.get("product_id") or "")

        def run() -> Response:
            with store.transaction() as tx:
                site, session = site_session(request, tx)
                if session is None:
                    return to_login()
                record = site.item(product_id)
                if record is None:
                    return PlainTextResponse("false")
                if action == "sold":
                    site.mark_sold(record)
                    done = True
                elif action == "restore":
                    done = site.restore_from_sold(record)
                else:
                    site.delete(record)
                    done = True
            return PlainTextResponse("true" if done else "false")

        return await anyio.to_thread.run_sync(run)

    @router.post("/ajax/mark_as_sold/{nonce}")
    async def mark_as_sold(request: Request, nonce: str) -> Response:
        return await item_action(request, "sold")

    @router.post("/ajax/restore_from_sold/{nonce}")
    async def restore_from_sold(request: Request, nonce: str) -> Response:
        return await item_action(request, "restore")

    @router.post("/ajax/delete_item")
    async def delete_item(request: Request) -> Response:
        return await item_action(request, "delete")

    @router.post("/ajax/dropzone_upload/{user_id}")
    async def dropzone_upload(request: Request, user_id: str) -> Response:
        form = await request.form()
        files = [
            (v.filename or "image.jpg", await v.read())
            for _, v in form.multi_items()
            if isinstance(v, UploadFile)
        ]

        def run() -> Response:
            with store.transaction() as tx:
                site, session = site_session(request, tx)
                if session is None:
                    return to_login()
                if user_id != str(SELLER_USER_ID):
                    return Response(
                        json.dumps([{"success": False, "error": "Wrong user"}]), media_type="application/json"
                    )
                stored = [
                    {k: v for k, v in site.store_upload(name, data).items() if k != "user_id"}
                    for name, data in files
                ]
            return Response(json.dumps(stored), media_type="application/json")

        return await anyio.to_thread.run_sync(run)

    return router


NEW_ITEM_DEFAULTS: dict[str, Any] = {
    "processing_time": "3",
    "processing_unit": "Days",
    "available_for_shipment": True,
    "in_inventory": True,
    "show_vat": True,
    "shipping_fees": None,  # the site's default fees per region
}


async def _form_input(request: Request) -> FormInput:
    form = await request.form(max_files=MAX_IMAGES + 5, max_fields=2000)
    values: list[tuple[str, str]] = []
    files: dict[str, tuple[str, bytes]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = await value.read()
            if data:
                files[key] = (value.filename or f"{key}.jpg", data)
        else:
            values.append((key, str(value)))
    return FormInput(values=values, files=files)
