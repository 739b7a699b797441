"""The sync engine's jobs and schedules: the nightly reconciliation, order polling every 5 minutes,
maintenance windows waited out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings
from riff.jobs.config import JobsSettings
from riff.jobs.errors import RetryableJobError
from riff.sync import pull, status
from riff.sync.repository import SyncRepository

from .conftest import jobs
from .factories import create_account, create_product, list_on


def test_schedules_poll_orders_every_five_minutes_and_reconcile_nightly() -> None:
    schedules = JobsSettings(_env_file=None).resolved_schedules()  # type: ignore[call-arg]
    assert schedules["reverb.fetch_orders"].cron == "*/5 * * * *"
    assert schedules["reverb.pull_listings"].cron == "0 * * * *"
    assert (schedules["sync.reconcile"].cron, schedules["sync.reconcile"].kind) == (
        "30 5 * * *",
        "sync.reconcile",
    )
    overridden = JobsSettings(schedules={"ebay.fetch_orders": {"cron": "*/15 * * * *"}}, _env_file=None)  # type: ignore[call-arg]
    assert overridden.resolved_schedules()["ebay.fetch_orders"].cron == "*/15 * * * *"


def test_the_nightly_job_queues_a_full_pull_per_channel(database: Database, settings: Settings) -> None:
    import riff.channels.reverb.tasks  # noqa: F401 - a channel with a pull handler
    from riff.jobs import enqueue
    from riff.jobs.worker import Worker

    with database.session() as session:
        create_account(session, "reverb")
        enqueue(session, "sync.reconcile")
    Worker(database, settings, with_scheduler=False, import_handlers=False).process_available(max_jobs=1)
    (pull_job,) = jobs(database, "reverb.pull_listings")
    assert pull_job.payload["full"] is True and pull_job.payload["reconcile"] is True


def test_a_reconciliation_summary_reaches_the_status_page(database: Database) -> None:
    with database.session() as session:
        create_account(session, "reverb")
        product = create_product(session, base_price=Decimal("100.00"))
        list_on(session, product, ["reverb"], remote_price=Decimal("90.00"))
    summary = pull.record_reconciliation(database, "reverb")
    assert summary["mismatch_counts"] == {"price": 1, "quantity": 0, "state": 0}
    with database.read_session() as session:
        (reverb,) = status.status(session)["channels"]
    assert reverb["last_reconciliation"]["mismatch_counts"]["price"] == 1


def test_a_job_inside_the_maintenance_window_waits_for_its_end(
    database: Database, frozen_clock: FrozenClock
) -> None:
    frozen_clock.now = dt.datetime(2026, 1, 1, 3, 30, tzinfo=dt.UTC)
    with database.session() as session:
        account = create_account(session, "vintage_and_rare")
        with pytest.raises(RetryableJobError) as waiting:
            pull.wait_out_window(session, "vintage_and_rare", account.id)
        assert waiting.value.retry_after == 90 * 60
        pull.wait_out_window(session, "reverb", None)  # no window: nothing happens
        assert SyncRepository(session).channel_state("reverb").pull_cursor is None
