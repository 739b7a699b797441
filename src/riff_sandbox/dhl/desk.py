"""The sandbox's DHL: validates requests the way MyDHL does, quotes rates, creates shipments (once per
``Message-Reference``) and lets tracking checkpoints appear as time passes.

Documents: ``shipments`` (key: waybill number) holding the request as sent, the creation time and any
checkpoints added through the control API; ``message_references`` (key: the header) -> waybill number;
``control/lose_responses`` counts shipments whose success answer the sandbox turns into a 500.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.dhl import consts
from riff_sandbox.dhl.errors import DhlError
from riff_sandbox.dhl.labels import render_invoice, render_label
from riff_sandbox.toolkit.store import Document, Transaction
from riff_sandbox.toolkit.timeutil import isoformat_utc, parse_datetime

SHIPMENTS = "shipments"
REFERENCES = "message_references"
CONTROL = "control"
SHIP_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} GMT[+-]\d{2}:\d{2}$")
WAYBILL = re.compile(r"^[0-9A-Z]{8,39}$")


class DhlOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_step_seconds: float = Field(
        60.0, gt=0, description="A new tracking checkpoint appears every this many seconds after creation"
    )
    accounts: list[str] = Field(
        default_factory=lambda: [consts.DEFAULT_ACCOUNT_NUMBER],
        description="Shipper account numbers accepted",
    )
    tokens: list[str] = Field(default_factory=list, description="Extra 'key:secret' credentials to accept")


def zone(origin: str, destination: str) -> str:
    if origin == destination:
        return "domestic"
    if origin in consts.EU_COUNTRIES and destination in consts.EU_COUNTRIES:
        return "eu"
    return "world"


def _require(value: Any, pointer: str, key: str, problems: list[str]) -> None:
    if value in (None, "", [], {}):
        problems.append(f"#/{pointer}: required key [{key}] not found")


def _party_problems(details: Any, pointer: str, problems: list[str]) -> None:
    if not isinstance(details, dict):
        problems.append(
            f"#/{pointer.rsplit('/', 1)[0]}: required key [{pointer.rsplit('/', 1)[1]}] not found"
        )
        return
    postal = details.get("postalAddress")
    if not isinstance(postal, dict):
        problems.append(f"#/{pointer}: required key [postalAddress] not found")
    else:
        for key in ("cityName", "countryCode", "addressLine1"):
            _require(postal.get(key), f"{pointer}/postalAddress", key, problems)
    contact = details.get("contactInformation")
    if not isinstance(contact, dict):
        problems.append(f"#/{pointer}: required key [contactInformation] not found")
    else:
        for key in ("phone", "companyName", "fullName"):
            _require(contact.get(key), f"{pointer}/contactInformation", key, problems)


def _package_problems(packages: Any, pointer: str, problems: list[str]) -> None:
    if not isinstance(packages, list) or not packages:
        problems.append(f"#/{pointer}: expected minimum item count: 1, found: 0")
        return
    for index, package in enumerate(packages):
        if not isinstance(package, dict):
            problems.append(f"#/{pointer}/{index}: expected type: JSONObject")
            continue
        weight = package.get("weight")
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            problems.append(f"#/{pointer}/{index}: required key [weight] not found")
        elif weight <= 0:
            problems.append(f"#/{pointer}/{index}/weight: {weight} is not greater than 0")
        dimensions = package.get("dimensions")
        if dimensions is not None:
            for key in ("length", "width", "height"):
                value = dimensions.get(key) if isinstance(dimensions, dict) else None
                if not isinstance(value, int | float) or value <= 0:
                    problems.append(f"#/{pointer}/{index}/dimensions: required key [{key}] not found")


def _raise_schema(problems: list[str], instance: str) -> None:
    if problems:
        raise DhlError(422, problems[0], additional=problems[1:] or None)


def validate_shipment(body: Mapping[str, Any], accounts: list[str]) -> None:
    """Schema first (422, the first problem as ``detail``), then the business rules (400 "NNN: text")."""
    problems: list[str] = []
    for key in ("plannedShippingDateAndTime", "productCode", "accounts", "customerDetails", "content"):
        _require(body.get(key), "", key, problems)
    _raise_schema([p.replace("#/:", "#:") for p in problems], "/expressapi/shipments")
    details = body["customerDetails"] if isinstance(body["customerDetails"], dict) else {}
    _party_problems(details.get("shipperDetails"), "customerDetails/shipperDetails", problems)
    _party_problems(details.get("receiverDetails"), "customerDetails/receiverDetails", problems)
    content = body["content"] if isinstance(body["content"], dict) else {}
    _package_problems(content.get("packages"), "content/packages", problems)
    for key in ("isCustomsDeclarable", "description", "incoterm", "unitOfMeasurement"):
        if content.get(key) is None:
            problems.append(f"#/content: required key [{key}] not found")
    if content.get("isCustomsDeclarable") is True:
        if content.get("declaredValue") is None:
            problems.append("#/content: required key [declaredValue] not found")
        if not content.get("declaredValueCurrency"):
            problems.append("#/content: required key [declaredValueCurrency] not found")
    _raise_schema(problems, "/expressapi/shipments")

    if not SHIP_TIMESTAMP.match(str(body["plannedShippingDateAndTime"])):
        raise DhlError(400, consts.SHIP_TIMESTAMP_ERROR)
    account = next(
        (a.get("number") for a in body["accounts"] if isinstance(a, dict) and a.get("typeCode") == "shipper"),
        None,
    )
    if account not in accounts:
        raise DhlError(400, consts.ACCOUNT_INVALID.format(number=account))
    receiver = details["receiverDetails"]["postalAddress"]
    country = str(receiver.get("countryCode") or "").upper()
    if country not in consts.NO_POSTCODE_COUNTRIES and not str(receiver.get("postalCode") or "").strip():
        raise DhlError(400, consts.POSTCODE_MISSING.format(country=country))
    origin = str(details["shipperDetails"]["postalAddress"].get("countryCode") or "").upper()
    code = str(body["productCode"])
    if code not in {product[0] for product in consts.PRODUCTS[zone(origin, country)]}:
        raise DhlError(400, consts.PRODUCT_NOT_AVAILABLE.format(code=code))


def quote(origin: str, destination: str, packages: list[dict[str, Any]], planned: datetime) -> dict[str, Any]:
    """The ``POST/GET /rates`` answer, shaped as the OAS example (nonDocInternationalShipmentRatesResponse)."""
    actual = sum(float(p.get("weight") or 0) for p in packages)
    volumetric = 0.0
    for package in packages:
        dims = package.get("dimensions") or {}
        volumetric += (
            float(dims.get("length") or 0) * float(dims.get("width") or 0) * float(dims.get("height") or 0)
        ) / consts.VOLUMETRIC_DIVISOR
    chargeable = max(actual, volumetric)
    products = []
    for code, name, base, per_kg, days in consts.PRODUCTS[zone(origin, destination)]:
        price = round(base + per_kg * math.ceil(chargeable * 2) / 2, 2)
        delivery = planned + timedelta(days=days)
        products.append(
            {
                "productName": name,
                "productCode": code,
                "localProductCode": code,
                "localProductCountryCode": origin,
                "networkTypeCode": "TD",
                "isCustomerAgreement": False,
                "weight": {
                    "volumetric": round(volumetric, 2),
                    "provided": round(actual, 2),
                    "unitOfMeasurement": "metric",
                },
                "totalPrice": [
                    {"currencyType": "BILLC", "priceCurrency": "GBP", "price": price},
                    {"currencyType": "PULCL", "priceCurrency": "GBP", "price": price},
                    {
                        "currencyType": "BASEC",
                        "priceCurrency": "EUR",
                        "price": round(price * consts.EUR_PER_GBP, 2),
                    },
                ],
                "totalPriceBreakdown": [
                    {
                        "currencyType": "BILLC",
                        "priceCurrency": "GBP",
                        "priceBreakdown": [
                            {"typeCode": "SPRQT", "price": price},
                            {"typeCode": "STTXA", "price": 0},
                        ],
                    }
                ],  # fmt: skip
                "pickupCapabilities": {
                    "nextBusinessDay": True,
                    "pickupEarliest": "09:30:00",
                    "pickupLatest": "18:00:00",
                },
                "deliveryCapabilities": {
                    "deliveryTypeCode": "QDDC",
                    "estimatedDeliveryDateAndTime": delivery.strftime("%Y-%m-%dT23:59:00"),
                    "destinationServiceAreaCode": destination[:2] + "X",
                    "destinationFacilityAreaCode": destination[:2] + "F",
                    "deliveryAdditionalDays": 0,
                    "deliveryDayOfWeek": delivery.isoweekday(),
                    "totalTransitDays": days,
                },
                "pricingDate": planned.date().isoformat(),
            }
        )
    return {
        "products": products,
        "exchangeRates": [
            {"currentExchangeRate": consts.EUR_PER_GBP, "currency": "GBP", "baseCurrency": "EUR"}
        ],
    }


class Desk:
    """One transaction's view of the sandbox's DHL."""

    def __init__(self, tx: Transaction, options: DhlOptions, now: datetime) -> None:
        self.tx = tx
        self.options = options
        self.now = now

    def shipment(self, number: str) -> Document | None:
        return self.tx.get(SHIPMENTS, number) if WAYBILL.match(number) else None

    def by_reference(self, reference: str) -> Document | None:
        known = self.tx.get(REFERENCES, reference)
        return self.shipment(known["number"]) if known else None

    def create(self, body: Mapping[str, Any], reference: str | None) -> tuple[Document, bool]:
        """The shipment for ``reference`` if one exists (``created`` False), else a new one."""
        if reference:
            existing = self.by_reference(reference)
            if existing is not None:
                return existing, False
        validate_shipment(body, self.options.accounts)
        number = str(self.tx.next_value("waybill", consts.FIRST_TRACKING_NUMBER))
        details = body["customerDetails"]
        packages = body["content"]["packages"]
        pieces = [f"JD0{self.tx.next_value('piece', consts.FIRST_PIECE_NUMBER)}" for _ in packages]
        origin = str(details["shipperDetails"]["postalAddress"]["countryCode"]).upper()
        destination = str(details["receiverDetails"]["postalAddress"]["countryCode"]).upper()
        name = next(p[1] for p in consts.PRODUCTS[zone(origin, destination)] if p[0] == body["productCode"])
        document: Document = {
            "shipmentTrackingNumber": number,
            "productName": name,
            "pieces": pieces,
            "origin": origin,
            "destination": destination,
            "origin_city": str(details["shipperDetails"]["postalAddress"]["cityName"]).upper(),
            "destination_city": str(details["receiverDetails"]["postalAddress"]["cityName"]).upper(),
            "customs": bool(body["content"].get("isCustomsDeclarable")),
            "message_reference": reference,
            "created_at": isoformat_utc(self.now),
            "shift_seconds": 0.0,
            "extra_events": [],
            "request": dict(body),
        }
        self.tx.put(SHIPMENTS, number, document)
        if reference:
            self.tx.put(REFERENCES, reference, {"number": number})
        return document, True

    def render_created(self, shipment: Document, base_url: str) -> dict[str, Any]:
        number = shipment["shipmentTrackingNumber"]
        tracking = f"{base_url}{consts.API_BASE_PATH}/shipments/{number}/tracking"
        documents = [
            {
                "imageFormat": "PDF",
                "content": base64.b64encode(render_label(shipment)).decode(),
                "typeCode": "label",
            }
        ]
        if shipment.get("customs"):
            documents.append(
                {
                    "imageFormat": "PDF",
                    "content": base64.b64encode(render_invoice(shipment)).decode(),
                    "typeCode": "invoice",
                }
            )
        created = parse_datetime(shipment["created_at"])
        days = next(p[4] for p in consts.PRODUCTS[zone(shipment["origin"], shipment["destination"])]
                    if p[0] == shipment["request"]["productCode"])  # fmt: skip
        return {
            "shipmentTrackingNumber": number,
            "trackingUrl": tracking,
            "packages": [
                {
                    "referenceNumber": index,
                    "trackingNumber": piece,
                    "trackingUrl": f"{tracking}?pieceTrackingNumber={piece}",
                }
                for index, piece in enumerate(shipment["pieces"], start=1)
            ],
            "documents": documents,
            "estimatedDeliveryDate": {
                "estimatedDeliveryDate": (created + timedelta(days=days)).strftime("%Y-%m-%dT23:59:00Z"),
                "estimatedDeliveryType": "QDDC",
            },
        }

    # Tracking ------------------------------------------------------------------------------------

    def events(self, shipment: Document) -> list[dict[str, Any]]:
        created = parse_datetime(shipment["created_at"])
        elapsed = (self.now - created).total_seconds() + float(shipment.get("shift_seconds") or 0)
        journey = [step for step in consts.JOURNEY if shipment.get("customs") or step[0] != "CR"]
        visible = min(len(journey), max(0, int(elapsed // self.options.tracking_step_seconds)))
        areas = {
            "origin": f"{shipment['origin_city']}-{shipment['origin']}",
            "destination": f"{shipment['destination_city']}-{shipment['destination']}",
        }
        events = []
        for index, (code, text, area) in enumerate(journey[:visible], start=1):
            at = created + timedelta(
                seconds=index * self.options.tracking_step_seconds - float(shipment.get("shift_seconds") or 0)
            )
            events.append(_event(at, code, text.format(**areas), areas[area]))
        for extra in shipment.get("extra_events") or []:
            events.append(
                _event(parse_datetime(extra["at"]), extra["code"], extra["description"], areas["destination"])
            )
        events.sort(key=lambda e: (e["date"], e["time"]))
        return events

    def render_tracking(self, shipment: Document) -> dict[str, Any]:
        request = shipment["request"]
        packages = request["content"]["packages"]
        events = self.events(shipment)
        return {
            "shipments": [
                {
                    "shipmentTrackingNumber": shipment["shipmentTrackingNumber"],
                    "status": "Success",
                    "shipmentTimestamp": shipment["created_at"][:19],
                    "productCode": request["productCode"],
                    "description": request["content"].get("description", ""),
                    "shipperDetails": {
                        "name": "",
                        "postalAddress": {"countryCode": shipment["origin"]},
                        "serviceArea": [
                            {
                                "code": shipment["origin_city"][:3],
                                "description": f"{shipment['origin_city']}-{shipment['origin']}",
                            }
                        ],
                    },
                    "receiverDetails": {
                        "name": "",
                        "postalAddress": {"countryCode": shipment["destination"]},
                        "serviceArea": [
                            {
                                "code": shipment["destination_city"][:3],
                                "description": f"{shipment['destination_city']}-{shipment['destination']}",
                            }
                        ],
                    },
                    "totalWeight": sum(float(p.get("weight") or 0) for p in packages),
                    "unitOfMeasurements": "metric",
                    "events": events,
                    "numberOfPieces": len(packages),
                    "pieces": [
                        {
                            "number": index,
                            "typeCode": "SMF",
                            "shipmentTrackingNumber": shipment["shipmentTrackingNumber"],
                            "trackingNumber": piece,
                            "weight": packages[index - 1].get("weight"),
                            "actualWeight": packages[index - 1].get("weight"),
                            "dimensions": packages[index - 1].get("dimensions") or {},
                            "actualDimensions": {},
                            "unitOfMeasurements": "metric",
                            "events": events,
                        }
                        for index, piece in enumerate(shipment["pieces"], start=1)
                    ],
                }  # fmt: skip
            ]
        }

    def advance(self, shipment: Document, steps: int) -> Document:
        """Move the shipment's clock ``steps`` checkpoints on; added checkpoints move back in time with it."""
        seconds = steps * self.options.tracking_step_seconds
        shipment["shift_seconds"] = float(shipment.get("shift_seconds") or 0) + seconds
        for extra in shipment.get("extra_events") or []:
            extra["at"] = isoformat_utc(parse_datetime(extra["at"]) - timedelta(seconds=seconds))
        self.tx.put(SHIPMENTS, shipment["shipmentTrackingNumber"], shipment)
        return shipment

    def add_event(self, shipment: Document, code: str, description: str) -> Document:
        shipment.setdefault("extra_events", []).append(
            {"at": isoformat_utc(self.now), "code": code, "description": description}
        )
        self.tx.put(SHIPMENTS, shipment["shipmentTrackingNumber"], shipment)
        return shipment

    # Lost answers (the control API's "5xx after the label was bought") ----------------------------

    def take_lost_response(self) -> int | None:
        """When a lost answer is pending: use one up and return the status to answer with."""
        control = self.tx.get(CONTROL, "lose_responses") or {"count": 0, "status": 500}
        if int(control.get("count") or 0) <= 0:
            return None
        control["count"] = int(control["count"]) - 1
        self.tx.put(CONTROL, "lose_responses", control)
        return int(control.get("status") or 500)

    def lose_responses(self, count: int, status: int) -> Document:
        control = {"count": count, "status": status}
        self.tx.put(CONTROL, "lose_responses", control)
        return control


def _event(at: datetime, code: str, description: str, area: str) -> dict[str, Any]:
    return {
        "date": at.strftime("%Y-%m-%d"),
        "time": at.strftime("%H:%M:%S"),
        "typeCode": code,
        "description": description,
        "serviceArea": [{"code": area[:3].upper(), "description": area}],
    }
