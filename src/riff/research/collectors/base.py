"""What every collector shares: the normalised listing it yields, the multi-bucket rate limiter, the
process-wide OAuth token cache and the request wrapper that refreshes an expired token once.

Collectors are read-only cousins of channel clients: they use the shared HTTP layer
(``riff.channels.http.ChannelHttpClient``) and error taxonomy (``riff.channels.errors``), so retries,
429 handling, logs and request counters behave exactly as for channels.
"""

from __future__ import annotations

import abc
import base64
import dataclasses
import datetime as dt
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from riff.channels.errors import AuthExpired, ChannelError
from riff.channels.http import ChannelHttpClient
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.settings import Settings
from riff.jobs.config import RateLimitConfig
from riff.jobs.ratelimit import Backend, DatabaseBackend, MemoryBackend, RateLimiter, RedisBackend
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.consts import RATE_LIMIT_BUCKETS

log = get_logger(__name__)

TOKEN_REFRESH_MARGIN_SECONDS = 60.0


@dataclasses.dataclass
class CollectedListing:
    """One listing as a collector saw it, before extraction and storage."""

    platform: str
    external_id: str
    title: str
    url: str | None = None
    description: str = ""
    price: Decimal | None = None
    currency: str | None = None
    condition_text: str | None = None
    image_urls: list[str] = dataclasses.field(default_factory=list)
    seller: str | None = None
    listed_at: dt.datetime | None = None
    sold: bool | None = None
    score: float | None = None
    comments: float | None = None
    favorites: float | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    raw: dict[str, Any] = dataclasses.field(default_factory=dict)
    default_currency: str = "USD"


class MultiBucketLimiter:
    """``acquire``/``penalize`` over every bucket of a platform (Etsy: per second and per day), so the
    shared HTTP layer sees one limiter. Buckets live in ``riff.jobs.ratelimit`` (shared by every process)."""

    def __init__(self, limiter: RateLimiter, buckets: Mapping[str, tuple[str, ...]]) -> None:
        self.limiter = limiter
        self.buckets = dict(buckets)

    def _names(self, channel: str) -> tuple[str, ...]:
        return self.buckets.get(channel, (channel,))

    async def acquire(self, channel: str, cost: float = 1.0) -> float:
        waited = 0.0
        for name in self._names(channel):
            waited += await self.limiter.acquire(name, cost)
        return waited

    def penalize(self, channel: str, retry_after_seconds: float) -> None:
        # A 429 names no window; the shortest (first) bucket takes the penalty.
        self.limiter.penalize(self._names(channel)[0], retry_after_seconds)

    def penalize_bucket(self, bucket: str, retry_after_seconds: float) -> None:
        self.limiter.penalize(bucket, retry_after_seconds)


def client_channel(platform: str) -> str:
    """The channel name collectors use in logs, counters and rate limits: ``research.ebay``."""
    return f"research.{platform}"


_limiters: weakref.WeakKeyDictionary[Database, dict[tuple[Any, ...], RateLimiter]] = (
    weakref.WeakKeyDictionary()
)
_limiters_lock = threading.Lock()


def research_rate_limiter(
    database: Database | None, settings: Settings | None, research: ResearchSettings
) -> MultiBucketLimiter:
    """The process's research limiter: Redis-backed when ``RIFF_REDIS_URL`` is set, else the database's
    ``rate_limit_buckets`` (shared across processes); in memory without a database (tools)."""
    limits = {name: RateLimitConfig(**cfg) for name, cfg in research.resolved_rate_limits().items()}
    buckets = {client_channel(p): names for p, names in RATE_LIMIT_BUCKETS.items()}
    if database is None:
        return MultiBucketLimiter(RateLimiter(MemoryBackend(), limits, max_wait_seconds=60.0), buckets)
    redis_url = settings.redis_url if settings is not None else None
    key = (redis_url, tuple(sorted((n, c.rate, c.burst) for n, c in limits.items())))
    with _limiters_lock:
        per_database = _limiters.setdefault(database, {})
        limiter = per_database.get(key)
        if limiter is None:
            backend: Backend = RedisBackend(redis_url) if redis_url else DatabaseBackend(database)
            limiter = RateLimiter(backend, limits, max_wait_seconds=60.0)
            per_database[key] = limiter
    return MultiBucketLimiter(limiter, buckets)


@dataclasses.dataclass
class CachedToken:
    token: str
    expires_at: dt.datetime


