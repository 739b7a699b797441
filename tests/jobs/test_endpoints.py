"""The jobs API and /metrics."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from riff.core.db import Database
from riff.jobs import Priority, service
from riff.jobs.config import JobsSettings
from riff.jobs.models import Job


def _enqueue(database: Database, kind: str, **kwargs: Any) -> Job:
    with database.session() as session:
        job = service.enqueue(session, kind, **kwargs)
    assert job is not None
    return job


def _fail(database: Database, job: Job) -> None:
    with database.session() as session:
        [claimed] = service.claim_jobs(session, owner="w", limit=1, lease_seconds=60, kinds=[job.kind])
    from riff.jobs.errors import ErrorInfo

    with database.session() as session:
        service.fail_attempt(
            session,
            claimed,
            ErrorInfo("401 token expired", "riff.channels.errors.AuthExpired", False, None),
            owner="w",
            jobs_settings=JobsSettings(),
        )


def test_list_filter_and_paginate(database: Database, owner_client: TestClient) -> None:
    for n in range(5):
        _enqueue(database, "reverb.publish", channel="reverb", product_id=n)
    _enqueue(database, "ebay.publish", channel="ebay", priority=Priority.URGENT)
    page = owner_client.get("/api/jobs", params={"channel": "reverb", "limit": 2, "offset": 1}).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [job["product_id"] for job in page["items"]] == [3, 2]  # newest first
    assert owner_client.get("/api/jobs", params={"kind": "ebay.publish"}).json()["total"] == 1
    assert owner_client.get("/api/jobs", params={"status": ["queued", "failed"]}).json()["total"] == 6
    assert owner_client.get("/api/jobs", params={"status": "failed"}).json()["total"] == 0
    assert (
        owner_client.get("/api/jobs", params={"product_id": 4}).json()["items"][0]["kind"] == "reverb.publish"
    )
    bad = owner_client.get("/api/jobs", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status[0]"


def test_get_one_job(database: Database, owner_client: TestClient) -> None:
    job = _enqueue(database, "reverb.publish", payload={"sku": "RIFF-1"})
    body = owner_client.get(f"/api/jobs/{job.id}").json()
    assert (body["id"], body["status"], body["payload"], body["attempts"]) == (
        job.id,
        "queued",
        {"sku": "RIFF-1"},
        0,
    )
    missing = owner_client.get("/api/jobs/999999")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_retry_and_cancel(database: Database, owner_client: TestClient) -> None:
    failed = _enqueue(database, "ebay.publish")
    _fail(database, failed)
    assert (
        owner_client.get(f"/api/jobs/{failed.id}").json()["last_error_class"]
        == "riff.channels.errors.AuthExpired"
    )
    retried = owner_client.post(f"/api/jobs/{failed.id}/retry")
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)
    cancelled = owner_client.post(f"/api/jobs/{failed.id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = owner_client.post(f"/api/jobs/{failed.id}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert owner_client.post("/api/jobs/999999/retry").status_code == 404


def test_read_only_users_can_look_but_not_touch(database: Database, make_client: Any) -> None:
    job = _enqueue(database, "ebay.publish")
    reader = make_client("read_only")
    assert reader.get(f"/api/jobs/{job.id}").status_code == 200
    assert reader.post(f"/api/jobs/{job.id}/cancel").status_code == 403
    assert reader.get(f"/api/jobs/{job.id}").json()["status"] == "queued"


def test_anonymous_callers_are_refused(client: TestClient) -> None:
    for path in ("/api/jobs", "/api/jobs/stats", "/api/jobs/1", "/api/jobs/schedules"):
        assert client.get(path).status_code == 401
    assert client.post("/api/jobs/1/retry").status_code == 401


def test_stats(database: Database, owner_client: TestClient) -> None:
    _enqueue(database, "reverb.publish", channel="reverb")
    failed = _enqueue(database, "ebay.publish", channel="ebay")
    _fail(database, failed)
    stats = owner_client.get("/api/jobs/stats").json()
    assert stats["by_status"]["queued"] == 1 and stats["by_status"]["failed"] == 1
    assert stats["by_channel"] == {"reverb": {"queued": 1}, "ebay": {"failed": 1}}
    assert stats["failed_last_hour"] == 1
    assert stats["oldest_queued_age_seconds"] >= 0


def test_schedules(owner_client: TestClient) -> None:
    schedules = {s["name"]: s for s in owner_client.get("/api/jobs/schedules").json()}
    assert schedules["jobs.prune"]["cron"] == "0 * * * *"
    assert schedules["shopify.archive_sold"]["cron"] == "0 3 * * 0"
    assert "next_fire_at" in schedules["reverb.pull_listings"]


def test_metrics_for_any_authenticated_caller(
    database: Database, make_client: Any, client: TestClient
) -> None:
    _enqueue(database, "reverb.publish", channel="reverb")
    response = make_client("read_only").get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'riff_jobs_queue_depth{channel="reverb",status="queued"} 1.0' in response.text
    assert "riff_jobs_oldest_queued_age_seconds" in response.text
    assert "riff_job_duration_seconds" in response.text
    anonymous = client.get("/metrics", follow_redirects=False)
    assert anonymous.status_code in (303, 401) and "riff_jobs" not in anonymous.text
