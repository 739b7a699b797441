"""Alerts through apprise to a real HTTP receiver (apprise's json:// URL): a new order, an oversell, a DHL
exception; each event announced once; a URL that failed gets it again, one that took it does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings
from riff.fulfilment.models import Alert, AlertStatus, Shipment
from riff.fulfilment.settings import reset_fulfilment_settings
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import WebhookReceiver

from .factories import create_product, list_on, record_order

ALERT_KINDS = ["fulfilment.scan_alerts", "fulfilment.send_alerts", "fulfilment.refresh_tracking"]


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    with WebhookReceiver() as good, WebhookReceiver(status=500) as flaky:
        yield good, flaky


@pytest.fixture
def alert_worker(database: Database, settings: Settings) -> Any:
    import riff.fulfilment.tasks  # noqa: F401 - registers the fulfilment.* handlers
    from riff.jobs.worker import Worker

    return Worker(database, settings, with_scheduler=False, concurrency=1, kinds=ALERT_KINDS)


def _use(monkeypatch: pytest.MonkeyPatch, *receivers: WebhookReceiver) -> None:
    urls = " ".join(r.url.replace("http://", "json://") + "/alerts" for r in receivers)
    monkeypatch.setenv("RIFF_ALERT_URLS", urls)
    reset_fulfilment_settings()


def _alerts(database: Database) -> list[Alert]:
    with database.read_session() as session:
        found = list(session.scalars(sa.select(Alert).order_by(Alert.id)))
        for alert in found:
            session.expunge(alert)
        return found


def _scan(database: Database) -> None:
    from riff.jobs import enqueue

    with database.session() as session:
        enqueue(session, "fulfilment.scan_alerts")


def test_a_new_order_and_an_oversell_are_announced_once(
    database: Database,
    alert_worker: Any,
    receivers: tuple[WebhookReceiver, WebhookReceiver],
    fulfilment_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    frozen_clock: FrozenClock,
) -> None:
    good, flaky = receivers
    _use(monkeypatch, good, flaky)
    with database.session() as session:
        guitar = create_product(session)
        record_order(session, "R-1", listing=list_on(session, guitar, "reverb"))
        record_order(session, "E-1", channel="ebay", listing=list_on(session, guitar, "ebay"))  # already sold
    _scan(database)
    alert_worker.process_available()
    titles = sorted(r.json()["title"] for r in good.wait_for(3))
    assert titles == ["New ebay order E-1", "New reverb order R-1", "OVERSOLD: ebay order E-1"]
    body = next(r.json() for r in good.received if r.json()["title"] == "OVERSOLD: ebay order E-1")
    assert "Cancel and refund ebay order E-1" in body["message"]
    assert all(
        r.path == "/alerts" and r.headers["content-type"].startswith("application/json")
        for r in good.received
    )
    assert {a.status for a in _alerts(database)} == {AlertStatus.PENDING}  # the flaky URL has not had them
    assert all("json: not delivered" in (a.last_error or "") for a in _alerts(database))

    flaky.status = 200
    frozen_clock.advance(seconds=3600)
    _scan(database)  # seen again: no new alert
    alert_worker.process_available()
    assert len(good.received) == 3  # the URL that took them is not sent them twice
    assert len(flaky.wait_for(6)) == 6  # three failed tries, then the three deliveries
    assert [a.status for a in _alerts(database)] == [AlertStatus.SENT] * 3


def test_a_dhl_exception_is_announced(
    owner_client: TestClient,
    database: Database,
    alert_worker: Any,
    receivers: tuple[WebhookReceiver, WebhookReceiver],
    dhl: RunningSandbox,
    fulfilment_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good, _ = receivers
    with database.session() as session:
        order_id = record_order(
            session, "R-2", listing=list_on(session, create_product(session), "reverb")
        ).id
    created = owner_client.post(f"/api/orders/{order_id}/shipments", json={})
    assert created.status_code == 201, created.text
    number = created.json()["tracking_number"]
    dhl.control._call("POST", f"/dhl/shipments/{number}/advance", json={"steps": 3})
    dhl.control._call("POST", f"/dhl/shipments/{number}/events", json={})  # BA: bad address
    _use(monkeypatch, good)
    refreshed = owner_client.post(f"/api/shipments/{created.json()['id']}/tracking/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["status"] == "exception"
    assert [e["code"] for e in refreshed.json()["tracking_events"]] == ["PU", "PL", "DF", "BA"]
    alert_worker.process_available()
    (received,) = good.wait_for(1)
    assert received.json()["title"] == "Shipment exception: reverb order R-2"
    assert f"DHL {number}: BA Bad address" in received.json()["message"]
    owner_client.post(f"/api/shipments/{created.json()['id']}/tracking/refresh")  # seen again: no new alert
    alert_worker.process_available()
    assert [a.kind for a in _alerts(database)] == ["shipment_exception"]

    dhl.control._call("POST", f"/dhl/shipments/{number}/advance", json={"steps": 10})
    from riff.jobs import enqueue

    with database.session() as session:
        session.execute(sa.update(Shipment).values(tracking_checked_at=None))
        enqueue(session, "fulfilment.refresh_tracking")  # the scheduled sweep
    alert_worker.process_available()
    detail = owner_client.get(f"/api/orders/{order_id}").json()
    assert detail["shipments"][0]["status"] == "delivered" and detail["status"] == "delivered"
