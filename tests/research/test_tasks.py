"""Research through the job engine: schedules, a sync job, saved-search notifications to a local webhook
receiver, daily trends, re-analysis and the sync-job cleanup."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from riff.core import clock
from riff.core.db import Database
from riff.core.settings import Settings
from riff.jobs.config import JobsSettings
from riff.jobs.models import Job
from riff.jobs.scheduler import latest_fire_time
from riff.jobs.worker import Worker
from riff.research import service
from riff.research import tasks as research_tasks
from riff.research.config import ResearchSettings
from riff.research.consts import (
    KIND_ANALYZE,
    KIND_CHECK_SAVED,
    KIND_CLEANUP,
    KIND_NOTIFY,
    KIND_SYNC,
    KIND_TRENDS,
)
from riff.research.models import MarketListing, MarketSyncJob, MarketTrend, SavedSearch
from riff_sandbox.testing import WebhookReceiver

KINDS = [KIND_SYNC, KIND_CHECK_SAVED, KIND_NOTIFY, KIND_TRENDS, KIND_CLEANUP, KIND_ANALYZE]


def jobs_settings() -> JobsSettings:
    return JobsSettings(schedules={}, backoff_base_seconds=0.0, _env_file=None)  # type: ignore[call-arg]


def run_jobs(database: Database, settings: Settings) -> int:
    assert research_tasks.sync is not None  # handlers registered by the import
    worker = Worker(database, settings, jobs_settings=jobs_settings(), kinds=KINDS, with_scheduler=False,
                    import_handlers=False)  # fmt: skip
    return worker.process_available()


def test_default_schedules() -> None:
    schedules = jobs_settings().resolved_schedules()
    crons = {
        name: (s.cron, s.kind, s.payload.get("platform"))
        for name, s in schedules.items()
        if name.startswith("research.")
    }
    assert crons == {
        "research.sync_ebay": ("0 0,6,12,18 * * *", KIND_SYNC, "ebay"),
        "research.sync_etsy": ("0 2,8,14,20 * * *", KIND_SYNC, "etsy"),
        "research.sync_reddit": ("0 4,10,16,22 * * *", KIND_SYNC, "reddit"),
        "research.daily_trends": ("0 1 * * *", KIND_TRENDS, None),
        "research.cleanup_sync_jobs": ("0 3 * * *", KIND_CLEANUP, None),
    }
    at = dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC)
    fires = {name: latest_fire_time(cron, at).hour for name, (cron, _, _) in crons.items()}
    assert (fires["research.sync_ebay"], fires["research.sync_etsy"], fires["research.sync_reddit"]) == (
        6,
        8,
        4,
    )
    disabled = JobsSettings(schedules={"research.sync_reddit": None}, _env_file=None)  # type: ignore[call-arg]
    assert "research.sync_reddit" not in disabled.resolved_schedules()


def test_sync_job_notifies_saved_search_and_feeds_trends(
    database: Database, settings: Settings, research_env: ResearchSettings
) -> None:
    with WebhookReceiver() as receiver:
        with database.session() as session:
            watched = service.create_saved_search(
                session,
                {"name": "Denim on Etsy", "query": "", "platforms": ["etsy"], "min_price": None, "max_price": None,
                 "filters": {"category": "denim"}, "notify_enabled": True, "notify_url": receiver.url + "/hook"},
                "tests",
            )  # fmt: skip
            ignored = service.create_saved_search(
                session,
                {"name": "Nothing", "query": "zzzz-no-such-thing", "platforms": [], "min_price": None,
                 "max_price": None, "filters": {}, "notify_enabled": True, "notify_url": receiver.url + "/never"},
                "tests",
            )  # fmt: skip
            watched_id, ignored_id = watched.id, ignored.id
            job_ids = service.request_sync(session, "etsy", actor="tests")
        assert run_jobs(database, settings) >= 3  # sync, check, notify
        received = receiver.wait_for(1, timeout=5)
        assert len(received) == 1 and received[0].path == "/hook"
        body = received[0].json()
        assert body["event"] == "research.saved_search.match" and body["saved_search"]["id"] == watched_id
        assert body["count"] >= 1 and all(m["platform"] == "etsy" for m in body["matches"])
        with database.read_session() as session:
            job = session.get(Job, job_ids["etsy"])
            assert job is not None and job.status == "completed" and job.result and job.result["added"] > 0
            run = session.scalars(sa.select(MarketSyncJob)).one()
            assert (run.job_id, run.trigger, run.status) == (job.id, "manual", "completed")
            denim = session.scalar(sa.select(sa.func.count()).where(MarketListing.category == "denim"))
            search = session.get(SavedSearch, watched_id)
            assert search is not None and search.match_count == denim and search.last_notified_at is not None
            other = session.get(SavedSearch, ignored_id)
            assert other is not None and other.match_count == 0 and other.last_notified_at is None
            status = service.job_status(session, job.id)
            assert status["status"] == "completed" and status["runs"][0].id == run.id

        # Nothing new on the next sync: no second notification.
        with database.session() as session:
            service.request_sync(session, "etsy")
        run_jobs(database, settings)
        assert len(receiver.wait_for(2, timeout=0.5)) == 1

    with database.session() as session:
        from riff.jobs import enqueue

        enqueue(session, KIND_TRENDS, payload={"days": 1})
    run_jobs(database, settings)
    with database.read_session() as session:
        overall = session.scalars(
            sa.select(MarketTrend).where(
                MarketTrend.platform == "etsy", MarketTrend.brand == "", MarketTrend.category == ""
            )
        ).all()
        assert overall and sum(row.listing_count for row in overall) > 0


def test_analysis_job_and_cleanup(database: Database, settings: Settings, research_env: ResearchSettings,
                                  frozen_clock: clock.FrozenClock) -> None:  # fmt: skip
    now = frozen_clock.now
    with database.session() as session:
        listing = MarketListing(platform="reddit", external_id="t3_abc", title="[WTS] '72 Tele Thinline - $4,800",
                                description="natural, all original", image_urls=[], ai_tags=[], raw={},
                                first_seen_at=now, last_seen_at=now)  # fmt: skip
        session.add(listing)
        for days in (45, 31, 2):
            session.add(MarketSyncJob(platform="ebay", status="completed", trigger="schedule", queries=[],
                                      started_at=now - dt.timedelta(days=days), requests=1, fetched=0, added=0,
                                      updated=0, unchanged=0, errors=0))  # fmt: skip
        session.flush()
        listing_id = listing.id
        service.request_analysis(session, listing_id)
        from riff.jobs import enqueue

        enqueue(session, KIND_CLEANUP)
    run_jobs(database, settings)
    with database.read_session() as session:
        analysed = session.get(MarketListing, listing_id)
        assert analysed is not None
        assert (analysed.brand, analysed.era, analysed.ai_method) == ("Fender", "1970s", "rules+nb")
        assert analysed.analyzed_at == now and analysed.ai_analysis and analysed.ai_analysis["summary"]
        remaining = [r.started_at for r in session.scalars(sa.select(MarketSyncJob))]
        assert remaining == [now - dt.timedelta(days=2)]
