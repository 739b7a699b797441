"""Process settings for Vintage & Rare, read from the environment under the names the shop already uses
(shared/reference/000_*.txt). Every variable is documented in docs/channels/vintage_and_rare.md.

Account secrets (``channel_accounts``) may hold the username and password too; the environment wins.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from riff.channels.vintage_and_rare import consts


class VintageAndRareSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    username: str | None = Field(None, validation_alias="VINTAGE_AND_RARE_USERNAME")
    password: SecretStr | None = Field(None, validation_alias="VINTAGE_AND_RARE_PASSWORD")
    cookies_file: Path | None = Field(
        None,
        validation_alias="VINTAGE_AND_RARE_COOKIES_FILE",
        description="JSON list of cookies {name, value, domain, expiry}; harvested cookies are written here",
    )
    cookies_base64: SecretStr | None = Field(
        None, validation_alias="VR_COOKIES_BASE64", description="The same JSON, base64-encoded (deployments)"
    )
    user_agent: str = Field(consts.DEFAULT_USER_AGENT, validation_alias="VR_USER_AGENT")
    selenium_grid_url: str | None = Field(None, validation_alias="SELENIUM_GRID_URL")
    headless: bool = Field(True, validation_alias="VR_HEADLESS")
    skip_browser: bool = Field(
        False, validation_alias=AliasChoices("VR_SKIP_SELENIUM", "VR_SKIP_BROWSER"),
        description="Never start a browser: a Cloudflare challenge then fails the call (refresh cookies by hand)",
    )  # fmt: skip
    chromium_binary: str = Field("/usr/bin/chromium", validation_alias="VR_CHROMIUM_BINARY")
    chromedriver: str = Field("/usr/bin/chromedriver", validation_alias="VR_CHROMEDRIVER")
    brand_cache_ttl: float = Field(
        consts.BRAND_CACHE_TTL_SECONDS, ge=0, validation_alias="VR_BRAND_CACHE_TTL"
    )
    brand_cache_max: int = Field(consts.BRAND_CACHE_MAX, ge=1, validation_alias="VR_BRAND_CACHE_MAX")
    brand_timeout: float = Field(consts.BRAND_TIMEOUT_SECONDS, gt=0, validation_alias="VR_BRAND_TIMEOUT")
    known_brands_file: Path | None = Field(None, validation_alias="VR_KNOWN_BRANDS_FILE")
    max_batch_size: int = Field(
        consts.MAX_BATCH_SIZE, ge=1, validation_alias=AliasChoices("MAX_BATCH_SIZE", "VR_MAX_BATCH_SIZE")
    )
    cookie_warn_days: int = Field(consts.COOKIE_WARN_DAYS, ge=0, validation_alias="VR_COOKIE_WARN_DAYS")
    data_dir: Path = Field(Path(".riff"), validation_alias="RIFF_DATA_DIR")

    def cookie_store_path(self) -> Path:
        """Where harvested and refreshed cookies are kept between processes."""
        if self.cookies_file is not None:
            return self.cookies_file
        return self.data_dir / consts.SLUG / "cookies.json"


@functools.lru_cache(maxsize=1)
def get_vr_settings() -> VintageAndRareSettings:
    return VintageAndRareSettings()


def reset_vr_settings_cache() -> None:
    get_vr_settings.cache_clear()
