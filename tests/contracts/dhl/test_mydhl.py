"""The DHL sandbox speaks MyDHL as documented: the official examples' requests are accepted and the
answers have the examples' shapes; errors are DHL's problem bodies; a Message-Reference buys one label."""

from __future__ import annotations

import base64
import copy
import io
from typing import Any

import httpx
from pypdf import PdfReader

from riff_sandbox.runner import RunningSandbox

from .conftest import sample, shipments

REFERENCE = "5b0f0c0e-6c7e-4a39-9e55-0d7a3f2b9a11"


def _keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_keys(value[0])] if value else []
    return type(value).__name__ if not isinstance(value, int | float) or isinstance(value, bool) else "number"


def _missing(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Keys of the documented example that the sandbox's answer lacks (extra keys are allowed)."""
    problems = []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or '/'}: expected an object"]
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}/{key}")
            else:
                problems.extend(_missing(value, actual[key], f"{path}/{key}"))
    elif isinstance(expected, list) and expected and isinstance(actual, list) and actual:
        problems.extend(_missing(expected[0], actual[0], f"{path}/0"))
    return problems


def _pdf_text(content: str) -> str:
    raw = base64.b64decode(content)
    assert raw.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)


def test_the_documented_shipment_request_buys_a_label_with_the_documented_shape(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    response = http.post(
        "/shipments", json=sample("shipment_request.json")["body"], headers={"Message-Reference": REFERENCE}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    documented = sample("shipment_response.json")["body"]
    essential = {
        k: documented[k]
        for k in ("shipmentTrackingNumber", "trackingUrl", "packages", "documents", "estimatedDeliveryDate")
    }
    assert _missing(essential, body) == []
    assert response.headers["Message-Reference"] == REFERENCE
    text = _pdf_text(body["documents"][0]["content"])
    assert body["shipmentTrackingNumber"] in text.replace(" ", "")
    assert "Baylee Marshall" in text and "SANDBOX" in text
    assert {d["typeCode"] for d in body["documents"]} == {"label", "invoice"}  # customs declarable


def test_the_same_message_reference_returns_the_same_shipment(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    body = sample("shipment_request.json")["body"]
    first = http.post("/shipments", json=body, headers={"Message-Reference": REFERENCE}).json()
    again = http.post("/shipments", json=body, headers={"Message-Reference": REFERENCE}).json()
    other = http.post(
        "/shipments", json=body, headers={"Message-Reference": REFERENCE.replace("5b", "6c")}
    ).json()
    assert again["shipmentTrackingNumber"] == first["shipmentTrackingNumber"]
    assert other["shipmentTrackingNumber"] != first["shipmentTrackingNumber"]
    assert len(shipments(sandbox)) == 2


def test_a_lost_answer_still_bought_the_label_and_the_retry_returns_it(
    http: httpx.Client, sandbox: RunningSandbox
) -> None:
    sandbox.control._call("POST", "/dhl/lose-responses", json={"count": 1, "status": 500})
    body = sample("shipment_request.json")["body"]
    lost = http.post("/shipments", json=body, headers={"Message-Reference": REFERENCE})
    assert lost.status_code == 500
    assert set(lost.json()) == set(sample("error_shipments_500.json")["body"])
    assert lost.json()["detail"].startswith("999: Process failure occurred")
    assert len(shipments(sandbox)) == 1
    retried = http.post("/shipments", json=body, headers={"Message-Reference": REFERENCE})
    assert retried.status_code == 201
    assert retried.json()["shipmentTrackingNumber"] == shipments(sandbox)[0]["shipmentTrackingNumber"]


def test_errors_are_dhl_problem_bodies(http: httpx.Client, sandbox: RunningSandbox) -> None:
    body = sample("shipment_request.json")["body"]
    late = copy.deepcopy(body)
    late["plannedShippingDateAndTime"] = "2022-10-19T19:19:40+00:00"
    response = http.post("/shipments", json=late)
    assert response.status_code == 400
    assert response.json() == sample("error_shipments_400.json")["body"]  # verbatim, string status included

    schema = copy.deepcopy(body)
    del schema["customerDetails"]["receiverDetails"]["postalAddress"]["cityName"]
    response = http.post("/shipments", json=schema)
    assert response.status_code == 422
    assert set(response.json()) >= set(sample("error_shipments_422.json")["body"])
    assert response.json()["status"] == "422" and response.json()["title"] == "Validation error"
    assert (
        response.json()["detail"]
        == "#/customerDetails/receiverDetails/postalAddress: required key [cityName] not found"
    )

    no_postcode = copy.deepcopy(body)
    del no_postcode["customerDetails"]["receiverDetails"]["postalAddress"]["postalCode"]
    response = http.post("/shipments", json=no_postcode)
    assert response.status_code == 400 and "postal code" in response.json()["detail"]
    assert shipments(sandbox) == []

    unauthorised = httpx.post(
        sandbox.api_base_url + "/shipments", json=body, headers={"Authorization": "Basic eDp5"}
    )
    assert unauthorised.status_code == 401 and unauthorised.json()["status"] == "401"


def test_toolkit_faults_answer_in_dhl_shapes(http: httpx.Client, sandbox: RunningSandbox) -> None:
    sandbox.control.faults(
        rate_limit={"every_nth": 1, "retry_after_seconds": 7}, path_prefix="/mydhlapi/rates"
    )
    limited = http.post("/rates", json=sample("rates_request.json")["body"])
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json()["status"] == "429"
    sandbox.control.faults(error_5xx_burst=1, error_5xx_status=503)
    unavailable = http.post("/rates", json=sample("rates_request.json")["body"])
    assert unavailable.status_code == 503 and unavailable.json()["code"] == "503"


def test_rates_have_the_documented_shape(http: httpx.Client) -> None:
    posted = http.post("/rates", json=sample("rates_request.json")["body"])
    assert posted.status_code == 200, posted.text
    documented = sample("rates_response.json")["body"]
    product = {
        k: documented["products"][0][k]
        for k in ("productName", "productCode", "weight", "totalPrice", "deliveryCapabilities")
    }
    assert _missing({"products": [product]}, posted.json()) == []
    fetched = http.get(
        "/rates",
        params={
            "accountNumber": "123456789",
            "originCountryCode": "GB",
            "originCityName": "London",
            "destinationCountryCode": "GB",
            "destinationCityName": "Manchester",
            "weight": "5",
            "length": "120",
            "width": "50",
            "height": "15",
            "plannedShippingDate": "2026-11-23",
            "isCustomsDeclarable": "false",
            "unitOfMeasurement": "metric",
        },
    )
    assert fetched.status_code == 200
    assert [p["productCode"] for p in fetched.json()["products"]] == ["N", "T"]  # domestic products
    missing = http.get("/rates", params={"accountNumber": "123456789"})
    assert missing.status_code == 400 and "originCountryCode" in missing.json()["detail"]


def test_tracking_checkpoints_appear_as_time_passes(http: httpx.Client, sandbox: RunningSandbox) -> None:
    created = http.post("/shipments", json=sample("shipment_request.json")["body"]).json()
    number = created["shipmentTrackingNumber"]
    tracking = http.get(f"/shipments/{number}/tracking", params={"trackingView": "all-checkpoints"})
    assert tracking.status_code == 200
    assert tracking.json()["shipments"][0]["events"] == []  # no scan yet (one checkpoint a minute by default)
    documented = sample("tracking_response.json")["body"]["shipments"][0]
    sandbox.control._call("POST", f"/dhl/shipments/{number}/advance", json={"steps": 2})
    shipment = http.get(f"/shipments/{number}/tracking").json()["shipments"][0]
    essential = {
        k: documented[k] for k in ("shipmentTrackingNumber", "status", "events", "numberOfPieces", "pieces")
    }
    assert _missing(essential, shipment) == []
    assert [e["typeCode"] for e in shipment["events"]] == ["PU", "PL"]
    sandbox.control._call("POST", f"/dhl/shipments/{number}/advance", json={"steps": 10})
    events = http.get(f"/shipments/{number}/tracking").json()["shipments"][0]["events"]
    assert events[-1]["typeCode"] == "OK"
    assert http.get("/shipments/999999999/tracking").status_code == 404
