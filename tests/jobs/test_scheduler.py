"""Cron schedules: exactly one enqueue per fire time across schedulers, one catch-up after downtime."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from riff.core.clock import UTC, FrozenClock
from riff.core.db import Database
from riff.jobs.config import JobsSettings, ScheduleConfig
from riff.jobs.models import Job, SchedulerRun
from riff.jobs.scheduler import Scheduler, latest_fire_time, next_fire_time

HOURLY = {"reverb.pull_sync": ScheduleConfig(cron="0 * * * *", kind="test.noop", channel="reverb")}


def _jobs(database: Database) -> list[Job]:
    with database.session() as session:
        return list(session.scalars(sa.select(Job).order_by(Job.id)))


def test_fire_time_arithmetic() -> None:
    at = dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert latest_fire_time("0 * * * *", at) == at  # exactly on time counts as due
    assert latest_fire_time("0 * * * *", at - dt.timedelta(seconds=1)) == at - dt.timedelta(hours=1)
    assert next_fire_time("0 * * * *", at) == at + dt.timedelta(hours=1)
    # Weekly archive, Sunday 03:00: 2026-01-01 is a Thursday.
    assert next_fire_time("0 3 * * 0", at) == dt.datetime(2026, 1, 4, 3, 0, tzinfo=UTC)


def test_default_schedules() -> None:
    schedules = JobsSettings(_env_file=None).resolved_schedules()  # type: ignore[call-arg]
    assert schedules["reverb.pull_listings"].cron == "0 * * * *"
    assert schedules["ebay.fetch_orders"].kind == "ebay.fetch_orders"
    assert schedules["reverb.collect_stats"].cron == "0 2 * * *"
    assert schedules["shopify.archive_sold"].cron == "0 3 * * 0"
    assert schedules["catalog.check_images"].cron == "0 2 * * *"
    assert schedules["jobs.prune"].kind == "jobs.prune"
    assert "3" not in schedules["vintage_and_rare.pull_listings"].cron.split()[1].split(",")
    overridden = JobsSettings(
        schedules={"discogs.pull_listings": None, "ebay.pull_listings": {"cron": "*/30 * * * *"}},
        _env_file=None,  # type: ignore[call-arg]
    ).resolved_schedules()
    assert "discogs.pull_listings" not in overridden
    assert overridden["ebay.pull_listings"].cron == "*/30 * * * *"
    assert overridden["ebay.pull_listings"].kind == "ebay.pull_listings"
    with pytest.raises(ValueError, match="cron"):
        ScheduleConfig(cron="every hour", kind="x")


def test_first_sight_records_a_baseline_then_fires_on_the_next_boundary(
    database: Database, frozen_clock: FrozenClock
) -> None:
    frozen_clock.now = dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    scheduler = Scheduler(database, schedules=HOURLY)
    assert scheduler.tick() == []
    assert scheduler.tick() == []
    frozen_clock.now = dt.datetime(2026, 1, 1, 13, 0, 5, tzinfo=UTC)
    [job_id] = scheduler.tick()
    assert scheduler.tick() == []
    [job] = _jobs(database)
    assert (job.id, job.kind, job.channel, job.coalesce_key) == (
        job_id,
        "test.noop",
        "reverb",
        "schedule:reverb.pull_sync",
    )
    assert job.payload == {"schedule": "reverb.pull_sync", "fire_time": "2026-01-01T13:00:00+00:00"}


def test_three_schedulers_fire_each_time_exactly_once(database: Database, frozen_clock: FrozenClock) -> None:
    """Three schedulers (each with its own connection pool, as three worker processes would have)
    tick at the same instant for five consecutive hours."""
    frozen_clock.now = dt.datetime(2026, 1, 1, 11, 59, tzinfo=UTC)
    databases = [Database(database.url) for _ in range(3)]
    schedulers = [Scheduler(db, schedules=HOURLY) for db in databases]
    schedulers[0].tick()  # baseline
    fired: list[int] = []
    lock = threading.Lock()
    for hour in range(5):
        frozen_clock.now = dt.datetime(2026, 1, 1, 12 + hour, 0, tzinfo=UTC)
        barrier = threading.Barrier(3)

        def tick(scheduler: Scheduler, barrier: threading.Barrier) -> None:
            barrier.wait()
            for _ in range(3):
                ids = scheduler.tick()
                with lock:
                    fired.extend(ids)

        threads = [threading.Thread(target=tick, args=(s, barrier)) for s in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # The job is done before the next hour, as a worker would have done it.
        with database.session() as session:
            session.execute(sa.update(Job).where(Job.status == "queued").values(status="completed"))
    for db in databases:
        db.dispose()
    jobs = _jobs(database)
    assert len(fired) == 5 and sorted(fired) == [job.id for job in jobs]
    assert [job.payload["fire_time"][11:16] for job in jobs] == ["12:00", "13:00", "14:00", "15:00", "16:00"]


def test_catches_up_once_after_downtime(database: Database, frozen_clock: FrozenClock) -> None:
    frozen_clock.now = dt.datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    scheduler = Scheduler(database, schedules=HOURLY)
    scheduler.tick()
    frozen_clock.now = dt.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert len(scheduler.tick()) == 1
    with database.session() as session:
        session.execute(sa.update(Job).values(status="completed"))
    # Down from 10:05 to 15:20: five fire times missed.
    frozen_clock.now = dt.datetime(2026, 1, 1, 15, 20, tzinfo=UTC)
    restarted = Scheduler(database, schedules=HOURLY)
    assert len(restarted.tick()) == 1
    assert restarted.tick() == []
    with database.session() as session:
        run = session.get(SchedulerRun, "reverb.pull_sync")
        assert run is not None and run.last_fire_at == dt.datetime(2026, 1, 1, 15, 0, tzinfo=UTC)
    assert [job.payload["fire_time"][11:16] for job in _jobs(database)] == ["10:00", "15:00"]


def test_a_still_queued_run_absorbs_the_next_one(database: Database, frozen_clock: FrozenClock) -> None:
    frozen_clock.now = dt.datetime(2026, 1, 1, 9, 30, tzinfo=UTC)
    scheduler = Scheduler(database, schedules=HOURLY)
    scheduler.tick()
    for hour in (10, 11, 12):
        frozen_clock.now = dt.datetime(2026, 1, 1, hour, 0, tzinfo=UTC)
        scheduler.tick()
    [job] = _jobs(database)  # no worker ran it: the later fire times coalesced into it
    assert job.payload["fire_time"].startswith("2026-01-01T12:00")


def test_schedules_without_a_handler_stay_silent(database: Database, frozen_clock: FrozenClock) -> None:
    schedules = {"nobody": ScheduleConfig(cron="* * * * *", kind="nobody.handles_this")}
    scheduler = Scheduler(database, schedules=schedules)
    for _ in range(3):
        frozen_clock.advance(minutes=1)
        assert scheduler.tick() == []
    assert _jobs(database) == []
    [info] = scheduler.describe()
    assert (info.name, info.handler_registered, info.last_fire_at) == ("nobody", False, None)


def test_describe_lists_next_fire_times(database: Database, frozen_clock: FrozenClock) -> None:
    frozen_clock.now = dt.datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    scheduler = Scheduler(database, schedules=HOURLY)
    scheduler.tick()
    [info] = scheduler.describe()
    assert info.next_fire_at == dt.datetime(2026, 1, 1, 13, 0, tzinfo=UTC)
    assert info.last_fire_at == dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert info.handler_registered is True


def test_packages_can_contribute_default_schedules() -> None:
    from riff.jobs import add_default_schedule, consts

    try:
        add_default_schedule("test.nightly", cron="0 4 * * *", kind="test.noop", payload={"full": True})
        add_default_schedule("test.nightly", cron="0 5 * * *", kind="test.noop")  # kept: no replace
        schedules = JobsSettings(_env_file=None).resolved_schedules()  # type: ignore[call-arg]
        assert (schedules["test.nightly"].cron, schedules["test.nightly"].payload) == (
            "0 4 * * *",
            {"full": True},
        )
        disabled = JobsSettings(schedules={"test.nightly": None}, _env_file=None)  # type: ignore[call-arg]
        assert "test.nightly" not in disabled.resolved_schedules()
        with pytest.raises(ValueError, match="cron"):
            add_default_schedule("test.bad", cron="sometimes", kind="test.noop")
    finally:
        consts.DEFAULT_SCHEDULES.pop("test.nightly", None)
