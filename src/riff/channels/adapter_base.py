"""Constructor and lifecycle plumbing shared by the channel adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, cast

import httpx
from pydantic import BaseModel

from riff.channels.contract import Capabilities
from riff.channels.http import HttpWiring, RateLimiter, RequestCounters


class _Closeable(Protocol):
    async def aclose(self) -> None: ...


ModelT = TypeVar("ModelT", bound=BaseModel)
ConfigT = TypeVar("ConfigT", bound=BaseModel)
ClientT = TypeVar("ClientT", bound=_Closeable)


class ChannelAdapterBase(Generic[ConfigT, ClientT]):
    """The constructor every channel shares (keyword-only: callers and the registry build adapters by
    keyword): the account's ``config`` and ``secrets`` validated by the channel's models, then the client,
    opened by the subclass's ``_open_client`` unless one is passed in. A channel with state of its own adds it
    after ``super().__init__(**options)``; one that needs more to start (Vintage & Rare's cookie jar and
    settings) keeps its own ``__init__`` and uses the helpers."""

    slug: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    secrets_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[Capabilities]

    config: ConfigT
    secrets: BaseModel  # subclasses narrow it to their ``secrets_model``
    base_url: str  # the account's, else the platform's (Shopify's still names ``{shop_domain}``)
    client: ClientT

    def __init__(
        self,
        *,
        config: Mapping[str, Any] | ConfigT,
        secrets: Mapping[str, Any] | BaseModel,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        counters: RequestCounters | None = None,
        client: ClientT | None = None,
    ) -> None:
        self.config = cast(ConfigT, self._coerce(self.config_model, config))
        self.secrets = self._coerce(self.secrets_model, secrets)
        self.base_url = self._base_url_or_default(base_url)
        self.client = client or self._open_client(
            HttpWiring(self.base_url, transport=transport, rate_limiter=rate_limiter, counters=counters)
        )

    def _open_client(self, wiring: HttpWiring) -> ClientT:
        """The channel's client for this account; ``config`` and ``secrets`` are already validated."""
        raise NotImplementedError(f"{type(self).__name__} must open its client")

    @staticmethod
    def _coerce(model: type[ModelT], value: Mapping[str, Any] | ModelT) -> ModelT:
        # Jobs pass the account's raw JSON, tests and the CLI often an already validated model: keep that one.
        return value if isinstance(value, model) else model.model_validate(dict(value))

    @classmethod
    def _base_url_or_default(cls, base_url: str | None) -> str:
        # An account without its own base URL talks to the live platform.
        return base_url or cls.default_base_url

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
