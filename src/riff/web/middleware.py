"""Security middlewares (pure ASGI): response headers, the auth gate and CSRF.

They run inside Starlette's SessionMiddleware (see ``riff.web.install``), outermost first:
``SecurityHeadersMiddleware`` → ``AuthGateMiddleware`` → ``CsrfMiddleware`` → routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riff.auth import sessions
from riff.auth.consts import (
    API_PREFIX,
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    LOGIN_PATH,
    is_csrf_exempt_path,
    is_public_path,
)
from riff.auth.deps import bearer_token, resolve_user
from riff.core.errors import Forbidden, RiffError, Unauthenticated
from riff.core.logging import get_logger
from riff.web.templating import render

log = get_logger(__name__)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A plain (non-htmx) form is buffered to find its csrf_token field. htmx sends the header instead
# (base.html sets hx-headers), so large uploads should go through htmx and are never buffered here.
MAX_BUFFERED_FORM_BYTES = 20 * 1024 * 1024


def _is_api(path: str) -> bool:
    return path.startswith(API_PREFIX)


def _error_json(error: RiffError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error.to_body(), status_code=error.status_code, headers=headers)


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (a route may set its own value first).

    HTML responses are also marked ``Cache-Control: no-store`` so the back button after logout
    does not show a logged-in page from the cache.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AuthGateMiddleware:
    """Every route needs a logged-in user or a valid bearer token unless ``is_public_path`` says
    otherwise (``riff.auth.consts`` holds the list). The resolved user is cached on
    ``request.state.user`` for the ``CurrentUser``/``Writer``/``Owner`` dependencies.

    Not logged in: ``/api/...`` → 401 JSON; htmx → 401 with ``HX-Redirect: /login``; other
    pages → 303 to ``/login?next=...``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            user = await run_in_threadpool(resolve_user, connection)
        except Unauthenticated as exc:
            await self._deny(scope, receive, send, connection, exc)
            return
        if user is None:
            error = Unauthenticated("authentication required: send 'Authorization: Bearer <token>' or log in")
            await self._deny(scope, receive, send, connection, error)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)

    async def _deny(
        self, scope: Scope, receive: Receive, send: Send, connection: HTTPConnection, error: Unauthenticated
    ) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response: Response
        path = scope["path"]
        if _is_api(path):
            response = _error_json(error, headers={"WWW-Authenticate": "Bearer"})
        elif connection.headers.get("hx-request") == "true":
            response = PlainTextResponse(error.message, status_code=401, headers={"HX-Redirect": LOGIN_PATH})
        else:
            target = LOGIN_PATH
            if scope["method"] in ("GET", "HEAD") and path != "/":
                query = scope.get("query_string", b"").decode("latin-1")
                target += "?next=" + quote(path + (f"?{query}" if query else ""), safe="")
            response = RedirectResponse(target, status_code=303)
        await response(scope, receive, send)


class CsrfMiddleware:
    """Unsafe requests (POST, PUT, PATCH, DELETE) must carry the session's CSRF token, in the
    ``X-CSRF-Token`` header (htmx and JSON clients) or the ``csrf_token`` form field (plain forms).

    Exempt: requests with ``Authorization: Bearer`` (no ambient credential a foreign site could
    ride on) and ``riff.auth.consts.is_csrf_exempt_path``. Anything else without a matching token → 403.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or is_csrf_exempt_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        if bearer_token(connection) is not None:
            await self.app(scope, receive, send)
            return
        presented = connection.headers.get(CSRF_HEADER)
        content_type = connection.headers.get("content-type", "")
        if presented is None and content_type.startswith(FORM_CONTENT_TYPES):
            body = await _read_body(receive, MAX_BUFFERED_FORM_BYTES)
            if body is None:
                await PlainTextResponse("form too large", status_code=413)(scope, receive, send)
                return
            presented = await _form_field(scope, body, CSRF_FORM_FIELD)
            receive = _replay(body, receive)
        if not sessions.csrf_token_matches(connection, presented):
            log.warning(
                "web.csrf.rejected", path=scope["path"], method=scope["method"], had_token=bool(presented)
            )
            await _csrf_failure(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A ``receive`` that hands the already-read body to the app, then defers to the real one."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _form_field(scope: Scope, body: bytes, field: str) -> str | None:
    async def no_more() -> Message:
        return {"type": "http.disconnect"}

    request = Request(scope, _replay(body, no_more))
    try:
        form = await request.form()
    except Exception:  # malformed form: no token can be found in it, so the check fails with 403
        return None
    try:
        value = form.get(field)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


async def _csrf_failure(scope: Scope, receive: Receive, send: Send) -> None:
    error = Forbidden(
        f"missing or invalid CSRF token: send the {CSRF_HEADER} header (or the {CSRF_FORM_FIELD} form field)",
        code="csrf_failed",
    )
    response: Response
    if _is_api(scope["path"]) or "json" in HTTPConnection(scope).headers.get("accept", ""):
        response = _error_json(error)
    else:
        request = Request(scope, receive)
        response = render(
            request,
            "error.html",
            {
                "title": "Form expired",
                "message": "This form has expired or was not sent from RIFF. Go back, reload the page and try again.",
            },
            status_code=403,
        )
    await response(scope, receive, send)


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "AuthGateMiddleware",
    "CsrfMiddleware",
    "SecurityHeadersMiddleware",
]
