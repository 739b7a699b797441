"""Response bodies of the jobs API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    channel: str | None
    product_id: int | None
    listing_id: int | None
    payload: dict[str, Any]
    status: str
    priority: int
    attempts: int
    max_attempts: int
    run_after: dt.datetime
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    coalesce_key: str | None
    last_error_message: str | None
    last_error_class: str | None
    last_error_retryable: bool | None
    last_error_at: dt.datetime | None
    result: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class JobPage(BaseModel):
    items: list[JobRead]
    total: int
    limit: int
    offset: int


class QueueStatsRead(BaseModel):
    by_status: dict[str, int]
    by_channel: dict[str, dict[str, int]]
    oldest_queued_age_seconds: float | None
    failed_last_hour: int
    errors_last_hour: int
    expired_leases: int


class ScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    cron: str
    kind: str
    channel: str | None
    priority: int
    last_fire_at: dt.datetime | None
    next_fire_at: dt.datetime
    last_job_id: int | None
    handler_registered: bool
