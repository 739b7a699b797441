"""The HTTP layer every channel client shares.

- Base URL, default headers, timeout and transport are constructor arguments: a sandbox is just another
  base URL and no host lives at module level.
- Responses are classified by the channel's error table (``riff.channels.errors``).
- Transient failures are retried a few times inline with tenacity (short waits only). A 429 whose
  Retry-After is longer than ``max_inline_wait_seconds`` is raised as ``RateLimited`` at once: waiting
  that long is the job engine's business.
- An optional rate limiter (anything with ``acquire``/``penalize``) is consulted before every attempt.
- Platforms that report failures inside a 2xx body (eBay's Trading API: HTTP 200 with ``Ack=Failure``) pass a
  ``response_check`` that turns such a body into a ``ChannelError``; it then goes through the same retries,
  logs and counters as a failing status.
- Every request is logged as ``<channel>.request.<outcome>`` (method, path template, status, duration) and
  counted per channel + method + path template. Headers are never logged.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from riff.channels.errors import (
    DEFAULT_ERROR_MAPPING,
    ChannelError,
    ErrorKey,
    ErrorResolution,
    RateLimited,
    ResponseAction,
    parse_error_body,
    resolve,
)
from riff.core.logging import get_logger

log = get_logger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_INLINE_WAIT_SECONDS = 5.0
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 2.0


# A successful-status response -> the ChannelError its body reports, or None when it is a real success.
ResponseCheck = Callable[[httpx.Response], ChannelError | None]


@runtime_checkable
class RateLimiter(Protocol):
    """What the HTTP layer needs from a rate limiter (``riff.jobs.ratelimit.RateLimiter`` fits)."""

    async def acquire(self, channel: str, cost: float = 1.0) -> Any: ...

    def penalize(self, channel: str, retry_after_seconds: float) -> Any: ...


class RequestCounters:
    """In-process request counts keyed by (channel, method, path template, outcome); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: collections.Counter[tuple[str, str, str, str]] = collections.Counter()

    def increment(self, channel: str, method: str, path: str, outcome: str) -> None:
        with self._lock:
            self._counts[(channel, method, path, outcome)] += 1

    def snapshot(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            items = sorted(self._counts.items())
        return [
            {"channel": c, "method": m, "path": p, "outcome": o, "count": n}
            for (c, m, p, o), n in items
            if channel is None or c == channel
        ]

    def total(self, channel: str | None = None, method: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (c, m, p, _), n in self._counts.items()
                if (channel is None or c == channel)
                and (method is None or m == method)
                and (path is None or p == path)
            )

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


# Process-wide, read by benchmarks and the UI (``GET /api/channels/request-counts``).
request_counters = RequestCounters()


@dataclasses.dataclass(frozen=True)
class HttpWiring:
    """Where a channel's requests go and what they share with the rest of the process. The job engine, the
    CLI or a test gives these to the adapter (``base_url``: the account's, else the platform's), which hands
    them to its client as they are."""

    base_url: str
    transport: httpx.AsyncBaseTransport | None = None
    rate_limiter: RateLimiter | None = None
    counters: RequestCounters | None = None


@dataclasses.dataclass(frozen=True)
class _Body:
    json: Any = None
    content: bytes | str | None = None
    data: Mapping[str, Any] | None = None
    headers: Mapping[str, str] | None = None


def _outcome(exc: BaseException | None, status: int | None) -> str:
    if exc is None:
        return "ok"
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, ChannelError) and exc.retryable:
        return "retry"
    return "failed" if status is not None else "error"


