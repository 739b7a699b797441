"""ASGI middleware in front of platform routes: injects faults and records every request.

Only paths under the platform's prefixes are touched; ``/_sandbox/*`` passes straight through. The
response is buffered so that the request-log row is written *before* the client sees the response (a
test that reads the log right after a call always finds it) and so that a body can be truncated.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riff_sandbox.toolkit.faults import FaultDecision
from riff_sandbox.toolkit.timeutil import isoformat_utc, utcnow

if TYPE_CHECKING:
    from riff_sandbox.toolkit.app import Sandbox

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset(
    {"authorization", "x-auth-token", "cookie", "x-api-key", "proxy-authorization", "x-shopify-access-token"}
)
MAX_LOGGED_BODY_BYTES = 64 * 1024


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    redacted = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        redacted[name.lower()] = value
    return redacted


def decode_body(raw: bytes) -> Any:
    if not raw:
        return None
    if len(raw) > MAX_LOGGED_BODY_BYTES:
        return raw[:MAX_LOGGED_BODY_BYTES].decode("utf-8", "replace") + "...[truncated]"
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.sandbox.is_platform_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        body = await _read_body(receive)
        method: str = scope["method"]
        path: str = scope["path"]
        decision = self.sandbox.faults.decide(method, path, started)
        if decision.latency_seconds:
            await asyncio.sleep(decision.latency_seconds)

        fault: str | None = decision.kind
        if decision.kind is not None:
            status, headers, payload = await _render(self._fault_response(decision), scope)
        else:
            status, headers, payload = await self._call_app(scope, receive, body)
            if decision.malformed and 200 <= status < 300 and len(payload) > 1:
                payload = payload[: max(1, len(payload) // 2)]
                headers = _with_content_length(headers, len(payload))
                fault = "malformed_body"

        request_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        entry = {
            "at": isoformat_utc(utcnow()),
            "method": method,
            "path": path,
            "query": scope.get("query_string", b"").decode("latin-1"),
            "headers": redact_headers(request_headers),
            "body": decode_body(body),
            "status": status,
            "fault": fault,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        }
        await anyio.to_thread.run_sync(self.sandbox.store.log_request, entry)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})

    def _fault_response(self, decision: FaultDecision) -> Response:
        platform = self.sandbox.platform
        if decision.kind == "rate_limited":
            return platform.rate_limited_response(decision.retry_after_seconds or 1)
        if decision.kind == "server_error":
            return platform.server_error_response(decision.status or 503)
        return platform.token_expired_response()

    async def _call_app(self, scope: Scope, receive: Receive, body: bytes) -> tuple[int, list[Any], bytes]:
        body_sent = False

        async def replay() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        headers: list[Any] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, replay, capture)
        except Exception:
            self.sandbox.log_exception(scope["path"])
            return await _render(self.sandbox.platform.server_error_response(500), scope)
        return status, headers, b"".join(chunks)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _render(response: Response, scope: Scope) -> tuple[int, list[Any], bytes]:
    captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured["status"] = message["status"]
            captured["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            captured["body"].append(message.get("body", b""))

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, no_body, capture)
    return captured["status"], captured["headers"], b"".join(captured["body"])


def _with_content_length(headers: list[Any], length: int) -> list[Any]:
    kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]