class TokenCache:
    """Application tokens by (host, client id), reused until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], CachedToken] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            cached = self._tokens.get(key)
        if cached is None:
            return None
        if utcnow() >= cached.expires_at - dt.timedelta(seconds=TOKEN_REFRESH_MARGIN_SECONDS):
            return None
        return cached.token

    def put(self, key: tuple[str, str], token: str, expires_in: float) -> None:
        with self._lock:
            self._tokens[key] = CachedToken(token, utcnow() + dt.timedelta(seconds=max(0.0, expires_in)))

    def drop(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


token_cache = TokenCache()


def basic_authorization(client_id: str, client_secret: str) -> str:
    """The ``Authorization`` value a client-credentials token request authenticates with."""
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


class NotConfigured(ChannelError):
    """The platform has no credentials configured: nothing to collect until someone adds them."""


class Collector(abc.ABC):
    """One platform's read-only client. ``pages(spec)`` yields lists of ``CollectedListing``."""

    platform: str

    def __init__(self, research: ResearchSettings, http: ChannelHttpClient) -> None:
        self.research = research
        self.http = http
        self.requests = 0

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get(
        self, path: str, *, template: str, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        """GET with the current token; an expired or revoked token is replaced once and the call repeated."""
        headers = await self.auth_headers(force=False)
        try:
            response = await self.http.request("GET", path, template=template, params=params, headers=headers)
        except AuthExpired:
            if not self.uses_tokens:
                raise
            log.info("research.token.refresh", platform=self.platform, reason="rejected")
            headers = await self.auth_headers(force=True)
            self.requests += 1
            response = await self.http.request("GET", path, template=template, params=params, headers=headers)
        self.requests += 1
        self.observe(response)
        return response

    uses_tokens: bool = False

    async def auth_headers(self, *, force: bool) -> dict[str, str]:
        return {}

    async def cached_token(
        self, key: tuple[str, str], *, force: bool, issue: Callable[[], Awaitable[tuple[str, float]]]
    ) -> str:
        """The shared cached token for ``key``, or a new one from ``issue()`` (token, expires_in seconds).

        ``force`` is for a token the platform just rejected: it is dropped so nobody reuses it.
        """
        if force:
            token_cache.drop(key)
        cached = token_cache.get(key)
        if cached:
            return cached
        token, expires_in = await issue()
        token_cache.put(key, token, expires_in)
        return token

    def observe(self, response: httpx.Response) -> None:  # noqa: B027 - optional hook
        """Look at a successful response's rate-limit headers."""

    def page_limit(self, platform_max: int, max_items: int) -> int:
        """Items to ask for per page: the platform's maximum, lowered by the configured page size and by what
        the search still wants."""
        return max(1, min(platform_max, self.research.page_size.get(self.platform, platform_max), max_items))

    @abc.abstractmethod
    def pages(self, spec: SearchSpec) -> AsyncIterator[list[CollectedListing]]:
        """Pages of one search, following the platform's pagination until ``spec.max_items``."""

    def extra_pages(self) -> AsyncIterator[list[CollectedListing]]:
        """Pages beyond the configured searches (Reddit's BST threads); none by default."""
        return _empty()


class TokenCollector(Collector):
    """A collector whose API takes an application token from an OAuth token endpoint (HTTP Basic client
    credentials, a form naming the grant). Tokens are shared through ``token_cache``; the endpoint gets its
    own HTTP client (``research.<platform>.oauth``): it has its own quota and does not spend the API's calls."""

    uses_tokens = True
    token_path: ClassVar[str]
    token_scheme: ClassVar[str] = "Bearer"  # as the API's Authorization header spells it
    default_token_seconds: ClassVar[float]  # a token's life when the response does not say
    display_name: ClassVar[str]  # the platform as error messages name it

    def __init__(
        self,
        research: ResearchSettings,
        http: ChannelHttpClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        transport: httpx.AsyncBaseTransport | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(research, http)
        self.oauth = ChannelHttpClient(
            f"{http.channel}.oauth",
            token_url,
            headers=headers,
            transport=transport,
            message_parser=http.message_parser,
        )
        self._client_id = client_id
        self._client_secret = client_secret
        self._key = (token_url, client_id)

    async def aclose(self) -> None:
        await super().aclose()
        await self.oauth.aclose()

    @abc.abstractmethod
    def token_form(self) -> dict[str, str]:
        """The token request's form: the grant (and its scope or user credentials)."""

    async def token(self, *, force: bool = False) -> str:
        return await self.cached_token(self._key, force=force, issue=self._issue_token)

    async def _issue_token(self) -> tuple[str, float]:
        basic = basic_authorization(self._client_id, self._client_secret.get_secret_value())
        response = await self.oauth.request(
            "POST", self.token_path, data=self.token_form(), headers={"Authorization": basic}
        )
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthExpired(
                f"{self.display_name} token response has no access_token", channel=self.oauth.channel
            )
        log.info("research.token.issued", platform=self.platform, expires_in=body.get("expires_in"))
        return str(token), float(body.get("expires_in") or self.default_token_seconds)

    async def auth_headers(self, *, force: bool) -> dict[str, str]:
        return {"Authorization": f"{self.token_scheme} {await self.token(force=force)}"}


async def _empty() -> AsyncIterator[list[CollectedListing]]:
    return
    yield  # pragma: no cover - makes this an async generator


def parse_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        return None


def parse_timestamp(value: Any) -> dt.datetime | None:
    """Epoch seconds or an ISO 8601 string -> aware UTC datetime."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
