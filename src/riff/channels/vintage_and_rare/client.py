"""The V&R website, HTTP only: one method per page, form or AJAX endpoint. No mapping, no database.

Every call goes through ``_call``, which handles what any page of the site can answer:

- a **Cloudflare challenge** (HTTP 403/503 with ``cf-mitigated: challenge`` or the challenge page): a real
  browser passes it once (``browser.harvest``), its cookies join the jar, the request is sent again;
- the **nightly maintenance** page (503): ``Transient`` with ``retry_after`` = the end of the declared window
  (or 15 minutes for an unplanned one), so the job engine reschedules the job instead of failing it; the
  declared window is also checked before any request is sent;
- a **redirect to the login page** (the PHP session expired): log in with the credentials, send again;
- other statuses through the channel's error table (``consts.ERROR_MAPPING``).

Reads are retried inline a couple of times on transient failures; form posts are never re-sent (a second
add-form post would list the item twice).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from riff.channels.errors import (
    AuthExpired,
    ChannelError,
    ErrorKey,
    ErrorResolution,
    NotFound,
    RateLimited,
    Rejected,
    ResponseAction,
    Transient,
    resolve,
)
from riff.channels.http import RateLimiter, RequestCounters
from riff.channels.vintage_and_rare import browser, consts, forms
from riff.channels.vintage_and_rare.brands import normalize_suggestions, parse_brand_answer
from riff.channels.vintage_and_rare.cookies import CookieJar
from riff.channels.vintage_and_rare.mapping import seconds_until_window_end
from riff.channels.vintage_and_rare.session import Backend, FormData, Upload, VRResponse, VRSession
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings
from riff.core.clock import utcnow
from riff.core.logging import get_logger

log = get_logger(__name__)

CHALLENGE_MARKERS = (
    "<title>just a moment",
    "/cdn-cgi/challenge-platform",
    "cf-chl",
    "attention required! | cloudflare",
)
MAINTENANCE_MARKERS = ("maintenance",)
LOGGED_IN_MARKERS = ("sign out", "logout", "log out")
INLINE_RETRY_SECONDS = (0.5, 1.5)


class SiteMaintenance(Transient):
    """V&R is down for maintenance: retry after ``retry_after`` (the end of the window), never elsewhere."""


def is_challenge(response: VRResponse) -> bool:
    if (response.header("cf-mitigated") or "").lower() == "challenge":
        return True
    if response.status in (403, 429, 503):
        head = response.content[:8192].decode("utf-8", "replace").lower()
        return any(marker in head for marker in CHALLENGE_MARKERS)
    return False


def is_maintenance(response: VRResponse) -> bool:
    if response.status != 503 or is_challenge(response):
        return False
    return forms.has_text(response.content[:16384], MAINTENANCE_MARKERS)


def is_login_redirect(response: VRResponse) -> bool:
    if not response.is_redirect:
        return False
    path = urlsplit(response.location or "").path.rstrip("/")
    return path in (consts.LOGIN_PAGE_PATH, consts.LOGIN_PATH)


class VintageAndRareClient:
    def __init__(
        self,
        *,
        base_url: str,
        settings: VintageAndRareSettings,
        jar: CookieJar,
        username: str | None,
        password: str | None,
        backend: Backend = "auto",
        maintenance_window: tuple[dt.time, dt.time] | None = consts.MAINTENANCE_WINDOW_UTC,
        rate_limiter: RateLimiter | None = None,
        counters: RequestCounters | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        error_mapping: dict[ErrorKey, ErrorResolution] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.jar = jar
        self.username = username
        self.password = password
        self.maintenance_window = maintenance_window
        self.error_mapping = error_mapping or consts.ERROR_MAPPING
        self.session = VRSession(
            self.base_url,
            jar,
            user_agent=settings.user_agent,
            backend=backend,
            rate_limiter=rate_limiter,
            counters=counters,
            transport=transport,
        )
        self._bootstrap_lock = asyncio.Lock()
        self._login_lock = asyncio.Lock()
        self.bootstraps = 0  # how many times this client needed a browser (tests, logs)
        self.logins = 0

    async def aclose(self) -> None:
        await self.session.aclose()

    # --- the shared request path ----------------------------------------------------------------------

    def check_maintenance(self) -> None:
        remaining = seconds_until_window_end(self.maintenance_window, utcnow())
        if remaining is not None:
            raise SiteMaintenance(
                f"V&R is in its nightly maintenance window; retrying in {remaining / 60:.0f} minutes",
                channel=consts.SLUG,
                retry_after=remaining + 60,
            )

    def has_session(self) -> bool:
        cookie = self.jar.get(consts.SESSION_COOKIE, self.session.host)
        return cookie is not None and not cookie.expired(utcnow())

    async def _call(
        self,
        method: str,
        path: str,
        *,
        template: str | None = None,
        data: FormData | None = None,
        uploads: Sequence[Upload] | None = None,
        multipart: bool = False,
        ajax: bool = False,
        referer: str | None = None,
        timeout_seconds: float | None = None,
        stream_to: Path | None = None,
        login: bool = True,
        attempts: int = 3,
        bootstrap: bool = True,
    ) -> VRResponse:
        """One logical request, through Cloudflare, maintenance and login. ``attempts`` > 1 only for
        requests that are safe to send again; ``bootstrap=False`` answers a challenge with ``Transient``
        instead of starting a browser (calls with a budget of seconds, like the brand check)."""
        self.check_maintenance()
        template = template or path.split("?", 1)[0]
        if login and not self.has_session():
            await self.login()
        bootstrapped = relogged = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.session.request(
                    method, path, template=template, data=data, uploads=uploads, multipart=multipart,
                    ajax=ajax, referer=referer, timeout_seconds=timeout_seconds, stream_to=stream_to,
                )  # fmt: skip
            except Transient as exc:
                if attempt < attempts:
                    await asyncio.sleep(INLINE_RETRY_SECONDS[min(attempt, len(INLINE_RETRY_SECONDS)) - 1])
                    continue
                exc.processed_unknown = attempts == 1 and not isinstance(exc.__cause__, httpx.ConnectError)  # type: ignore[attr-defined]
                raise
            if response.saved_to is not None and (response.status >= 300 or not _is_csv(response)):
                response.content = response.saved_to.read_bytes()[:65536]
            if is_challenge(response):
                if not bootstrap:
                    raise Transient(
                        "Cloudflare challenged the request", channel=consts.SLUG, status_code=response.status,
                        endpoint=f"{method} {template}",
                    )  # fmt: skip
                if bootstrapped:
                    raise Transient(
                        "Cloudflare still challenges after a browser passed it (a bot score on this client?); "
                        "will retry later",
                        channel=consts.SLUG,
                        status_code=response.status,
                        endpoint=f"{method} {template}",
                        retry_after=15 * 60.0,
                    )
                bootstrapped = True
                await self.bootstrap_cloudflare()
                continue
            if is_maintenance(response):
                remaining = seconds_until_window_end(self.maintenance_window, utcnow())
                raise SiteMaintenance(
                    "V&R answered with its maintenance page",
                    channel=consts.SLUG,
                    status_code=503,
                    endpoint=f"{method} {template}",
                    retry_after=(remaining + 60)
                    if remaining is not None
                    else consts.UNPLANNED_MAINTENANCE_RETRY_SECONDS,
                )
            if login and is_login_redirect(response):
                if relogged:
                    raise AuthExpired(
                        "V&R sent RIFF back to the login page right after logging in", channel=consts.SLUG
                    )
                relogged = True
                await self.login(force=True)
                continue
            resolution = resolve(self.error_mapping, httpx.Response(response.status))
            if resolution.action in (ResponseAction.SUCCESS, ResponseAction.IGNORE):
                return response
            error = (resolution.error or ChannelError)(
                _message(response),
                channel=consts.SLUG,
                status_code=response.status,
                retry_after=_retry_after(response),
                endpoint=f"{method} {template}",
            )
            if isinstance(error, RateLimited) and self.session.rate_limiter is not None:
                self.session.rate_limiter.penalize(consts.SLUG, error.retry_after or 1.0)
            if error.retryable and attempt < attempts and (error.retry_after or 0) <= 5:
                await asyncio.sleep(error.retry_after or INLINE_RETRY_SECONDS[min(attempt, 2) - 1])
                continue
            if attempts == 1 and response.status >= 500:
                error.processed_unknown = True  # type: ignore[attr-defined]
            raise error

    async def bootstrap_cloudflare(self) -> None:
        """Pass the challenge in a real browser and take its cookies (cf_clearance) into the jar."""
        async with self._bootstrap_lock:
            log.info("vintage_and_rare.cloudflare.bootstrap", base_url=self.base_url)
            cookies = await asyncio.to_thread(
                browser.harvest, self.settings, self.base_url, self.settings.user_agent, self.jar.cookies()
            )
            self.jar.update(cookies)
            self.bootstraps += 1

    async def harvest_cookies(self, *, log_in: bool = True) -> int:
        """``riff vr harvest-cookies``: a browser passes Cloudflare (and logs in); returns the cookie count."""
        credentials = {"username": self.username or "", "password": self.password or ""} if log_in else None
        async with self._bootstrap_lock:
            cookies = await asyncio.to_thread(
                browser.harvest, self.settings, self.base_url, self.settings.user_agent, self.jar.cookies(),
                credentials,
            )  # fmt: skip
            self.jar.update(cookies)
        return len(cookies)

    # --- account ----------------------------------------------------------------------------------------

    async def login(self, *, force: bool = False) -> None:
        """``POST /do_login`` (username, pass, open_where=header): a new PHPSESSID and a redirect to the
        account; wrong credentials show the login page again with the site's message."""
        async with self._login_lock:
            if not force and self.has_session():
                return
            if not self.username or not self.password:
                raise AuthExpired(
                    "no V&R credentials: set VINTAGE_AND_RARE_USERNAME and VINTAGE_AND_RARE_PASSWORD, "
                    "or the account's username/password secrets",
                    channel=consts.SLUG,
                )
            self.jar.remove({consts.SESSION_COOKIE})
            response = await self._call(
                "POST",
                consts.LOGIN_PATH,
                data=[("username", self.username), ("pass", self.password), ("open_where", "header")],
                referer=self.base_url + "/",
                login=False,
                attempts=1,
            )
            location = urlsplit(response.location or "").path
            if (response.is_redirect and location.startswith(consts.ACCOUNT_PATH)) or (
                response.status == 200 and forms.has_text(response.content, LOGGED_IN_MARKERS)
            ):
                self.logins += 1
                log.info("vintage_and_rare.login.ok")
                return
            errors = forms.page_errors(response.content)
            raise AuthExpired(
                "V&R refused the username/password"
                + (f": {errors[0]}" if errors else "")
                + ". Save new credentials with `riff channels set <id> --secret username --secret password` "
                "(or set VINTAGE_AND_RARE_USERNAME / VINTAGE_AND_RARE_PASSWORD)",
                channel=consts.SLUG,
                status_code=response.status,
            )

    async def account_page(self) -> VRResponse:
        return await self._call("GET", consts.ACCOUNT_PATH)

    async def logged_in(self) -> bool:
        """Whether the session in the jar is alive (no login attempt)."""
        response = await self._call("GET", consts.ACCOUNT_PATH, login=False)
        return response.status == 200 and forms.has_text(response.content, LOGGED_IN_MARKERS)

    # --- the add/edit form ----------------------------------------------------------------------------

    async def get_add_form(self, *, quiet: bool = False) -> forms.HtmlForm:
        """The blank add form. ``quiet``: only if the session, the clearance and the site are fine right now
        (no login, no browser, no retry): a form loaded ahead of its create (``adapter.NEXT_FORMS``)."""
        response = await self._call(
            "GET", consts.ADD_FORM_PATH, login=not quiet, bootstrap=not quiet, attempts=1 if quiet else 3
        )
        return forms.parse_form(response.content, form_id="add_edit_item_form")

    async def get_edit_form(self, item_id: str) -> forms.HtmlForm:
        path = consts.EDIT_FORM_PATH.format(id=item_id)
        response = await self._call("GET", path, template=consts.EDIT_FORM_PATH)
        if response.status != 200:
            raise NotFound(f"V&R item {item_id} has no edit form", channel=consts.SLUG)
        return forms.parse_form(response.content, form_id="add_edit_item_form")

    async def submit_item_form(
        self, path: str, values: FormData, uploads: Sequence[Upload] = (), *, template: str | None = None
    ) -> VRResponse:
        """``POST /instruments/add_edit_item[/{id}]`` (multipart). Sent once: a redirect is success, the form
        again is a refusal (``forms.page_errors``). A login redirect comes back as is (the form token was
        bound to the lost session: the caller starts over)."""
        return await self._call(
            "POST",
            path,
            template=template or path,
            data=values,
            uploads=uploads,
            multipart=True,
            referer=self.session.url(path),
            login=False,
            attempts=1,
        )

    async def dropzone_upload(self, user_id: str, uploads: Sequence[Upload]) -> list[dict[str, Any]]:
        """``POST /ajax/dropzone_upload/{user_id}`` (``filename[0]``): one upload per call, as Dropzone does."""
        stored: list[dict[str, Any]] = []
        for upload in uploads:
            response = await self._call(
                "POST",
                consts.DROPZONE_PATH.format(user_id=user_id),
                template=consts.DROPZONE_PATH,
                uploads=[Upload("filename[0]", upload.filename, upload.data, upload.content_type)],
                ajax=True,
                attempts=1,
            )
            body = _json(response)
            items = body if isinstance(body, list) else [body]
            for item in items:
                if not isinstance(item, dict) or not item.get("success"):
                    raise Rejected(
                        f"V&R refused the image upload: {str(item)[:200]}",
                        channel=consts.SLUG,
                        field="images",
                    )
                stored.append(item)
        return stored

    # --- item actions (AJAX) --------------------------------------------------------------------------

    async def _item_action(self, path: str, template: str, item_id: str) -> bool | None:
        response = await self._call(
            "POST", path, template=template, data=[("product_id", item_id)], ajax=True,
            referer=self.session.url("/account/items"), attempts=2,
        )  # fmt: skip
        answer = response.text.strip().strip('"').lower()
        if answer in ("", "true", "1", "ok"):
            return True  # the original treats an empty answer as success
        if answer in ("false", "0"):
            return False
        return None

    async def mark_as_sold(self, item_id: str) -> bool | None:
        nonce = secrets.randbelow(10**9)
        return await self._item_action(
            consts.MARK_SOLD_PATH.format(nonce=nonce), consts.MARK_SOLD_PATH, item_id
        )

    async def restore_from_sold(self, item_id: str) -> bool | None:
        nonce = secrets.randbelow(10**9)
        return await self._item_action(consts.RESTORE_PATH.format(nonce=nonce), consts.RESTORE_PATH, item_id)

    async def delete_item(self, item_id: str) -> bool | None:
        return await self._item_action(consts.DELETE_PATH, consts.DELETE_PATH, item_id)

    async def product_exists(self, item_id: str) -> bool:
        path = consts.PRODUCT_PATH.format(id=item_id)
        try:
            response = await self._call("GET", path, template=consts.PRODUCT_PATH, login=False)
        except NotFound:
            return False
        return response.status == 200

    # --- brands (AJAX) ----------------------------------------------------------------------------------

    async def check_brand_exists(self, brand: str, *, timeout_seconds: float | None = None) -> str | None:
        """``POST /ajax/check_brand_exists`` (``brand_name``): the brand id, or None for ``"0"``."""
        response = await self._call(
            "POST", consts.CHECK_BRAND_PATH, data=[("brand_name", brand)], ajax=True,
            referer=self.session.url(consts.ADD_FORM_PATH), timeout_seconds=timeout_seconds, login=False, attempts=1,
            bootstrap=False,
        )  # fmt: skip
        return parse_brand_answer(response.text)

    async def suggest_brands(self, term: str) -> list[dict[str, str]]:
        """``POST /ajax/get_suggested_brands_name`` (``term``): the autocomplete list."""
        response = await self._call(
            "POST", consts.SUGGEST_BRANDS_PATH, data=[("term", term)], ajax=True,
            referer=self.session.url(consts.ADD_FORM_PATH), login=False, attempts=2,
        )  # fmt: skip
        return normalize_suggestions(_json(response))

    # --- the inventory export ---------------------------------------------------------------------------

    async def download_inventory(self, directory: Path | None = None) -> Path:
        """The export page first (the CSV checks the session visited it, by Referer), then the CSV streamed
        to a file within ``EXPORT_TIMEOUT_SECONDS``. The caller deletes the file."""
        await self._call("GET", consts.EXPORT_PAGE_PATH)
        path = await asyncio.to_thread(_temp_file, directory)
        try:
            response = await self._call(
                "GET",
                consts.EXPORT_CSV_PATH,
                referer=self.session.url(consts.EXPORT_PAGE_PATH),
                timeout_seconds=consts.EXPORT_TIMEOUT_SECONDS,
                stream_to=path,
                attempts=1,
            )
            if response.is_redirect or not _is_csv(response):
                raise Transient(
                    f"the V&R export answered {response.status} "
                    f"{'-> ' + (response.location or '') if response.is_redirect else 'without a CSV'}",
                    channel=consts.SLUG,
                    status_code=response.status,
                )
        except BaseException:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            raise
        return path


def _temp_file(directory: Path | None) -> Path:
    handle, name = tempfile.mkstemp(prefix="riff-vr-export-", suffix=".csv", dir=directory)
    os.close(handle)
    return Path(name)


def _is_csv(response: VRResponse) -> bool:
    content_type = (response.header("content-type") or "").lower()
    disposition = (response.header("content-disposition") or "").lower()
    return response.status == 200 and (
        "csv" in content_type or ".csv" in disposition or "octet-stream" in content_type
    )


def _json(response: VRResponse) -> Any:
    try:
        return json.loads(response.content or b"null")
    except ValueError as exc:
        raise ChannelError(
            f"V&R answered {response.status} with a body that is not JSON", channel=consts.SLUG
        ) from exc


def _message(response: VRResponse) -> str:
    errors = forms.page_errors(response.content)
    if errors:
        return "; ".join(errors)
    title = forms.page_title(response.content)
    text = title or response.text.strip()[:200]
    return f"V&R answered HTTP {response.status}" + (f": {text}" if text else "")


def _retry_after(response: VRResponse) -> float | None:
    from riff.channels.errors import parse_retry_after

    return parse_retry_after(response.header("retry-after"))
