"""Enqueue (transactional outbox, coalescing), claiming (priority, caps, SKIP LOCKED), operator actions."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from riff.catalog.models import Product
from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.jobs import service
from riff.jobs.consts import JobStatus, Priority
from riff.jobs.errors import JobNotFound, JobStateConflict
from riff.jobs.models import Job

from .conftest import jobs_by_id


def _count_jobs(database: Database, *conditions: sa.ColumnElement[bool]) -> int:
    with database.read_session() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Job).where(*conditions)) or 0)


def _claim(
    database: Database, limit: int = 10, caps: dict[str, int] | None = None, owner: str = "w1"
) -> list[Job]:
    with database.session() as session:
        return service.claim_jobs(
            session, owner=owner, limit=limit, lease_seconds=60, concurrency_limits=caps
        )


class TestEnqueue:
    def test_job_commits_with_the_callers_change(self, database: Database) -> None:
        with database.session() as session:
            product = Product(
                sku="RIFF-1", title="Fender Twin 1965", description="", base_price=1000, currency="GBP"
            )
            session.add(product)
            session.flush()
            job = service.enqueue(
                session, "test.publish", channel="reverb", product_id=product.id, payload={"a": 1}
            )
        assert job is not None
        stored = jobs_by_id(database)[job.id]
        assert (stored.kind, stored.status, stored.channel, stored.payload) == (
            "test.publish",
            "queued",
            "reverb",
            {"a": 1},
        )
        assert (stored.attempts, stored.max_attempts, stored.priority) == (0, 10, Priority.NORMAL)

    def test_rolled_back_change_leaves_no_job(self, database: Database) -> None:
        with pytest.raises(RuntimeError), database.session() as session:
            product = Product(
                sku="RIFF-2", title="Gibson ES-335", description="", base_price=2000, currency="GBP"
            )
            session.add(product)
            session.flush()
            service.enqueue(session, "reverb.publish", product_id=product.id)
            raise RuntimeError("the product change failed validation")
        assert _count_jobs(database) == 0
        with database.read_session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0

    def test_rejects_naive_run_after_and_bad_kind(self, database: Database) -> None:
        with database.session() as session:
            with pytest.raises(ValueError, match="timezone"):
                service.enqueue(session, "x.y", run_after=dt.datetime(2026, 1, 1))  # noqa: DTZ001
            with pytest.raises(ValueError, match="kind"):
                service.enqueue(session, "")
        assert _count_jobs(database) == 0


class TestCoalescing:
    def test_a_queued_job_absorbs_later_requests(self, database: Database, frozen_clock: FrozenClock) -> None:
        key = "reverb.update:42"
        later = frozen_clock.now + dt.timedelta(minutes=5)
        with database.session() as session:
            first = service.enqueue(
                session,
                "reverb.update",
                coalesce_key=key,
                priority=Priority.LOW,
                run_after=later,
                payload={"v": 1},
            )
        with database.session() as session:
            second = service.enqueue(
                session, "reverb.update", coalesce_key=key, priority=Priority.HIGH, payload={"v": 2}
            )
            third = service.enqueue(
                session, "reverb.update", coalesce_key=key, priority=Priority.BULK, payload={"v": 3}
            )
        assert first is not None and second is None and third is None
        jobs = jobs_by_id(database)
        assert list(jobs) == [first.id]
        merged = jobs[first.id]
        # The more urgent priority and the earlier run_after are kept; the newest payload wins.
        assert (merged.priority, merged.run_after, merged.payload) == (
            Priority.HIGH,
            frozen_clock.now,
            {"v": 3},
        )

    def test_a_started_job_does_not_absorb_a_new_change(self, database: Database) -> None:
        with database.session() as session:
            service.enqueue(session, "reverb.update", coalesce_key="k")
        [claimed] = _claim(database)
        with database.session() as session:
            again = service.enqueue(session, "reverb.update", coalesce_key="k")
        assert again is not None and again.id != claimed.id
        assert _count_jobs(database, Job.status == "queued") == 1

    def test_different_keys_and_no_key_never_coalesce(self, database: Database) -> None:
        with database.session() as session:
            for key in ("a", "b", None, None):
                assert service.enqueue(session, "k.k", coalesce_key=key) is not None
        assert _count_jobs(database) == 4

    def test_concurrent_enqueuers_leave_one_queued_job(self, database: Database) -> None:
        """Eight threads, each with its own connection, enqueue the same key at the same moment."""
        barrier = threading.Barrier(8)
        results: list[int | None] = []
        errors: list[BaseException] = []
        lock = threading.Lock()
        databases = [Database(database.url) for _ in range(8)]

        def enqueue(db: Database) -> None:
            try:
                barrier.wait()
                for _ in range(5):
                    with db.session() as session:
                        job = service.enqueue(session, "ebay.revise", coalesce_key="ebay.revise:7")
                    with lock:
                        results.append(job.id if job else None)
            except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=enqueue, args=(db,)) for db in databases]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for db in databases:
            db.dispose()
        assert errors == []
        created = [job_id for job_id in results if job_id is not None]
        assert len(created) == 1 and len(results) == 40
        assert _count_jobs(database) == 1


class TestClaim:
    def test_priority_order_then_run_after_then_id(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        with database.session() as session:
            bulk = [service.enqueue(session, "reverb.publish", priority=Priority.BULK) for _ in range(50)]
            normal = service.enqueue(session, "reverb.update_price", priority=Priority.NORMAL)
            urgent = service.enqueue(session, "reverb.end_listing", priority=Priority.URGENT)
            early_urgent = service.enqueue(
                session,
                "ebay.end_listing",
                priority=Priority.URGENT,
                run_after=frozen_clock.now - dt.timedelta(seconds=1),
            )
        claimed = _claim(database, limit=4)
        assert [job.id for job in claimed] == [early_urgent.id, urgent.id, normal.id, bulk[0].id]  # type: ignore[union-attr]
        assert all(
            job.status == "in_progress" and job.attempts == 1 and job.lease_owner == "w1" for job in claimed
        )

    def test_future_jobs_wait_for_run_after(self, database: Database, frozen_clock: FrozenClock) -> None:
        with database.session() as session:
            service.enqueue(session, "x.later", run_after=frozen_clock.now + dt.timedelta(minutes=1))
        assert _claim(database) == []
        frozen_clock.advance(minutes=1)
        assert len(_claim(database)) == 1

    def test_kinds_filter(self, database: Database) -> None:
        with database.session() as session:
            service.enqueue(session, "a.one")
            service.enqueue(session, "b.two")
        with database.session() as session:
            claimed = service.claim_jobs(session, owner="w", limit=10, lease_seconds=60, kinds=["b.two"])
        assert [job.kind for job in claimed] == ["b.two"]

    def test_concurrency_cap_per_channel(self, database: Database) -> None:
        with database.session() as session:
            for _ in range(3):
                service.enqueue(session, "vr.publish", channel="vintage_and_rare", priority=Priority.URGENT)
            for _ in range(3):
                service.enqueue(session, "reverb.publish", channel="reverb")
        caps = {"vintage_and_rare": 1}
        first = _claim(database, limit=10, caps=caps)
        assert sorted(job.channel or "" for job in first) == [
            "reverb",
            "reverb",
            "reverb",
            "vintage_and_rare",
        ]
        assert _claim(database, limit=10, caps=caps, owner="w2") == []  # V&R is at its cap, across workers
        vr_job = next(job for job in first if job.channel == "vintage_and_rare")
        with database.session() as session:
            assert service.complete_attempt(session, vr_job, owner="w1", result=None)
        [second] = _claim(database, limit=10, caps=caps, owner="w2")
        assert second.channel == "vintage_and_rare"

    def test_concurrent_claimers_respect_the_cap(self, database: Database) -> None:
        with database.session() as session:
            for _ in range(20):
                service.enqueue(session, "vr.publish", channel="vintage_and_rare")
        databases = [Database(database.url) for _ in range(6)]
        barrier = threading.Barrier(6)
        claimed: list[Job] = []
        lock = threading.Lock()

        def claim(db: Database, index: int) -> None:
            barrier.wait()
            jobs = _claim(db, limit=3, caps={"vintage_and_rare": 2}, owner=f"w{index}")
            with lock:
                claimed.extend(jobs)

        threads = [threading.Thread(target=claim, args=(db, i)) for i, db in enumerate(databases)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for db in databases:
            db.dispose()
        assert len(claimed) == 2
        assert len({job.id for job in claimed}) == 2

    def test_concurrent_claimers_never_share_a_job(self, database: Database) -> None:
        with database.session() as session:
            for _ in range(200):
                service.enqueue(session, "x.bulk", priority=Priority.BULK)
        databases = [Database(database.url) for _ in range(4)]
        claimed: list[int] = []
        lock = threading.Lock()

        def drain(db: Database, index: int) -> None:
            while True:
                jobs = _claim(db, limit=3, owner=f"w{index}")
                if not jobs:
                    return
                with lock:
                    claimed.extend(job.id for job in jobs)

        threads = [threading.Thread(target=drain, args=(db, i)) for i, db in enumerate(databases)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for db in databases:
            db.dispose()
        assert len(claimed) == 200 and len(set(claimed)) == 200


class TestOperatorActions:
    def _failed_job(self, database: Database, coalesce_key: str | None = None) -> Job:
        with database.session() as session:
            job = service.enqueue(session, "ebay.publish", coalesce_key=coalesce_key, max_attempts=1)
        assert job is not None
        [claimed] = _claim(database)
        from riff.jobs.config import JobsSettings
        from riff.jobs.errors import ErrorInfo

        with database.session() as session:
            status = service.fail_attempt(
                session,
                claimed,
                ErrorInfo("boom", "x.Boom", True, None),
                owner="w1",
                jobs_settings=JobsSettings(),
            )
        assert status == JobStatus.FAILED
        return claimed

    def test_retry_a_failed_job_starts_over(self, database: Database) -> None:
        failed = self._failed_job(database)
        with database.session() as session:
            job = service.retry_job(session, failed.id)
        assert (job.status, job.attempts, job.finished_at) == ("queued", 0, None)
        assert job.last_error_message == "boom"  # history kept until the next attempt
        assert len(_claim(database)) == 1

    def test_retry_refuses_when_an_equivalent_job_is_queued(self, database: Database) -> None:
        failed = self._failed_job(database, coalesce_key="ebay.publish:1")
        with database.session() as session:
            newer = service.enqueue(session, "ebay.publish", coalesce_key="ebay.publish:1")
        with pytest.raises(JobStateConflict) as raised, database.session() as session:
            service.retry_job(session, failed.id)
        assert raised.value.details == {"queued_job_id": newer.id}  # type: ignore[union-attr]

    def test_cancel_queued_and_failed_but_not_running(self, database: Database) -> None:
        failed = self._failed_job(database)
        with database.session() as session:
            queued = service.enqueue(session, "a.b")
            running = service.enqueue(session, "a.c", priority=Priority.URGENT)
        _claim(database, limit=1)
        with database.session() as session:
            assert service.cancel_job(session, queued.id).status == "cancelled"  # type: ignore[union-attr]
            assert service.cancel_job(session, failed.id).status == "cancelled"
        with pytest.raises(JobStateConflict), database.session() as session:
            service.cancel_job(session, running.id)  # type: ignore[union-attr]
        with pytest.raises(JobNotFound), database.session() as session:
            service.cancel_job(session, 999_999)
        assert jobs_by_id(database)[running.id].status == "in_progress"  # type: ignore[union-attr]

    def test_completed_jobs_cannot_be_retried(self, database: Database) -> None:
        with database.session() as session:
            service.enqueue(session, "a.b")
        [job] = _claim(database)
        with database.session() as session:
            service.complete_attempt(session, job, owner="w1", result={"ok": True})
        with pytest.raises(JobStateConflict), database.session() as session:
            service.retry_job(session, job.id)


class TestStatsAndPruning:
    def test_stats_count_by_status_and_channel(self, database: Database, frozen_clock: FrozenClock) -> None:
        with database.session() as session:
            service.enqueue(session, "reverb.publish", channel="reverb")
            service.enqueue(session, "reverb.publish", channel="reverb")
            service.enqueue(session, "jobs.prune")
            service.enqueue(session, "ebay.publish", channel="ebay", priority=Priority.URGENT)
        _claim(database, limit=1)
        frozen_clock.advance(seconds=90)
        with database.read_session() as session:
            stats = service.queue_stats(session)
        assert stats.by_status["queued"] == 3 and stats.by_status["in_progress"] == 1
        assert stats.by_channel == {"reverb": {"queued": 2}, "ebay": {"in_progress": 1}, "-": {"queued": 1}}
        assert stats.oldest_queued_age_seconds == pytest.approx(90.0)
        assert stats.failed_last_hour == 0
        assert stats.expired_leases == 1  # leased for 60 s, 90 s ago

    def test_prune_deletes_old_finished_jobs_but_keeps_failed_ones(
        self, database: Database, frozen_clock: FrozenClock
    ) -> None:
        with database.session() as session:
            service.enqueue(session, "a.done")
            service.enqueue(session, "a.cancel")
        [done] = _claim(database, limit=1)
        with database.session() as session:
            service.complete_attempt(session, done, owner="w1", result=None)
        cancelled = next(job for job in jobs_by_id(database).values() if job.kind == "a.cancel")
        with database.session() as session:
            service.cancel_job(session, cancelled.id)
        failed = TestOperatorActions()._failed_job(database)
        frozen_clock.advance(days=15)
        with database.session() as session:
            service.enqueue(session, "a.fresh")
            assert service.prune_finished(session, retention_days=14) == 2
        assert sorted(job.kind for job in jobs_by_id(database).values()) == ["a.fresh", "ebay.publish"]
        assert jobs_by_id(database)[failed.id].status == "failed"
