"""Sync settings (prefix ``RIFF_SYNC_``). Dict settings take JSON, for example::

    RIFF_SYNC_FIELD_OWNERS='{"title": "riff", "ebay": {"price": "newest"}}'
    RIFF_SYNC_MAINTENANCE_WINDOWS='{"vintage_and_rare": ["03:00-05:00"], "ebay": ["01:00-01:20"]}'

Schedules (pull every hour, orders every 5 minutes, the nightly reconciliation) are job-engine schedules:
change them per channel with ``RIFF_JOBS_SCHEDULES`` (docs/jobs.md), e.g.
``'{"ebay.pull_listings": {"cron": "*/30 * * * *"}}'``.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from riff.sync.consts import DEFAULT_FIELD_OWNERS, Owner
from riff.sync.windows import parse_window

DEFAULT_WINDOWS: dict[str, list[str]] = {"vintage_and_rare": ["03:00-05:00"]}


class SyncSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIFF_SYNC_", env_file=".env", extra="ignore")

    field_owners: dict[str, Any] = Field(
        default_factory=dict,
        description='Field -> riff|channel|newest, or channel -> {field: owner}: {"title": "riff"}',
    )
    maintenance_windows: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Channel -> ["HH:MM-HH:MM", ...] UTC; jobs for the channel wait these out',
    )
    lookback_minutes: float = Field(
        15.0, ge=0, description="Incremental pulls re-read this much before the last pull's start"
    )
    pull_chunk: int = Field(1000, ge=50, le=10_000, description="Remote listings diffed per database round")
    full_pull_every_hours: float = Field(
        24.0, gt=0, description="An incremental pull becomes a full one when the last full pull is older"
    )

    @field_validator("maintenance_windows")
    @classmethod
    def _windows(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for channel, windows in value.items():
            for text in windows:
                if parse_window(text) is None:
                    raise ValueError(f"{channel}: {text!r} is not HH:MM-HH:MM")
        return value

    @field_validator("field_owners")
    @classmethod
    def _owners(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, owner in value.items():
            for item in owner.values() if isinstance(owner, dict) else [owner]:
                Owner(item)  # ValueError names the bad value
            if isinstance(owner, dict) and not owner:
                raise ValueError(f"{key}: empty owner map")
        return value

    def owner(self, channel: str, field: str) -> Owner:
        per_channel = self.field_owners.get(channel)
        if isinstance(per_channel, dict) and field in per_channel:
            return Owner(per_channel[field])
        general = self.field_owners.get(field)
        if isinstance(general, str):
            return Owner(general)
        return DEFAULT_FIELD_OWNERS.get(field, Owner.RIFF)

    def windows_for(self, channel: str) -> list[str] | None:
        """Configured windows for ``channel`` (an empty list switches them off), or None: not configured."""
        return self.maintenance_windows.get(channel)


@functools.lru_cache(maxsize=1)
def get_sync_settings() -> SyncSettings:
    return SyncSettings()


def reset_sync_settings_cache() -> None:
    get_sync_settings.cache_clear()
