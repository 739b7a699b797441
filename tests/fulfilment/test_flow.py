"""Paid -> rates -> label -> shipped, end to end: the Reverb sandbox sells, RIFF buys a DHL label from the
DHL sandbox, stores the PDF, and uploads the tracking number to Reverb (a job, retried until Reverb
confirms). Failures on the way are visible and retryable; a label is never bought twice."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader

from riff.channels import service as channels
from riff.channels.models import Listing
from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings
from riff.fulfilment.models import Shipment, ShipmentStatus, UploadStatus
from riff.orders.models import Order, OrderStatus
from riff_sandbox.runner import RunningSandbox

from .conftest import jobs
from .factories import create_product


def _sold_on_reverb(database: Database, reverb: RunningSandbox, worker: Any, *, buyer_index: int = 0) -> int:
    """A product listed on Reverb (publish job), bought there, and the order pulled into RIFF."""
    with database.session() as session:
        product = create_product(session)
        channels.publish_product(session, product, "reverb")
    worker.process_available()
    with database.read_session() as session:
        remote_id = session.scalars(sa.select(Listing.remote_id)).one()
    reverb.control.purchase(remote_id, buyer_index=buyer_index)
    for _ in range(2):  # the same order polled twice is one order
        with database.session() as session:
            channels.request_fetch_orders(session, "reverb", since=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        worker.process_available()
    with database.read_session() as session:
        (order_id,) = session.scalars(sa.select(Order.id)).all()
    return int(order_id)


def _shipment(database: Database, order_id: int) -> Shipment:
    with database.read_session() as session:
        shipment = session.scalars(sa.select(Shipment).where(Shipment.order_id == order_id)).one()
        session.expunge(shipment)
        return shipment


def _order(database: Database, order_id: int) -> Order:
    with database.read_session() as session:
        order = session.get(Order, order_id)
        assert order is not None
        session.expunge(order)
        return order


def _dhl_shipments(dhl: RunningSandbox) -> list[dict[str, Any]]:
    return dhl.control._call("GET", "/dhl/shipments")["shipments"]  # type: ignore[no-any-return]


def test_paid_order_to_rates_to_label_to_shipped_on_reverb(
    owner_client: TestClient,
    database: Database,
    settings: Settings,
    reverb: RunningSandbox,
    reverb_account: int,
    dhl: RunningSandbox,
    fulfilment_env: dict[str, str],
    worker: Any,
) -> None:
    order_id = _sold_on_reverb(database, reverb, worker)
    listed = owner_client.get("/api/orders", params={"channel": "reverb"}).json()
    assert listed["total"] == 1 and listed["items"][0]["status"] == "paid"

    quoted = owner_client.post(f"/api/orders/{order_id}/rates", json={})
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["customs_required"] is True  # London -> Nashville
    cheapest = quoted.json()["rates"][0]
    assert cheapest["product_code"] == "P" and cheapest["currency"] == "GBP"

    created = owner_client.post(
        f"/api/orders/{order_id}/shipments", json={"product_code": cheapest["product_code"]}
    )
    assert created.status_code == 201, created.text
    shipment = created.json()
    assert shipment["status"] == "label_created" and shipment["tracking_number"]
    assert shipment["label_url"] == f"/api/shipments/{shipment['id']}/documents/label.pdf"
    assert {d["type"] for d in shipment["documents"]} == {"label", "invoice"}
    assert "base64" not in created.text and "JVBERi" not in created.text  # the PDF never travels in JSON

    label = owner_client.get(shipment["label_url"])
    assert label.status_code == 200 and label.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(label.content)).pages[0].extract_text()
    assert shipment["tracking_number"] in text.replace(" ", "") and "Nashville" in text
    assert (settings.data_dir / "labels" / str(shipment["id"]) / "label.pdf").read_bytes() == label.content
    assert TestClient(owner_client.app).get(shipment["label_url"]).status_code == 401  # never anonymous
    assert _order(database, order_id).status == OrderStatus.AWAITING_SHIPMENT

    worker.process_available()  # fulfilment.upload_tracking -> Reverb ship endpoint
    (ship_call,) = reverb.control.requests(path_prefix="/api/my/orders/selling/", method="POST")
    assert ship_call["body"]["provider"] == "DHL"
    assert ship_call["body"]["tracking_number"] == shipment["tracking_number"]
    stored = _shipment(database, order_id)
    assert stored.upload_status == UploadStatus.CONFIRMED and stored.upload_attempts == 1
    assert _order(database, order_id).status == OrderStatus.SHIPPED
    detail = owner_client.get(f"/api/orders/{order_id}").json()
    assert detail["status"] == "shipped" and detail["shipments"][0]["upload_status"] == "confirmed"
    assert len(_dhl_shipments(dhl)) == 1

    # A second "Create label" for the shipped order buys nothing.
    again = owner_client.post(f"/api/orders/{order_id}/shipments", json={})
    assert again.status_code == 409
    assert len(_dhl_shipments(dhl)) == 1


def test_a_dhl_validation_error_is_shown_verbatim_and_nothing_is_bought(
    owner_client: TestClient,
    database: Database,
    reverb: RunningSandbox,
    reverb_account: int,
    dhl: RunningSandbox,
    fulfilment_env: dict[str, str],
    worker: Any,
) -> None:
    order_id = _sold_on_reverb(database, reverb, worker)
    ship_to = {
        "name": "Alex Example",
        "line1": "123 Example Ave",
        "city": "Nashville",
        "country_code": "US",
        "phone": "5555550100",
    }
    refused = owner_client.post(f"/api/orders/{order_id}/shipments", json={"ship_to": ship_to})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "carrier_rejected"
    assert (
        error["message"]
        == "DHL: 420505: The postal code is missing for the receiver's country US. Provide a postal code."
    )
    assert _dhl_shipments(dhl) == []
    stored = _shipment(database, order_id)
    assert (
        stored.status == ShipmentStatus.LABEL_FAILED and stored.last_error and "420505" in stored.last_error
    )
    assert (
        owner_client.get(f"/api/orders/{order_id}").json()["shipments"][0]["last_error"] == stored.last_error
    )

    fixed = owner_client.post(
        f"/api/orders/{order_id}/shipments", json={"ship_to": {**ship_to, "postal_code": "37203"}}
    )
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["id"] == stored.id  # the same shipment, taken up again with a new reference
    assert len(_dhl_shipments(dhl)) == 1


def test_dhl_5xx_during_creation_is_retried_without_a_second_label(
    owner_client: TestClient,
    database: Database,
    reverb: RunningSandbox,
    reverb_account: int,
    dhl: RunningSandbox,
    fulfilment_env: dict[str, str],
    worker: Any,
    frozen_clock: FrozenClock,
) -> None:
    order_id = _sold_on_reverb(database, reverb, worker)
    # DHL buys the label, then every answer of the request's three inline tries is lost (a 500).
    dhl.control._call("POST", "/dhl/lose-responses", json={"count": 3})
    pending = owner_client.post(f"/api/orders/{order_id}/shipments", json={})
    assert pending.status_code == 202, pending.text
    assert pending.json()["status"] == "label_pending"
    assert "999: Process failure occurred" in pending.json()["last_error"]
    assert len(_dhl_shipments(dhl)) == 1  # one label, however many answers were lost
    posts = dhl.control.requests(path_prefix="/mydhlapi/shipments", method="POST")
    assert len(posts) == 3 and len({p["headers"]["message-reference"] for p in posts}) == 1

    dhl.control._call("POST", "/dhl/lose-responses", json={"count": 0})
    frozen_clock.advance(seconds=30)  # the label job's retry is due
    worker.process_available()
    stored = _shipment(database, order_id)
    assert stored.status == ShipmentStatus.LABEL_CREATED
    assert stored.tracking_number == _dhl_shipments(dhl)[0]["shipmentTrackingNumber"]
    assert len(_dhl_shipments(dhl)) == 1
    assert stored.upload_status == UploadStatus.CONFIRMED  # the upload ran in the same worker pass
    assert [j.status for j in jobs(database, "fulfilment.create_label")] == ["completed"]


def test_a_tracking_upload_failure_is_retried_until_the_channel_confirms(
    owner_client: TestClient,
    database: Database,
    reverb: RunningSandbox,
    reverb_account: int,
    dhl: RunningSandbox,
    fulfilment_env: dict[str, str],
    worker: Any,
    frozen_clock: FrozenClock,
) -> None:
    order_id = _sold_on_reverb(database, reverb, worker)
    reverb.control.faults(error_5xx_burst=5, path_prefix="/api/my/orders/selling/")  # Reverb down for a while
    created = owner_client.post(f"/api/orders/{order_id}/shipments", json={})
    assert created.status_code == 201
    worker.process_available()
    stored = _shipment(database, order_id)
    assert stored.status == ShipmentStatus.LABEL_CREATED  # the label is safe whatever Reverb does
    assert stored.upload_status == UploadStatus.PENDING and stored.upload_attempts == 1
    assert stored.upload_error == "reverb: Service Unavailable (HTTP 503)"
    (job,) = jobs(database, "fulfilment.upload_tracking")
    assert job.status == "queued" and job.attempts == 1
    shown = owner_client.get(f"/api/orders/{order_id}").json()["shipments"][0]
    assert shown["upload_status"] == "pending" and shown["upload_error"]

    for _ in range(5):
        frozen_clock.advance(seconds=3600)
        worker.process_available()
        if _shipment(database, order_id).upload_status == UploadStatus.CONFIRMED:
            break
    stored = _shipment(database, order_id)
    assert stored.upload_status == UploadStatus.CONFIRMED and stored.upload_attempts == 2
    assert _order(database, order_id).status == OrderStatus.SHIPPED
    statuses = [
        r["status"] for r in reverb.control.requests(path_prefix="/api/my/orders/selling/", method="POST")
    ]
    assert statuses == [503, 503, 503, 503, 503, 200]
    assert len(_dhl_shipments(dhl)) == 1
