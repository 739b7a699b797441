"""Cron-style periodic jobs, fired exactly once per fire time however many schedulers run.

Every scheduler (one per worker process by default) computes, per schedule, the latest fire time at or
before now (``due``). A ``scheduler_runs`` row per schedule holds the last fire time; the scheduler that
wins ``UPDATE ... SET last_fire_at = :due WHERE name = :name AND last_fire_at < :due`` enqueues the job in
the same transaction (with coalesce key ``schedule:<name>`` as a second guard). After downtime only the
latest missed fire time is due, so a schedule catches up once, never in a burst. A schedule seen for the
first time records the latest past fire time without firing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

from croniter import croniter

from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.jobs import consts, registry, service
from riff.jobs.config import JobsSettings, ScheduleConfig, get_jobs_settings
from riff.jobs.consts import Priority
from riff.jobs.repository import SchedulerRunRepository

log = get_logger(__name__)

MAX_IDLE_SECONDS = 30.0
SCHEDULE_COALESCE_PREFIX = "schedule:"


@dataclasses.dataclass(frozen=True)
class ScheduleInfo:
    name: str
    cron: str
    kind: str
    channel: str | None
    priority: int
    last_fire_at: dt.datetime | None
    next_fire_at: dt.datetime
    last_job_id: int | None
    handler_registered: bool


def add_default_schedule(
    name: str,
    *,
    cron: str,
    kind: str,
    channel: str | None = None,
    priority: int = int(Priority.LOW),
    payload: dict[str, Any] | None = None,
    replace: bool = False,
) -> None:
    """Contribute a default schedule from a package's ``tasks`` module (imported by every worker before its
    scheduler starts). ``RIFF_JOBS_SCHEDULES`` still overrides or disables it by ``name``. An existing
    default of the same name is kept unless ``replace``."""
    config = ScheduleConfig(cron=cron, kind=kind, channel=channel, priority=priority, payload=payload or {})
    if replace or name not in consts.DEFAULT_SCHEDULES:
        consts.DEFAULT_SCHEDULES[name] = config.model_dump(exclude={"enabled"})


def latest_fire_time(cron: str, now: dt.datetime) -> dt.datetime:
    """The latest fire time at or before ``now``."""
    # croniter's get_prev is strictly before its start; nudge the start so "exactly now" counts as due.
    return croniter(cron, now + dt.timedelta(microseconds=1)).get_prev(dt.datetime)  # type: ignore[no-any-return]


def next_fire_time(cron: str, now: dt.datetime) -> dt.datetime:
    """The first fire time strictly after ``now``."""
    return croniter(cron, now).get_next(dt.datetime)  # type: ignore[no-any-return]


class Scheduler:
    def __init__(
        self,
        database: Database,
        jobs_settings: JobsSettings | None = None,
        *,
        schedules: Mapping[str, ScheduleConfig] | None = None,
        require_handler: bool = True,
    ) -> None:
        self.database = database
        self.jobs_settings = jobs_settings or get_jobs_settings()
        self.schedules = dict(schedules if schedules is not None else self.jobs_settings.resolved_schedules())
        # Only fire kinds this process can run: a schedule for a channel not built (or not installed) stays
        # silent instead of filling the queue with jobs nobody claims.
        self.require_handler = require_handler
        self._warned: set[str] = set()

    def _active(self) -> dict[str, ScheduleConfig]:
        active: dict[str, ScheduleConfig] = {}
        kinds = registry.registered_kinds()
        for name, schedule in self.schedules.items():
            if self.require_handler and schedule.kind not in kinds:
                if name not in self._warned:
                    self._warned.add(name)
                    log.info("jobs.schedule.skipped", schedule=name, kind=schedule.kind, reason="no handler")
                continue
            active[name] = schedule
        return active

    def tick(self, now: dt.datetime | None = None) -> list[int]:
        """Fire every schedule that is due; returns the ids of the jobs this scheduler enqueued."""
        now = now or utcnow()
        active = self._active()
        if not active:
            return []
        last_fired = self._last_fire_times()
        fired: list[int] = []
        for name, schedule in active.items():
            due = latest_fire_time(schedule.cron, now)
            last = last_fired.get(name)
            if last is not None and last >= due:
                continue  # the common case: nothing to do, and no write transaction taken
            try:
                job_id = self._fire(name, schedule, due, now, known=last is not None)
            except Exception as exc:  # one broken schedule must not stop the others
                log.error(
                    "jobs.schedule.error", schedule=name, error=type(exc).__name__, message=str(exc)[:300]
                )
                continue
            if job_id is not None:
                fired.append(job_id)
        return fired

    def _fire(
        self, name: str, schedule: ScheduleConfig, due: dt.datetime, now: dt.datetime, known: bool
    ) -> int | None:
        with self.database.session() as session:
            runs = SchedulerRunRepository(session)
            if not known and runs.insert_baseline(name, due, now):
                log.info("jobs.schedule.registered", schedule=name, baseline=due.isoformat())
                return None
            if not runs.claim_fire(name, due, now):
                return None  # another scheduler fired this one
            job = service.enqueue(
                session,
                schedule.kind,
                payload={**schedule.payload, "schedule": name, "fire_time": due.isoformat()},
                channel=schedule.channel,
                priority=schedule.priority,
                coalesce_key=SCHEDULE_COALESCE_PREFIX + name,
            )
            runs.set_last_job(name, job.id if job is not None else None)
        log.info(
            "jobs.schedule.fired",
            schedule=name,
            kind=schedule.kind,
            fire_time=due.isoformat(),
            job_id=job.id if job else None,
        )
        return job.id if job is not None else None

    def seconds_until_next(self, now: dt.datetime | None = None) -> float:
        now = now or utcnow()
        active = self._active()
        if not active:
            return MAX_IDLE_SECONDS
        soonest = min(next_fire_time(s.cron, now) for s in active.values())
        return max(0.05, min(MAX_IDLE_SECONDS, (soonest - now).total_seconds()))

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set (a worker runs this in a thread)."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # database briefly unreachable: try again at the next wake-up
                log.error("jobs.scheduler.error", error=type(exc).__name__, message=str(exc)[:300])
            # Wake a moment after the fire time so `due` is already the new one.
            stop.wait(self.seconds_until_next() + 0.01)

    def _last_fire_times(self) -> dict[str, dt.datetime]:
        with self.database.read_session() as session:
            return {
                name: run.last_fire_at for name, run in SchedulerRunRepository(session).all_by_name().items()
            }

    def describe(self, now: dt.datetime | None = None) -> list[ScheduleInfo]:
        now = now or utcnow()
        with self.database.read_session() as session:
            runs = {
                name: (run.last_fire_at, run.last_job_id)
                for name, run in SchedulerRunRepository(session).all_by_name().items()
            }
        kinds = registry.registered_kinds()
        infos = []
        for name, schedule in sorted(self.schedules.items()):
            last_fire_at, last_job_id = runs.get(name, (None, None))
            infos.append(
                ScheduleInfo(
                    name=name,
                    cron=schedule.cron,
                    kind=schedule.kind,
                    channel=schedule.channel,
                    priority=schedule.priority,
                    last_fire_at=last_fire_at,
                    next_fire_at=next_fire_time(schedule.cron, now),
                    last_job_id=last_job_id,
                    handler_registered=schedule.kind in kinds,
                )
            )
        return infos