class ChannelHttpClient:
    """One platform's HTTP session. ``request`` returns a successful response or raises ChannelError."""

    def __init__(
        self,
        channel: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        error_mapping: Mapping[ErrorKey, ErrorResolution] = DEFAULT_ERROR_MAPPING,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_inline_wait_seconds: float = DEFAULT_MAX_INLINE_WAIT_SECONDS,
        counters: RequestCounters | None = None,
        message_parser: Any = None,
        response_check: ResponseCheck | None = None,
    ) -> None:
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.error_mapping = error_mapping
        self.rate_limiter = rate_limiter
        self.max_attempts = max_attempts
        self.max_inline_wait_seconds = max_inline_wait_seconds
        self.counters = counters if counters is not None else request_counters
        self.message_parser = message_parser or parse_error_body
        self.response_check = response_check
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers=dict(headers or {}),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # a redirect to another host must never carry our Authorization
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def relative_path(self, href: str) -> str:
        """A HAL link as a path under our base URL. Links to another host are refused, so a crafted
        ``_links.next`` can never make us send credentials elsewhere (the sandbox's links name its
        own loopback host; Reverb's name api.reverb.com)."""
        base = urlsplit(self.base_url)
        link = urlsplit(href)
        if link.netloc and (link.scheme, link.netloc) != (base.scheme, base.netloc):
            raise ChannelError(
                f"refusing to follow a link to another host: {link.netloc}", channel=self.channel
            )
        path = link.path
        if base.path and path.startswith(base.path):
            path = path[len(base.path) :]
        return path + (f"?{link.query}" if link.query else "")

    async def request(
        self,
        method: str,
        path: str,
        *,
        template: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        cost: float = 1.0,
        error_mapping: Mapping[ErrorKey, ErrorResolution] | None = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        response_check: ResponseCheck | None = None,
    ) -> httpx.Response:
        """Send one logical request (with bounded inline retries). ``template`` names the endpoint in logs
        and counters (``/listings/{id}``) so counts do not explode per id. ``content`` (a raw body),
        ``data`` (a form) and ``headers`` (added to the defaults) are passed to httpx as they are;
        ``response_check`` overrides the client's for this request."""
        mapping = error_mapping or self.error_mapping
        body = _Body(json=json, content=content, data=data, headers=headers)
        check = response_check or self.response_check
        template = template or path.split("?", 1)[0]

        def _should_retry(exc: BaseException) -> bool:
            if not isinstance(exc, ChannelError) or not exc.retryable:
                return False
            return exc.retry_after is None or exc.retry_after <= self.max_inline_wait_seconds

        def _wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited) and self.rate_limiter is not None:
                return 0.0  # the limiter was penalized: its acquire() does the waiting
            if isinstance(exc, ChannelError) and exc.retry_after is not None:
                return exc.retry_after
            return float(min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (state.attempt_number - 1)))

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=_wait,
            retry=retry_if_exception(_should_retry),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, path, template, params, body, cost, mapping, check)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _attempt(
        self,
        method: str,
        path: str,
        template: str,
        params: Mapping[str, Any] | None,
        body: _Body,
        cost: float,
        mapping: Mapping[ErrorKey, ErrorResolution],
        check: ResponseCheck | None = None,
    ) -> httpx.Response:
        if self.rate_limiter is not None:
            await self.rate_limiter.acquire(self.channel, cost)
        started = time.perf_counter()
        status: int | None = None
        error: ChannelError | None = None
        response: httpx.Response | None = None
        try:
            response = await self._client.request(
                method,
                path.lstrip("/"),
                params=params,
                json=body.json,
                content=body.content,
                data=body.data,
                headers=body.headers,
            )
            status = response.status_code
            resolution = resolve(mapping, response)
            if resolution.action not in (ResponseAction.SUCCESS, ResponseAction.IGNORE):
                error_cls = resolution.error or ChannelError
                error = error_cls.from_response(
                    response,
                    channel=self.channel,
                    endpoint=f"{method} {template}",
                    message_parser=self.message_parser,
                )
            elif resolution.action == ResponseAction.SUCCESS and check is not None:
                error = check(response)
        except httpx.HTTPError as exc:
            resolution = resolve(mapping, exc)
            error = (resolution.error or ChannelError).from_request_error(
                exc, channel=self.channel, endpoint=f"{method} {template}"
            )
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        outcome = _outcome(error, status)
        self.counters.increment(self.channel, method, template, outcome)
        fields = {"method": method, "path": template, "status": status, "duration_ms": duration_ms}
        if error is None:
            log.info(f"{self.channel}.request.ok", **fields)
            assert response is not None
            return response
        if (
            isinstance(error, RateLimited)
            and self.rate_limiter is not None
            and getattr(error, "penalizes_channel", True)
        ):
            self.rate_limiter.penalize(self.channel, error.retry_after or 1.0)
        log.warning(
            f"{self.channel}.request.{outcome}",
            **fields,
            error=type(error).__name__,
            message=error.message[:300],
            retry_after=error.retry_after,
        )
        raise error


class ChannelClient:
    """What every channel client does the same way around its ``ChannelHttpClient`` (``self.http``, built by
    the subclass with the platform's headers and error table): closing it, reading JSON bodies and following
    "next page" links."""

    platform: ClassVar[str]  # the platform as error messages name it ("Reverb")
    max_pages: ClassVar[int]  # for ``linked_pages``: more pages than this is a platform bug, raised
    http: ChannelHttpClient

    async def aclose(self) -> None:
        await self.http.aclose()

    def json_body(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object answered: ``{}`` for an empty body, ``{"items": [...]}`` for a bare list."""
        if not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise ChannelError(
                f"{self.platform} answered {response.status_code} with a body that is not JSON",
                channel=self.http.channel,
            ) from exc
        return body if isinstance(body, dict) else {"items": body}

    def next_link(self, page: dict[str, Any]) -> Any:
        """Where the platform puts the next page's URL in a page (None: it does not paginate by links)."""
        return None

    def next_path(self, page: dict[str, Any]) -> str | None:
        """The next page's link as a path under our base URL; None on the last page."""
        href = self.next_link(page)
        return self.http.relative_path(href) if isinstance(href, str) and href else None

    async def linked_pages(
        self, path: str, *, template: str, params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of ``GET path``: the first with ``params``, then each next link (which carries its own
        query) until there is none."""
        current: str | None = path
        query: Mapping[str, Any] | None = params
        for _ in range(self.max_pages):
            if current is None:
                return
            page = self.json_body(await self.http.request("GET", current, template=template, params=query))
            yield page
            current, query = self.next_path(page), None
        raise ChannelError(f"{self.platform} pagination did not end", channel=self.http.channel)
