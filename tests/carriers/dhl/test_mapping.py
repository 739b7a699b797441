"""MyDHL payloads both ways, checked against the official examples (tests/contracts/dhl/samples)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from riff.carriers.contract import Customs, CustomsItem, Parcel, Party, TrackingState, crosses_customs_border
from riff.carriers.dhl import mapping

SAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "dhl" / "samples"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / name).read_text("utf-8"))  # type: ignore[no-any-return]


SHIPPER = Party(
    name="Shipping desk",
    company="RIFF Demo",
    line1="1 Denmark St",
    city="London",
    postal_code="WC2H 8LP",
    country_code="GB",
    phone="+44 20 7946 0000",
    vat_number="GB123",
)
BUYER = Party(
    name="Alex Example",
    line1="123 Example Ave",
    city="Nashville",
    postal_code="37203",
    country_code="US",
    phone="5555550100",
    email="alex@example.com",
)
PARCEL = Parcel(
    weight_kg=Decimal("5.5"), length_cm=Decimal("120"), width_cm=Decimal("50"), height_cm=Decimal("15")
)


def test_the_ship_timestamp_is_dhls_format() -> None:
    moment = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert mapping.planned_shipping_date(moment) == "2026-11-23T09:00:00 GMT+00:00"
    with pytest.raises(ValueError):
        mapping.planned_shipping_date(dt.datetime(2026, 11, 23, 10, 0))  # noqa: DTZ001 - naive on purpose


def test_customs_borders_and_products() -> None:
    assert not crosses_customs_border("GB", "GB")
    assert not crosses_customs_border("DE", "FR")
    assert crosses_customs_border("GB", "DE")  # after Brexit
    assert crosses_customs_border("DE", "US")
    assert mapping.default_product("GB", "GB") == "N"
    assert mapping.default_product("DE", "FR") == "U"
    assert mapping.default_product("GB", "US") == "P"


def test_a_shipment_request_has_the_documented_shape() -> None:
    customs = Customs(
        currency="GBP",
        items=[
            CustomsItem(
                description="Fender Stratocaster 1965",
                hs_code="9202900030",
                unit_value=Decimal("12500.00"),
                weight_kg=Decimal("5.5"),
            )
        ],
        invoice_number="RIFF-O7",
    )
    body = mapping.shipment_request(
        shipper=SHIPPER,
        receiver=BUYER,
        parcels=[PARCEL],
        product_code="P",
        account_number="123456789",
        planned=dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC),
        description="Musical instrument",
        reference="reverb 24290001",
        customs=customs,
    )
    documented = sample("shipment_request.json")["body"]
    for key in (
        "plannedShippingDateAndTime",
        "pickup",
        "productCode",
        "accounts",
        "outputImageProperties",
        "customerDetails",
        "content",
    ):
        assert key in body and type(body[key]) is type(documented[key])
    assert body["plannedShippingDateAndTime"] == "2026-11-23T10:00:00 GMT+00:00"
    assert body["content"]["packages"] == [
        {
            "weight": 5.5,
            "dimensions": {"length": 120, "width": 50, "height": 15},
            "customerReferences": [{"value": "reverb 24290001", "typeCode": "CU"}],
        }
    ]
    assert body["content"]["isCustomsDeclarable"] is True and body["content"]["declaredValue"] == 12500
    line = body["content"]["exportDeclaration"]["lineItems"][0]
    assert line["commodityCodes"] == [{"typeCode": "outbound", "value": "9202900030"}]
    assert line["quantity"] == {"value": 1, "unitOfMeasurement": "PCS"}
    receiver = body["customerDetails"]["receiverDetails"]
    assert receiver["postalAddress"] == {
        "postalCode": "37203",
        "cityName": "Nashville",
        "countryCode": "US",
        "addressLine1": "123 Example Ave",
    }
    assert (
        receiver["contactInformation"]["fullName"]
        == receiver["contactInformation"]["companyName"]
        == "Alex Example"
    )
    assert body["customerDetails"]["shipperDetails"]["registrationNumbers"][0]["typeCode"] == "VAT"


def test_rates_are_read_in_the_billing_currency() -> None:
    (quote,) = mapping.parse_rates(sample("rates_response.json")["body"])
    assert (quote.product_code, quote.product_name) == ("P", "EXPRESS WORLDWIDE NONDOC")
    assert (quote.price, quote.currency) == (Decimal("157.95"), "GBP")  # BILLC, not the EUR base price
    assert quote.estimated_delivery == dt.datetime(2022, 11, 24, 23, 59, tzinfo=dt.UTC)
    assert quote.transit_days == 3


def test_the_documented_shipment_answer_gives_a_waybill_and_real_pdfs() -> None:
    created = mapping.parse_shipment(sample("shipment_response.json")["body"])
    assert created.tracking_number == "1103733901"
    assert created.piece_tracking_numbers == ["JD014600004617230770"]
    assert [d.type_code for d in created.documents] == ["label", "label", "invoice"]
    assert all(d.content.startswith(b"%PDF-") for d in created.documents)


def test_tracking_is_normalised() -> None:
    info = mapping.parse_tracking(sample("tracking_response.json")["body"], "1234567890")
    assert info.state == TrackingState.DELIVERED
    assert info.events[0].code == "PU" and info.events[-1].code == "OK"
    assert info.events[0].at == dt.datetime(2023, 8, 9, 13, 56, 21, tzinfo=dt.UTC)
    assert info.events[0].location == "SYDNEY-AU"
    assert mapping.tracking_state(info.events[:3]) == TrackingState.IN_TRANSIT


@pytest.mark.parametrize(
    ("name", "field"),
    [("error_shipments_400.json", None), ("error_shipments_422.json", "content.packages.0.identifiers.0")],
)
def test_problem_bodies_give_dhls_words_verbatim(name: str, field: str | None) -> None:
    documented = sample(name)
    response = httpx.Response(documented["status"], json=documented["body"])
    message, found = mapping.problem_message(response)
    assert message == documented["body"]["detail"]
    assert found == field
