"""Helpers every HTML view uses: ``render``, ``flash``, ``redirect``/``hx_redirect``, ``is_htmx``.

Full pages extend ``base.html``; HTMX partials render a template that does not extend it (usually
calling macros from ``templates/components/``). See ``templates/README.md`` for the blocks.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import jinja2
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

import riff
from riff.auth import sessions
from riff.auth.consts import SESSION_FLASH_KEY

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_URL_PREFIX = "/static"

FlashKind = Literal["info", "success", "warning", "error"]
FLASH_KINDS: frozenset[str] = frozenset({"info", "success", "warning", "error"})
# The session is a cookie (~4 KB); a runaway loop of flash() calls must not overflow it.
MAX_QUEUED_FLASHES = 5


class NavItem:
    def __init__(self, key: str, label: str, href: str) -> None:
        self.key = key
        self.label = label
        self.href = href

    def is_active(self, path: str) -> bool:
        if self.href == "/":
            return path == "/"
        return path == self.href or path.startswith(self.href + "/")


# The header navigation, in order. Pages live under these prefixes; the active one is highlighted.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("dashboard", "Dashboard", "/"),
    NavItem("inventory", "Inventory", "/inventory"),
    NavItem("orders", "Orders", "/orders"),
    NavItem("sync", "Sync", "/sync"),
    NavItem("jobs", "Jobs", "/jobs"),
    NavItem("reconciliation", "Reconciliation", "/reconciliation"),
    NavItem("research", "Research", "/research"),
    NavItem("settings", "Settings", "/settings"),
)


@functools.cache
def _static_fingerprint(path: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    except OSError:
        return riff.__version__


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: relative to the host, and cache-busting on change."""
    return f"{STATIC_URL_PREFIX}/{path}?v={_static_fingerprint(path)}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static_url=static_url, nav_items=NAV_ITEMS, app_version=riff.__version__)
    from riff.web import formatting

    formatting.install(env)
    return env


templates = Jinja2Templates(env=_environment())


# ---- request helpers --------------------------------------------------------------------------


def is_htmx(request: HTTPConnection) -> bool:
    """True for requests made by htmx (``HX-Request``), including boosted links."""
    return request.headers.get("hx-request") == "true"


def is_htmx_partial(request: HTTPConnection) -> bool:
    """An htmx request that swaps a fragment (not a boosted full-page navigation)."""
    return is_htmx(request) and request.headers.get("hx-boosted") != "true"


# The SANDBOX badge reads channel_accounts at most this often per process (every page shows it).
SANDBOX_MODE_CACHE_SECONDS = 5.0


def sandbox_mode(request: HTTPConnection) -> bool:
    """Whether marketplace calls go to local sandboxes: ``app.state.sandbox_mode`` when something set
    it; else true when any enabled channel account is a sandbox account; with no enabled account at
    all, the ``RIFF_SANDBOXES`` setting decides (``riff up`` will wire sandboxes). Cached briefly."""
    explicit = getattr(request.app.state, "sandbox_mode", None)
    if explicit is not None:
        return bool(explicit)
    now = time.monotonic()
    cached = getattr(request.app.state, "sandbox_mode_cache", None)
    if cached is not None and now - cached[0] < SANDBOX_MODE_CACHE_SECONDS:
        return bool(cached[1])
    from riff.web.repository import enabled_account_sandbox_flags

    try:
        flags = enabled_account_sandbox_flags(request.app.state.database)
    except Exception:  # the badge must never take a page down (e.g. an unmigrated database)
        flags = []
    value = any(flags) if flags else bool(request.app.state.settings.sandboxes)
    request.app.state.sandbox_mode_cache = (now, value)
    return value


def forget_sandbox_mode(request: HTTPConnection) -> None:
    """Call after changing channel accounts so the badge is right on the next page."""
    request.app.state.sandbox_mode_cache = None


def flash(request: HTTPConnection, message: str, kind: FlashKind = "info") -> None:
    """Queue a toast for the next rendered page (survives a redirect). Kinds: info, success,
    warning, error. The message is HTML-escaped when shown."""
    if kind not in FLASH_KINDS:
        raise ValueError(f"unknown flash kind {kind!r}")
    queued = list(request.session.get(SESSION_FLASH_KEY, []))
    queued.append({"message": str(message), "kind": kind})
    request.session[SESSION_FLASH_KEY] = queued[-MAX_QUEUED_FLASHES:]


def pop_flashes(request: HTTPConnection) -> list[dict[str, str]]:
    if "session" not in request.scope or SESSION_FLASH_KEY not in request.session:
        return []
    return list(request.session.pop(SESSION_FLASH_KEY))


def safe_next_url(value: str | None, default: str = "/") -> str:
    """A same-site path to go to after login; anything else (other hosts, ``//evil``) → default."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ch in value for ch in "\r\n\t"):
        return default
    return value


# ---- responses --------------------------------------------------------------------------------


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the standard context plus ``context``.

    Always available in templates: ``request``, ``user`` (None when logged out), ``sandbox_mode``,
    ``csrf_token``, ``flashes``, ``current_path``, and the globals ``static_url()``, ``nav_items``,
    ``app_version``. Queued flashes are consumed; for an htmx partial they are appended as an
    out-of-band swap of ``#flash-area`` so toasts appear without a full page.
    """
    flashes = pop_flashes(request)
    full_context: dict[str, Any] = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "sandbox_mode": sandbox_mode(request),
        "csrf_token": sessions.csrf_token(request),
        "flashes": flashes,
        "current_path": request.url.path,
    }
    full_context.update(context or {})
    body = templates.get_template(template).render(full_context)
    if flashes and is_htmx_partial(request):
        body += templates.get_template("components/flash_oob.html").render(flashes=flashes)
    return HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))


def hx_redirect(url: str) -> Response:
    """Tell htmx to navigate the whole page to ``url`` (an ``HX-Redirect`` response)."""
    return Response(status_code=200, headers={"HX-Redirect": url})


def redirect(request: HTTPConnection, url: str) -> Response:
    """After a form POST: ``HX-Redirect`` for htmx requests, else 303 See Other (so the browser
    follows with a GET and a reload does not re-submit)."""
    if is_htmx(request):
        return hx_redirect(url)
    return RedirectResponse(url, status_code=303)
