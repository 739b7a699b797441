"""Job-engine settings (prefix ``RIFF_JOBS_``), kept apart from the process-wide ``Settings``.

``Settings`` still owns the knobs shared with the rest of RIFF: ``worker_concurrency``,
``job_retention_days`` and ``redis_url``. Dict settings take JSON, for example
``RIFF_JOBS_RATE_LIMITS='{"reverb": {"rate": 5, "burst": 10}}'`` or
``RIFF_JOBS_SCHEDULES='{"ebay.pull_listings": {"cron": "*/30 * * * *"}, "discogs.pull_listings": null}'``
(``null`` disables a default schedule). Overrides are merged into the defaults in ``consts.py``.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from riff.jobs import consts


class RateLimitConfig(BaseModel):
    rate: float = Field(gt=0, description="Units refilled per second")
    burst: float = Field(ge=1, description="Units available at once")


class ScheduleConfig(BaseModel):
    cron: str
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
    channel: str | None = None
    priority: int = int(consts.Priority.LOW)
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value


class JobsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RIFF_JOBS_", env_file=".env", extra="ignore")

    lease_seconds: float = Field(
        consts.DEFAULT_LEASE_SECONDS, gt=0, description="How long a claim lasts without a heartbeat"
    )
    heartbeat_seconds: float | None = Field(None, description="Lease renewal interval; default lease/3")
    poll_seconds: float = Field(2.0, gt=0, description="Fallback polling interval when no wake-up arrives")
    sweep_seconds: float = Field(5.0, gt=0, description="How often expired leases are recovered")
    default_max_attempts: int = Field(consts.DEFAULT_MAX_ATTEMPTS, ge=1)
    backoff_base_seconds: float = Field(10.0, ge=0, description="First retry delay; doubles per attempt")
    backoff_max_seconds: float = Field(3600.0, ge=0)
    backoff_jitter: float = Field(0.25, ge=0, le=1, description="Delay is scaled by 1 +/- this, at random")
    async_commit: bool = Field(
        True, description="PostgreSQL: commit the worker's job bookkeeping without waiting for the disk"
    )
    shutdown_grace_seconds: float | None = Field(
        None, description="On SIGTERM, wait this long for running jobs (default: until they finish)"
    )
    rate_limits: dict[str, RateLimitConfig] = Field(default_factory=dict)
    rate_limit_max_wait_seconds: float = Field(
        60.0, ge=0, description="Longer waits raise a retryable error instead of holding a worker"
    )
    concurrency_limits: dict[str, int] = Field(default_factory=dict)
    schedules: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    import_modules: list[str] = Field(
        default_factory=list, description="Extra modules a worker imports to register handlers"
    )

    @property
    def heartbeat_interval(self) -> float:
        return self.heartbeat_seconds or self.lease_seconds / 3

    def resolved_rate_limits(self) -> dict[str, RateLimitConfig]:
        merged = {name: RateLimitConfig(**cfg) for name, cfg in consts.DEFAULT_RATE_LIMITS.items()}
        merged.update(self.rate_limits)
        return merged

    def resolved_concurrency_limits(self) -> dict[str, int]:
        merged = dict(consts.DEFAULT_CONCURRENCY_LIMITS)
        merged.update(self.concurrency_limits)
        return {channel: cap for channel, cap in merged.items() if cap > 0}

    def resolved_schedules(self) -> dict[str, ScheduleConfig]:
        merged: dict[str, ScheduleConfig] = {}
        for name, default in consts.DEFAULT_SCHEDULES.items():
            if name in self.schedules and self.schedules[name] is None:
                continue
            merged[name] = ScheduleConfig(**{**default, **(self.schedules.get(name) or {})})
        for name, override in self.schedules.items():
            if name not in consts.DEFAULT_SCHEDULES and override is not None:
                merged[name] = ScheduleConfig(**override)
        return {name: schedule for name, schedule in merged.items() if schedule.enabled}


@functools.lru_cache(maxsize=1)
def get_jobs_settings() -> JobsSettings:
    return JobsSettings()


def reset_jobs_settings_cache() -> None:
    get_jobs_settings.cache_clear()
