"""Process-wide settings, read once from the environment (prefix ``RIFF_``).

Every variable is listed in the README's configuration table; keep the two in step.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIFF_", env_file=".env", extra="ignore")

    env: str = Field(
        "development", description="development or production; production refuses unsafe defaults"
    )
    data_dir: Path = Field(
        Path(".riff"), description="Where the SQLite file, key file and sandbox state live"
    )
    database_url: str | None = Field(None, description="SQLAlchemy URL; default is a SQLite file in data_dir")
    secret_key: SecretStr | None = Field(
        None, description="Key for sessions and secrets at rest; default: a key file created in data_dir"
    )
    host: str = Field("127.0.0.1", description="Address the web server binds")
    port: int = Field(8000, description="Port the web server binds")
    log_level: str = Field("INFO", description="Python log level")
    log_json: bool = Field(False, description="Emit logs as JSON lines instead of console text")
    redis_url: str | None = Field(None, description="Optional Redis for shared rate limits")
    session_cookie_secure: bool = Field(False, description="Mark the session cookie Secure (behind HTTPS)")
    login_max_attempts: int = Field(5, description="Failed logins per account+IP before throttling")
    login_window_seconds: int = Field(300, description="Window for counting failed logins")
    sandboxes: bool = Field(True, description="Start sandboxes for channels without real credentials")
    sandbox_base_port: int = Field(8100, description="First port used by `riff sandbox up`")
    worker_concurrency: int = Field(4, description="Jobs a worker process runs at once")
    job_retention_days: int = Field(14, description="Completed jobs older than this are pruned")

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, value: str | None) -> str | None:
        # Plain postgresql:// URLs (as libpq and Heroku-style hosts hand them out) would pick psycopg2,
        # which we do not ship; psycopg 3 is the driver.
        if value and value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'riff.db').resolve()}"

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests and the CLI change the environment and then call this to re-read it."""
    get_settings.cache_clear()
