"""Constructor and lifecycle plumbing shared by the channel adapters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from pydantic import BaseModel

from riff.channels.contract import Capabilities


class _Closeable(Protocol):
    async def aclose(self) -> None: ...


ModelT = TypeVar("ModelT", bound=BaseModel)
ConfigT = TypeVar("ConfigT", bound=BaseModel)
ClientT = TypeVar("ClientT", bound=_Closeable)


class ChannelAdapterBase(Generic[ConfigT, ClientT]):
    """Subclasses keep their own keyword-only ``__init__`` (callers and the registry build them by keyword)
    and use these helpers for the parts every adapter does the same way."""

    slug: ClassVar[str]
    display_name: ClassVar[str]
    default_base_url: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    secrets_model: ClassVar[type[BaseModel]]
    capabilities: ClassVar[Capabilities]

    config: ConfigT
    client: ClientT

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
