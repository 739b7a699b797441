"""The HTTP session RIFF uses on the V&R website.

- **curl_cffi impersonating Chrome** is the primary path: Cloudflare scores the TLS and HTTP/2 fingerprint,
  and a Python TLS stack is the first thing it flags (shared/reference/000_*.txt, "Cloudflare handling").
- **httpx** is the fallback, used when curl_cffi cannot be loaded or fails below HTTP (a TLS or HTTP/2
  error that is not a timeout or a refused connection); the session then stays on httpx.
- Cookies live in RIFF's own ``CookieJar`` (both backends send its ``Cookie`` header and feed it every
  ``Set-Cookie``), so the browser bootstrap, the two backends and the cookie report share one jar.
- Redirects are never followed here: the client reads ``Location`` (the new item id, a login redirect).
- Every request goes through the channel's rate limiter and is logged and counted like
  ``riff.channels.http.ChannelHttpClient`` does (``vintage_and_rare.request.<outcome>``, path template,
  status, duration; never headers or cookies).

This module knows nothing about Cloudflare, logins or pages: ``client.py`` interprets responses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from riff.channels.errors import ChannelError, Transient
from riff.channels.http import RateLimiter, RequestCounters, request_counters
from riff.channels.vintage_and_rare import consts
from riff.channels.vintage_and_rare.cookies import CookieJar
from riff.core.logging import get_logger

log = get_logger(__name__)

Backend = Literal["auto", "curl_cffi", "httpx"]
FormData = Sequence[tuple[str, str]]


@dataclasses.dataclass(frozen=True)
class Upload:
    field: str
    filename: str
    data: bytes
    content_type: str = "application/octet-stream"


@dataclasses.dataclass
class VRResponse:
    status: int
    headers: list[tuple[str, str]]  # lower-cased names, every value (Set-Cookie repeats)
    url: str
    content: bytes = b""
    saved_to: Path | None = None  # streamed downloads land in a file, not in ``content``
    elapsed_ms: float = 0.0

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def header_list(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def location(self) -> str | None:
        return self.header("location")

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and bool(self.location)


class BelowHttpError(Exception):
    """The backend failed below HTTP for a reason another backend might not have (TLS, HTTP/2 framing)."""


class _Sender(Protocol):
    name: str

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: FormData | None,
        uploads: Sequence[Upload] | None,
        multipart: bool,
        timeout_seconds: float,
        stream_to: Path | None,
    ) -> VRResponse: ...

    async def aclose(self) -> None: ...


class CurlSender:
    """curl_cffi with Chrome's TLS/HTTP2 fingerprint; its own cookie store is bypassed (discard_cookies)."""

    name = "curl_cffi"

    def __init__(self, *, plain_http: bool) -> None:
        from curl_cffi import requests as curl_requests  # imported lazily: the fallback must work without it

        self._session: Any = curl_requests.AsyncSession(impersonate=consts.CURL_IMPERSONATE)
        # Over plain HTTP (a loopback sandbox) curl would try an h2c upgrade; browsers never do.
        self._http_version = "v1" if plain_http else None

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: FormData | None,
        uploads: Sequence[Upload] | None,
        multipart: bool,
        timeout_seconds: float,
        stream_to: Path | None,
    ) -> VRResponse:
        from curl_cffi import CurlMime
        from curl_cffi.requests import exceptions as curl_errors

        kwargs: dict[str, Any] = {
            "headers": dict(headers),
            "allow_redirects": False,
            "discard_cookies": True,
            "timeout": timeout_seconds,
        }
        if self._http_version:
            kwargs["http_version"] = self._http_version
        mime = None
        if multipart or uploads:
            mime = CurlMime()
            for name, value in data or ():
                mime.addpart(name=name, data=value.encode())
            for upload in uploads or ():
                mime.addpart(
                    name=upload.field,
                    filename=upload.filename,
                    content_type=upload.content_type,
                    data=upload.data,
                )
            kwargs["multipart"] = mime
        elif data is not None:
            kwargs["data"] = list(data)
        started = time.perf_counter()
        try:
            if stream_to is None:
                response = await self._session.request(method, url, **kwargs)
                content = response.content
            else:
                response = await self._session.request(method, url, stream=True, **kwargs)
                try:
                    with stream_to.open("wb") as out:
                        async for chunk in response.aiter_content():
                            out.write(chunk)
                finally:
                    await response.aclose()
                content = b""
        except curl_errors.Timeout as exc:
            raise httpx.ReadTimeout(str(exc)) from exc
        except curl_errors.ConnectionError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except curl_errors.RequestException as exc:
            raise BelowHttpError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if mime is not None:
                mime.close()
        headers_out = [(k.lower(), v) for k, v in response.headers.multi_items()]
        return VRResponse(
            status=response.status_code,
            headers=headers_out,
            url=url,
            content=content,
            saved_to=stream_to,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    async def aclose(self) -> None:
        await self._session.close()


class HttpxSender:
    """Plain httpx (Python's TLS stack): Cloudflare flags it more often; a fallback only."""

    name = "httpx"

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(
            follow_redirects=False, timeout=consts.PAGE_TIMEOUT, transport=transport, trust_env=False
        )

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: FormData | None,
        uploads: Sequence[Upload] | None,
        multipart: bool,
        timeout_seconds: float,
        stream_to: Path | None,
    ) -> VRResponse:
        started = time.perf_counter()
        kwargs: dict[str, Any] = {
            "headers": dict(headers),
            "timeout": httpx.Timeout(timeout_seconds, connect=10.0),
        }
        if multipart or uploads:
            files: list[tuple[str, tuple[str | None, bytes, str | None]]] = [
                (name, (None, value.encode(), None)) for name, value in data or ()
            ]
            files += [(u.field, (u.filename, u.data, u.content_type)) for u in uploads or ()]
            if not files:
                files = [("_", (None, b"", None))]
            kwargs["files"] = files
        elif data is not None:
            kwargs["data"] = _form_dict(data)
        request = self._client.build_request(method, url, **kwargs)
        response = await self._client.send(request, stream=stream_to is not None)
        try:
            if stream_to is None:
                content = response.content
            else:
                with stream_to.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                content = b""
        finally:
            await response.aclose()
        return VRResponse(
            status=response.status_code,
            headers=[(k.lower(), v) for k, v in response.headers.multi_items()],
            url=url,
            content=content,
            saved_to=stream_to,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def _form_dict(data: FormData) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in data:
        out.setdefault(name, []).append(value)
    return out


class VRSession:
    """One logged-in browsing session on the site: base URL, User-Agent, cookie jar, backend."""

    def __init__(
        self,
        base_url: str,
        jar: CookieJar,
        *,
        user_agent: str = consts.DEFAULT_USER_AGENT,
        backend: Backend = "auto",
        rate_limiter: RateLimiter | None = None,
        counters: RequestCounters | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.host = parts.hostname or ""
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.jar = jar
        self.user_agent = user_agent
        self.rate_limiter = rate_limiter
        self.counters = counters if counters is not None else request_counters
        self._transport = transport
        self._sender: _Sender = self._first_sender(backend, plain_http=parts.scheme == "http")

    def _first_sender(self, backend: Backend, *, plain_http: bool) -> _Sender:
        if backend == "httpx" or self._transport is not None:
            return HttpxSender(self._transport)
        try:
            return CurlSender(plain_http=plain_http)
        except ImportError:
            if backend == "curl_cffi":
                raise
            log.warning("vintage_and_rare.session.curl_unavailable", fallback="httpx")
            return HttpxSender()

    @property
    def backend(self) -> str:
        return self._sender.name

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def headers(self, *, ajax: bool = False, referer: str | None = None) -> dict[str, str]:
        headers = {
            "User-Agent": self.user_agent,
            "Accept-Language": consts.ACCEPT_LANGUAGE,
            "Accept": consts.AJAX_ACCEPT if ajax else consts.HTML_ACCEPT,
        }
        if ajax:
            # What the site's own jQuery sends; without them the AJAX endpoints answer 403.
            headers["X-Requested-With"] = "XMLHttpRequest"
            headers["Origin"] = self.origin
            headers["Referer"] = referer or self.base_url + "/"
        elif referer:
            headers["Referer"] = referer
        cookie = self.jar.header_for(self.host)
        if cookie:
            headers["Cookie"] = cookie
        return headers

    async def request(
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
        cost: float = 1.0,
    ) -> VRResponse:
        """One HTTP exchange. Raises ``Transient`` for timeouts and connection failures, nothing else: the
        status, whatever it is, is the caller's to interpret."""
        template = template or path.split("?", 1)[0]
        if self.rate_limiter is not None:
            await self._acquire(cost)
        url = self.url(path)
        started = time.perf_counter()
        try:
            response = await self._send(
                method, url, ajax, referer, data, uploads, multipart, timeout_seconds, stream_to
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            self._record(method, template, None, started, "retry", type(exc).__name__)
            raise Transient(
                f"{type(exc).__name__}: {exc}".rstrip(": "),
                channel=consts.SLUG,
                endpoint=f"{method} {template}",
            ) from exc
        self.jar.update_from_headers(response.header_list("set-cookie"), self.host)
        outcome = "ok" if response.status < 400 else "retry" if response.status >= 500 else "failed"
        self._record(method, template, response.status, started, outcome, None)
        return response

    async def _acquire(self, cost: float) -> None:
        """Book ``cost`` units of the channel's shared rate limit, then wait as long as it says.

        When the limiter offers a synchronous ``reserve`` (the job engine's ``riff.jobs.ratelimit.RateLimiter``)
        the booking is made right here: the same booking in the same shared bucket as ``acquire``, without the
        hop to a worker thread and back that ``acquire`` makes around its short database transaction. This event
        loop runs one V&R job at a time (channel concurrency 1), so holding it for that transaction delays
        nothing but this job's own requests."""
        limiter = self.rate_limiter
        assert limiter is not None
        reserve = getattr(limiter, "reserve", None)
        if reserve is None:
            await limiter.acquire(consts.SLUG, cost)
            return
        wait = float(reserve(consts.SLUG, cost))  # raises RateLimitWaitTooLong (retryable) like acquire
        if wait > 0:
            await asyncio.sleep(wait)

    async def _send(
        self,
        method: str,
        url: str,
        ajax: bool,
        referer: str | None,
        data: FormData | None,
        uploads: Sequence[Upload] | None,
        multipart: bool,
        timeout_seconds: float | None,
        stream_to: Path | None,
    ) -> VRResponse:
        seconds = timeout_seconds or consts.PAGE_TIMEOUT.read or 30.0
        for _ in range(2):
            try:
                return await self._sender.send(
                    method,
                    url,
                    headers=self.headers(ajax=ajax, referer=referer),
                    data=data,
                    uploads=uploads,
                    multipart=multipart,
                    timeout_seconds=seconds,
                    stream_to=stream_to,
                )
            except BelowHttpError as exc:
                if isinstance(self._sender, HttpxSender):
                    raise ChannelError(str(exc), channel=consts.SLUG) from exc
                log.warning("vintage_and_rare.session.fallback", backend="httpx", error=str(exc)[:200])
                await self._sender.aclose()
                self._sender = HttpxSender(self._transport)
        raise AssertionError("unreachable")  # pragma: no cover

    def _record(
        self, method: str, template: str, status: int | None, started: float, outcome: str, error: str | None
    ) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        self.counters.increment(consts.SLUG, method, template, outcome)
        fields: dict[str, Any] = {"method": method, "path": template, "status": status, "duration_ms": duration_ms,
                                  "backend": self._sender.name}  # fmt: skip
        if error:
            fields["error"] = error
        if outcome == "ok":
            log.info(f"{consts.SLUG}.request.ok", **fields)
        else:
            log.warning(f"{consts.SLUG}.request.{outcome}", **fields)

    async def aclose(self) -> None:
        await self._sender.aclose()
