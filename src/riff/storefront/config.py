"""Storefront settings (prefix ``RIFF_STOREFRONT_``), kept apart from the process-wide ``Settings``.

``RIFF_STOREFRONT_CORS_ORIGINS="https://shop.example,https://www.shop.example"`` lets those sites' pages
read the feed from the browser; ``*`` allows any origin. Empty (the default): no cross-origin access.
"""

from __future__ import annotations

import functools

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class StorefrontSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIFF_STOREFRONT_", env_file=".env", extra="ignore")

    cors_origins: str = Field("", description="Comma-separated origins allowed to read the feed; * for any")
    cache_max_age_seconds: int = Field(60, ge=0, description="Cache-Control max-age of every feed response")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page by default")

    @property
    def allowed_origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        origins = self.allowed_origins
        return "*" in origins or origin.rstrip("/") in origins


@functools.lru_cache(maxsize=1)
def get_storefront_settings() -> StorefrontSettings:
    return StorefrontSettings()
