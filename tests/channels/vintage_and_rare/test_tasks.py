"""V&R jobs end to end (both databases): API -> job -> worker -> sandbox over HTTP -> database, and the
batched ID resolution with each of its triggers."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.channels.models import Listing
from riff.channels.models import ListingState as State
from riff.channels.vintage_and_rare import resolution
from riff.channels.vintage_and_rare.settings import VintageAndRareSettings, reset_vr_settings_cache
from riff.core.clock import FrozenClock, utcnow
from riff.core.db import Database
from riff.jobs.models import Job
from riff_sandbox.runner import RunningSandbox

from ..helpers import read_jobs
from .conftest import ImageServer, add_form_loads, creates, exports, sandbox_item, sandbox_settings
from .factories import create_product

PUBLISH = "vintage_and_rare.publish"
RESOLVE = "vintage_and_rare.resolve_ids"


def _products(database: Database, count: int, **overrides: Any) -> list[int]:
    models = ["Stratocaster", "Telecaster", "Jazzmaster", "Jaguar", "Precision Bass", "Jazz Bass", "Mustang",
              "Esquire", "Bronco", "Coronado", "Starcaster", "Musicmaster"]  # fmt: skip
    with database.session() as session:
        return [
            create_product(session, sku=f"RIFF-3000{n:04d}", model=models[n % len(models)], **overrides).id
            for n in range(count)
        ]


def _publish(client: TestClient, product_ids: list[int]) -> None:
    for product_id in product_ids:
        accepted = client.post(f"/api/products/{product_id}/listings/vintage_and_rare")
        assert accepted.status_code == 202, accepted.text


def _listed_with_id(
    client: TestClient, database: Database, sandbox: RunningSandbox, worker: Any, **overrides: Any
) -> int:
    """One product created and listed on V&R, the site naming the new id in its redirect (no resolution);
    returns the product id."""
    sandbox_settings(sandbox, id_in_redirect=True)
    [product_id] = _products(database, 1, **overrides)
    _publish(client, [product_id])
    assert worker.process_available() == 1
    return product_id


def _listings(database: Database) -> list[Listing]:
    with database.read_session() as session:
        found = list(
            session.scalars(
                sa.select(Listing).where(Listing.channel == "vintage_and_rare").order_by(Listing.id)
            )
        )
        for listing in found:
            session.expunge(listing)
        return found


def _statuses(database: Database, kind: str = PUBLISH) -> list[str]:
    return [job.status for job in read_jobs(database, kind)]


class TestPublish:
    def test_id_in_the_redirect_completes_at_once_with_no_download(
        self, owner_client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any,
        images: ImageServer,
    ) -> None:  # fmt: skip
        product_id = _listed_with_id(owner_client, database, sandbox, worker, image_urls=[images.url("a")])
        [listing] = _listings(database)
        assert listing.state == State.LIVE and listing.remote_id is not None
        assert listing.remote_url == f"{sandbox.base_url}/product/{listing.remote_id}"
        assert _statuses(database) == ["completed"] and read_jobs(database, RESOLVE) == []
        assert exports(sandbox) == 0
        assert sandbox_item(sandbox, listing.remote_id)["external_id"] == "RIFF-30000000"

        # Idempotent: publishing again skips the create.
        _publish(owner_client, [product_id])
        worker.process_available()
        assert creates(sandbox) == 1
        assert read_jobs(database, PUBLISH)[-1].result["skipped"] == "the product is already listed on V&R"  # type: ignore[index]

    def test_single_job_resolves_when_the_queue_is_empty(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        [product_id] = _products(database, 1)
        _publish(owner_client, [product_id])
        assert worker.process_available(max_jobs=1) == 1
        [job] = read_jobs(database, PUBLISH)
        assert job.status == "completed_pending_id"
        criteria = job.payload["match_criteria"]
        assert (
            criteria["brand"] == "Fender"
            and criteria["model"] == "Stratocaster"
            and criteria["sku"] == "RIFF-30000000"
        )
        assert criteria["last_known_vr_id"] == 0 and criteria["created_at"]
        [resolve] = read_jobs(database, RESOLVE)
        assert resolve.payload == {"trigger": "queue_empty"}
        assert worker.process_available() == 1
        [listing] = _listings(database)
        assert listing.state == State.LIVE and listing.remote_id == "120021"  # after the 20 seeded items
        assert _statuses(database) == ["completed"] and exports(sandbox) == 1
        assert read_jobs(database, PUBLISH)[0].result["remote_id"] == "120021"  # type: ignore[index]

    def test_five_queued_jobs_share_one_download(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        product_ids = _products(database, 5)
        _publish(owner_client, product_ids)
        worker.process_available()
        assert _statuses(database) == ["completed"] * 5
        assert exports(sandbox) == 1 and len(read_jobs(database, RESOLVE)) == 1
        listings = _listings(database)
        for listing in listings:
            item = sandbox_item(sandbox, listing.remote_id or "")
            assert item["external_id"] == f"RIFF-3000{listing.product_id - product_ids[0]:04d}"

    def test_queued_creates_post_forms_loaded_while_the_previous_create_was_posted(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        sandbox_settings(sandbox, create_seconds=0.2)
        _publish(owner_client, _products(database, 3))
        worker.process_available()
        assert _statuses(database) == ["completed"] * 3 and creates(sandbox) == 3 and exports(sandbox) == 1
        # One form per create: the first loads its own; each later one was loaded during the post before it;
        # the last create loads none ahead (nothing follows it).
        assert add_form_loads(sandbox) == 3
        order = [r["method"] for r in sandbox.control.requests(path_prefix="/instruments/add_edit_item")]
        assert order == ["GET", "GET", "POST", "GET", "POST", "POST"]

    def test_max_batch_size_resolves_before_the_queue_is_empty(
        self, owner_client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:  # fmt: skip
        monkeypatch.setenv("MAX_BATCH_SIZE", "2")
        reset_vr_settings_cache()
        _publish(owner_client, _products(database, 5))
        worker.process_available()
        assert _statuses(database) == ["completed"] * 5
        triggers = [job.payload["trigger"] for job in read_jobs(database, RESOLVE)]
        assert triggers == ["max_batch", "max_batch", "queue_empty"] and exports(sandbox) == 3
        order = [(r["method"], r["path"]) for r in sandbox.control.requests()
                 if r["path"] in ("/instruments/add_edit_item", "/instruments/export_inventory/export_inventory")]  # fmt: skip
        assert [path.rsplit("/", 1)[-1] for _, path in order if _ == "POST" or "export_inventory/" in path] == [
            "add_edit_item", "add_edit_item", "export_inventory",
            "add_edit_item", "add_edit_item", "export_inventory",
            "add_edit_item", "export_inventory",
        ]  # fmt: skip

    def test_unaccepted_brand_is_listed_under_the_fallback_brand_with_a_warning(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        product_id = _listed_with_id(owner_client, database, sandbox, worker, brand="Bespoke Luthier Co")
        [listing] = _listings(database)
        assert listing.state == State.LIVE
        assert (
            listing.last_error
            and listing.last_error.startswith("warning:")
            and "Justin" in listing.last_error
        )
        assert sandbox_item(sandbox, listing.remote_id or "")["brand"] == "Justin"
        shown = owner_client.get(f"/api/products/{product_id}/listings").json()[0]
        assert "fallback brand" in shown["last_error"]

    def test_maintenance_reschedules_the_job_instead_of_failing_it(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        sandbox_settings(sandbox, maintenance_now=True)
        [product_id] = _products(database, 1)
        _publish(owner_client, [product_id])
        worker.process_available()
        [job] = read_jobs(database, PUBLISH)
        assert job.status == "queued" and job.run_after > utcnow() + dt.timedelta(minutes=10)
        assert "maintenance" in (job.last_error_message or "")
        assert _listings(database)[0].state == State.PENDING


class TestResolution:
    def _pending(self, owner_client: TestClient, database: Database, worker: Any, count: int) -> None:
        _publish(owner_client, _products(database, count))
        worker.process_available(max_jobs=count)
        assert _statuses(database) == ["completed_pending_id"] * count

    def test_manual_trigger(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        self._pending(owner_client, database, worker, 3)
        status = owner_client.get("/api/vr/resolution-status").json()
        assert status["pending_count"] == 3 and status["oldest_pending"] and status["last_resolution"] is None
        answer = owner_client.post("/api/vr/resolve-pending")
        assert answer.status_code == 200
        assert {k: answer.json()[k] for k in ("resolved", "failed", "errors")} == {
            "resolved": 3,
            "failed": 0,
            "errors": [],
        }
        assert _statuses(database) == ["completed"] * 3 and exports(sandbox) == 1
        status = owner_client.get("/api/vr/resolution-status").json()
        assert status["pending_count"] == 0 and status["last_resolution"] is not None
        # The queued batch finds nothing left to do and downloads nothing.
        worker.process_available()
        assert exports(sandbox) == 1

    def test_a_partial_batch_keeps_what_it_found(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        from .conftest import sandbox_items

        self._pending(owner_client, database, worker, 2)
        [gone] = sandbox_items(sandbox, external_id="RIFF-30000001")
        sandbox.control.edit_listing(gone["id"], deleted=True)  # the seller deleted it on the site meanwhile
        answer = owner_client.post("/api/vr/resolve-pending").json()
        assert (answer["resolved"], answer["failed"], answer["pending"]) == (1, 0, 1)
        assert _statuses(database) == ["completed", "completed_pending_id"]
        first, second = _listings(database)
        assert first.remote_id is not None and second.remote_id is None

    def test_graceful_shutdown_resolves_before_the_worker_exits(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        settings: Any,
    ) -> None:
        import riff.channels.vintage_and_rare.tasks  # noqa: F401
        from riff.jobs.config import JobsSettings
        from riff.jobs.worker import Worker

        _publish(owner_client, _products(database, 2))
        # A worker that only creates: the queued batch job stays queued, the shutdown hook must resolve.
        creator = Worker(database, settings, with_scheduler=False, concurrency=1, kinds=[PUBLISH],
                         jobs_settings=JobsSettings(rate_limits={"vintage_and_rare": {"rate": 1000, "burst": 1000}}))  # fmt: skip
        creator.start_in_thread()
        deadline = utcnow() + dt.timedelta(seconds=20)
        while _statuses(database) != ["completed_pending_id"] * 2 and utcnow() < deadline:
            time.sleep(0.05)
        creator.stop(timeout=30)
        assert creator.stopped
        assert _statuses(database) == ["completed"] * 2 and exports(sandbox) == 1
        assert [r["trigger"] for r in _resolution_events(database)] == ["shutdown"]

    def test_three_failed_attempts_fail_the_job_with_the_reason(
        self, owner_client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any,
        settings: Any,
    ) -> None:  # fmt: skip
        import asyncio

        sandbox_settings(sandbox, index_delay_seconds=3600)  # V&R is slow to index: never in the export here
        self._pending(owner_client, database, worker, 1)
        reports = [
            asyncio.run(resolution.resolve_pending(database, settings, trigger="manual")) for _ in range(3)
        ]
        assert [(r.resolved, r.failed, r.unmatched) for r in reports] == [(0, 0, 1), (0, 0, 1), (0, 1, 0)]
        [job] = read_jobs(database, PUBLISH)
        assert job.status == "failed" and job.payload["resolution_attempts"] == 3
        assert "not resolved after 3 attempt(s)" in (job.last_error_message or "")
        assert "brand 'Fender', model 'Stratocaster'" in (job.last_error_message or "")
        [listing] = _listings(database)
        assert listing.state == State.ERROR and listing.remote_id is None
        assert reports[-1].errors[0].startswith(f"Job {job.id}: no row in the V&R export")

    def test_unmatched_jobs_are_retried_on_the_next_cycle(
        self, owner_client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any,
        frozen_clock: FrozenClock,
    ) -> None:  # fmt: skip
        frozen_clock.now = dt.datetime.now(dt.UTC)
        sandbox_settings(sandbox, index_delay_seconds=3600)
        self._pending(owner_client, database, worker, 1)
        worker.process_available()  # the batch finds nothing yet and queues the next cycle
        retry = read_jobs(database, RESOLVE)[-1]
        assert retry.status == "queued" and retry.payload == {"trigger": "retry_unmatched"}
        assert read_jobs(database, PUBLISH)[0].payload["resolution_attempts"] == 1
        sandbox_settings(sandbox, index_delay_seconds=0)  # V&R indexed it
        frozen_clock.advance(seconds=61)
        worker.process_available()
        assert _statuses(database) == ["completed"] and _listings(database)[0].state == State.LIVE

    def test_a_failed_download_retries_later_and_never_blocks_creates(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        sandbox.control.faults(
            error_5xx_burst=100, path_prefix="/instruments/export_inventory/export_inventory"
        )
        _publish(owner_client, _products(database, 1))
        worker.process_available()
        [resolve] = read_jobs(database, RESOLVE)
        assert resolve.status == "queued" and resolve.run_after > utcnow()
        [job] = read_jobs(database, PUBLISH)
        assert job.status == "completed_pending_id" and "resolution_attempts" not in job.payload
        with database.session() as session:
            new_id = create_product(session, sku="RIFF-39999999", model="Telecaster").id
        _publish(owner_client, [new_id])
        worker.process_available()
        assert _statuses(database) == ["completed_pending_id", "completed_pending_id"]  # the create ran
        assert [r["outcome"] for r in _resolution_events(database, raw=True)][:1] == ["error"]

    def test_stale_pending_is_flagged_for_manual_review(
        self, owner_client: TestClient, database: Database, sandbox: RunningSandbox, account_id: int, worker: Any,
        frozen_clock: FrozenClock,
    ) -> None:  # fmt: skip
        frozen_clock.now = dt.datetime.now(dt.UTC)
        self._pending(owner_client, database, worker, 1)
        assert owner_client.get("/api/vr/resolution-status").json()["needs_review"] == []
        frozen_clock.advance(hours=1, minutes=1)
        status = owner_client.get("/api/vr/resolution-status").json()
        [flagged] = status["needs_review"]
        assert flagged["sku"] == "RIFF-30000000" and flagged["resolution_attempts"] == 0
        assert status["needs_review_count"] == 1

    def test_a_resumed_job_never_submits_twice(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        """A worker killed right after submitting leaves the write-ahead criteria: the retry goes pending."""
        from riff.jobs import update_job_payload

        _publish(owner_client, _products(database, 1))
        [job] = read_jobs(database, PUBLISH)
        with database.session() as session:  # as if an earlier attempt had written ahead, then died
            session.execute(sa.update(Job).where(Job.id == job.id).values(status="in_progress"))
            update_job_payload(session, job.id, {
                "submission_started": utcnow().isoformat(),
                "match_criteria": {"brand": "Fender", "model": "Stratocaster", "sku": "RIFF-30000000",
                                   "created_at": utcnow().isoformat(), "last_known_vr_id": 0, "price": "12500.00"},
            })  # fmt: skip
            session.execute(sa.update(Job).where(Job.id == job.id).values(status="queued"))
        worker.process_available()
        assert creates(sandbox) == 0  # resumed straight into pending: no second submission
        [job] = read_jobs(database, PUBLISH)
        assert job.status == "completed_pending_id" and job.payload["resolution_attempts"] == 1


class TestRemoteActions:
    def test_end_delete_relist_through_the_api(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        _listed_with_id(owner_client, database, sandbox, worker)
        remote_id = _listings(database)[0].remote_id
        assert owner_client.post(f"/api/vr/listings/{remote_id}/end").status_code == 202
        worker.process_available()
        assert sandbox_item(sandbox, remote_id or "")["sold"] is True
        assert _listings(database)[0].state == State.ENDED
        assert owner_client.post(f"/api/vr/listings/{remote_id}/relist").status_code == 202
        worker.process_available()
        assert (
            sandbox_item(sandbox, remote_id or "")["sold"] is False
            and _listings(database)[0].state == State.LIVE
        )
        # An item RIFF does not know (listed on the site by hand) can be ended by its V&R id too.
        assert owner_client.post("/api/vr/listings/120003/end").status_code == 202
        assert owner_client.post(f"/api/vr/listings/{remote_id}/delete").status_code == 202
        worker.process_available()
        assert sandbox_item(sandbox, "120003")["sold"] is True
        assert sandbox_item(sandbox, remote_id or "")["deleted"] is True
        [listing] = _listings(database)
        assert listing.remote_id is None and listing.extras["previous_remote_ids"] == [remote_id]

    def test_update_job_sends_the_changed_price(
        self,
        owner_client: TestClient,
        database: Database,
        sandbox: RunningSandbox,
        account_id: int,
        worker: Any,
    ) -> None:
        from decimal import Decimal

        from riff.catalog.models import Product
        from riff.channels import service

        product_id = _listed_with_id(owner_client, database, sandbox, worker)
        with database.session() as session:
            product = session.get(Product, product_id)
            assert product is not None
            product.base_price = Decimal("9950.00")
            listing = session.scalars(sa.select(Listing).where(Listing.product_id == product_id)).one()
            service.update_listing(session, listing, {"price"})
        worker.process_available()
        listing = _listings(database)[0]
        assert sandbox_item(sandbox, listing.remote_id or "")["price"] == "9950.00"
        assert listing.remote_price == Decimal("9950.00")


def _resolution_events(database: Database, raw: bool = False) -> list[dict[str, Any]]:
    from riff.sync.models import SyncEvent

    with database.read_session() as session:
        events = session.scalars(
            sa.select(SyncEvent).where(SyncEvent.kind == "vr_id_resolution").order_by(SyncEvent.id)
        ).all()
        if raw:
            return [{"outcome": e.outcome, **(e.after or {})} for e in events]
        return [dict(e.after or {}) for e in events if e.outcome != "error"]


class TestSettings:
    def test_every_documented_variable_is_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        values = {
            "VINTAGE_AND_RARE_USERNAME": "dealer", "VINTAGE_AND_RARE_PASSWORD": "secret",
            "VINTAGE_AND_RARE_COOKIES_FILE": "/tmp/c.json", "VR_COOKIES_BASE64": "W10=", "VR_USER_AGENT": "Mozilla/5.0 X",
            "SELENIUM_GRID_URL": "http://grid:4444", "VR_HEADLESS": "false", "VR_BRAND_CACHE_TTL": "60",
            "VR_BRAND_CACHE_MAX": "5", "VR_BRAND_TIMEOUT": "1.5", "VR_KNOWN_BRANDS_FILE": "/tmp/k.json",
            "MAX_BATCH_SIZE": "7",
        }  # fmt: skip
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings = VintageAndRareSettings()
        assert (
            settings.username == "dealer"
            and settings.password
            and settings.password.get_secret_value() == "secret"
        )
        assert str(settings.cookies_file) == "/tmp/c.json" and settings.cookies_base64
        assert settings.user_agent == "Mozilla/5.0 X" and settings.selenium_grid_url == "http://grid:4444"
        assert settings.headless is False and settings.brand_cache_ttl == 60 and settings.brand_cache_max == 5
        assert settings.brand_timeout == 1.5 and str(settings.known_brands_file) == "/tmp/k.json"
        assert settings.max_batch_size == 7
