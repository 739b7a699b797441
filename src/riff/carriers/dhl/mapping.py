"""Pure functions between RIFF's carrier-neutral types and MyDHL API payloads. No HTTP, no database.

Shapes follow the official OAS examples (shared/reference/api_samples/dhl/): ``POST /rates``
(nonDocInternationalShipmentRates), ``POST /shipments`` (nonDocInternationalShipmentRequest/Response),
``GET /shipments/{n}/tracking`` and the RFC 7807-like error bodies.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx

from riff.carriers.contract import (
    EU_CUSTOMS_UNION,
    CreatedShipment,
    Customs,
    LabelDocument,
    Parcel,
    Party,
    RateQuote,
    TrackingEvent,
    TrackingInfo,
    TrackingState,
)
from riff.carriers.dhl import consts
from riff.channels.errors import Rejected
from riff.core.clock import UTC

_POINTER = re.compile(r"#/([\w/]+)")


def planned_shipping_date(moment: dt.datetime) -> str:
    """MyDHL's ShipTimeStamp: local time, a space, then the GMT offset ("2022-10-19T19:19:40 GMT+00:00").
    Any other form is a 400 "998: ShipTimeStamp is not well formatted". RIFF sends UTC."""
    if moment.tzinfo is None:
        raise ValueError("planned shipping time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S GMT+00:00")


def default_product(origin: str, destination: str) -> str:
    origin, destination = origin.upper(), destination.upper()
    if origin == destination:
        return consts.DOMESTIC_PRODUCT
    if origin in EU_CUSTOMS_UNION and destination in EU_CUSTOMS_UNION:
        return consts.EU_PRODUCT
    return consts.WORLDWIDE_PRODUCT


def _number(value: Decimal | int | float) -> float | int:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _drop_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def postal_address(party: Party) -> dict[str, Any]:
    return _drop_empty(
        {
            "postalCode": party.postal_code,
            "cityName": party.city,
            "countryCode": (party.country_code or "").upper() or None,
            "provinceCode": party.region if party.region and len(party.region) <= 35 else None,
            "addressLine1": party.line1,
            "addressLine2": party.line2,
            "addressLine3": party.line3,
        }
    )


def contact(party: Party) -> dict[str, Any]:
    name = party.name or party.company
    return _drop_empty(
        {
            "email": party.email,
            "phone": party.phone,
            "companyName": party.company or name,  # required by DHL; a private buyer's own name
            "fullName": name,
        }
    )


def package(parcel: Parcel, reference: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "weight": _number(parcel.weight_kg),
        "dimensions": {
            "length": _number(parcel.length_cm),
            "width": _number(parcel.width_cm),
            "height": _number(parcel.height_cm),
        },
    }
    if reference:
        body["customerReferences"] = [{"value": reference[:35], "typeCode": "CU"}]
    return body


def rate_request(
    *,
    shipper: Party,
    receiver: Party,
    parcels: Sequence[Parcel],
    account_number: str,
    planned: dt.datetime,
    customs_declarable: bool,
    declared_value: Decimal | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """``POST /rates`` body: every product DHL offers for these parcels (several parcels need POST)."""
    body: dict[str, Any] = {
        "customerDetails": {
            "shipperDetails": postal_address(shipper),
            "receiverDetails": postal_address(receiver),
        },
        "accounts": [{"typeCode": "shipper", "number": account_number}],
        "plannedShippingDateAndTime": planned.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SGMT+00:00"),
        "unitOfMeasurement": "metric",
        "isCustomsDeclarable": customs_declarable,
        "nextBusinessDay": True,
        "estimatedDeliveryDate": {"isRequested": True, "typeCode": "QDDC"},
        "packages": [package(parcel) for parcel in parcels],
    }
    if customs_declarable and declared_value is not None and currency:
        body["monetaryAmount"] = [
            {"typeCode": "declaredValue", "value": _number(declared_value), "currency": currency}
        ]
    return body


def rates_query(
    *,
    shipper: Party,
    receiver: Party,
    parcel: Parcel,
    account_number: str,
    planned: dt.datetime,
    customs_declarable: bool,
) -> dict[str, str]:
    """``GET /rates`` query for a single parcel (the OAS's simple form)."""
    params = {
        "accountNumber": account_number,
        "originCountryCode": (shipper.country_code or "").upper(),
        "originCityName": shipper.city or "",
        "originPostalCode": shipper.postal_code or "",
        "destinationCountryCode": (receiver.country_code or "").upper(),
        "destinationCityName": receiver.city or "",
        "destinationPostalCode": receiver.postal_code or "",
        "weight": str(_number(parcel.weight_kg)),
        "length": str(_number(parcel.length_cm)),
        "width": str(_number(parcel.width_cm)),
        "height": str(_number(parcel.height_cm)),
        "plannedShippingDate": planned.astimezone(UTC).date().isoformat(),
        "isCustomsDeclarable": "true" if customs_declarable else "false",
        "unitOfMeasurement": "metric",
    }
    return {key: value for key, value in params.items() if value != ""}


def _price(product: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    prices = [p for p in product.get("totalPrice") or [] if isinstance(p, dict)]
    # BILLC is the billing currency (what the account pays); fall back to the first price given.
    chosen = next((p for p in prices if p.get("currencyType") == "BILLC"), prices[0] if prices else None)
    if not chosen or chosen.get("price") is None:
        return None, None
    return Decimal(str(chosen["price"])), chosen.get("priceCurrency")


def _parse_time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_rates(body: dict[str, Any]) -> list[RateQuote]:
    quotes = []
    for product in body.get("products") or []:
        if not isinstance(product, dict) or not product.get("productCode"):
            continue
        price, currency = _price(product)
        delivery = product.get("deliveryCapabilities") or {}
        transit = delivery.get("totalTransitDays")
        quotes.append(
            RateQuote(
                carrier=consts.CARRIER,
                product_code=str(product["productCode"]),
                product_name=str(product.get("productName") or product["productCode"]),
                price=price,
                currency=currency,
                estimated_delivery=_parse_time(delivery.get("estimatedDeliveryDateAndTime")),
                transit_days=int(transit)
                if isinstance(transit, int | str) and str(transit).isdigit()
                else None,
                raw={k: v for k, v in product.items() if k not in ("detailedPriceBreakdown",)},
            )
        )
    return sorted(quotes, key=lambda q: (q.price is None, q.price or Decimal(0)))


def export_declaration(customs: Customs, invoice_date: dt.date) -> dict[str, Any]:
    declaration: dict[str, Any] = {
        "lineItems": [
            _drop_empty(
                {
                    "number": number,
                    "description": item.description[:512],
                    "price": _number(item.unit_value),
                    "quantity": {"value": item.quantity, "unitOfMeasurement": "PCS"},
                    "commodityCodes": [{"typeCode": "outbound", "value": item.hs_code}]
                    if item.hs_code
                    else None,
                    "exportReasonType": "permanent",
                    "manufacturerCountry": item.origin_country.upper(),
                    "weight": {"netValue": _number(item.weight_kg), "grossValue": _number(item.weight_kg)},
                }
            )
            for number, item in enumerate(customs.items, start=1)
        ],
        "exportReason": customs.export_reason,
        "exportReasonType": "permanent",
        "shipmentType": "commercial",
    }
    if customs.invoice_number:
        declaration["invoice"] = {"number": customs.invoice_number, "date": invoice_date.isoformat()}
    return declaration


def shipment_request(
    *,
    shipper: Party,
    receiver: Party,
    parcels: Sequence[Parcel],
    product_code: str,
    account_number: str,
    planned: dt.datetime,
    description: str,
    reference: str,
    customs: Customs | None,
) -> dict[str, Any]:
    """``POST /shipments`` body: a label (PDF) for ``parcels``; ``customs`` when the parcel crosses a
    customs border (then DHL also returns a commercial invoice)."""
    registration = [
        {"typeCode": code, "number": number, "issuerCountryCode": (shipper.country_code or "").upper()}
        for code, number in (("VAT", shipper.vat_number), ("EOR", shipper.eori_number))
        if number
    ]
    shipper_details: dict[str, Any] = {
        "postalAddress": postal_address(shipper),
        "contactInformation": contact(shipper),
        "typeCode": "business",
    }
    if registration:
        shipper_details["registrationNumbers"] = registration
    image_options: list[dict[str, Any]] = [
        {"typeCode": "label", "templateName": consts.LABEL_TEMPLATE},
    ]
    if customs is not None:
        image_options.append(
            {
                "typeCode": "invoice",
                "templateName": consts.INVOICE_TEMPLATE,
                "isRequested": True,
                "invoiceType": "commercial",
            }
        )
    content: dict[str, Any] = {
        "packages": [package(parcel, reference) for parcel in parcels],
        "isCustomsDeclarable": customs is not None,
        "description": description[:70],
        "incoterm": customs.incoterm if customs is not None else "DAP",
        "unitOfMeasurement": "metric",
    }
    if customs is not None:
        content["declaredValue"] = _number(customs.declared_value)
        content["declaredValueCurrency"] = customs.currency.upper()
        content["exportDeclaration"] = export_declaration(customs, planned.astimezone(UTC).date())
    return {
        "plannedShippingDateAndTime": planned_shipping_date(planned),
        "pickup": {"isRequested": False},
        "productCode": product_code,
        "accounts": [{"typeCode": "shipper", "number": account_number}],
        "outputImageProperties": {
            "printerDPI": consts.PRINTER_DPI,
            "encodingFormat": "pdf",
            "imageOptions": image_options,
            "splitInvoiceAndReceipt": True,
        },
        "customerDetails": {
            "shipperDetails": shipper_details,
            "receiverDetails": {
                "postalAddress": postal_address(receiver),
                "contactInformation": contact(receiver),
                "typeCode": "private",
            },
        },
        "content": content,
        "customerReferences": [{"value": reference[:35], "typeCode": "CU"}],
        "estimatedDeliveryDate": {"isRequested": True, "typeCode": "QDDC"},
    }


def _document(raw: dict[str, Any]) -> LabelDocument:
    try:
        content = base64.b64decode(str(raw.get("content") or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Rejected(
            f"DHL returned a {raw.get('typeCode')} document that is not base64", channel="dhl"
        ) from exc
    image_format = str(raw.get("imageFormat") or "PDF").upper()
    if image_format == "PDF" and not content.startswith(b"%PDF-"):
        raise Rejected(f"DHL returned a {raw.get('typeCode')} document that is not a PDF", channel="dhl")
    return LabelDocument(
        type_code=str(raw.get("typeCode") or "label"), image_format=image_format, content=content
    )


def parse_shipment(body: dict[str, Any]) -> CreatedShipment:
    number = body.get("shipmentTrackingNumber")
    if not number:
        raise Rejected("DHL created no shipment: the answer has no shipmentTrackingNumber", channel="dhl")
    estimated = body.get("estimatedDeliveryDate") or {}
    return CreatedShipment(
        carrier=consts.CARRIER,
        tracking_number=str(number),
        tracking_url=consts.PUBLIC_TRACKING_URL.format(number=number),
        piece_tracking_numbers=[
            str(p["trackingNumber"])
            for p in body.get("packages") or []
            if isinstance(p, dict) and p.get("trackingNumber")
        ],
        documents=[_document(doc) for doc in body.get("documents") or [] if isinstance(doc, dict)],
        estimated_delivery=_parse_time(
            estimated.get("estimatedDeliveryDate") if isinstance(estimated, dict) else None
        ),
    )


def _event_time(event: dict[str, Any]) -> dt.datetime | None:
    date, time = event.get("date"), event.get("time")
    if not isinstance(date, str) or not date:
        return None
    return _parse_time(f"{date}T{time or '00:00:00'}")


def _location(event: dict[str, Any]) -> str | None:
    areas = event.get("serviceArea") or []
    if areas and isinstance(areas[0], dict):
        return areas[0].get("description") or areas[0].get("code")
    return None


def tracking_state(events: Sequence[TrackingEvent]) -> TrackingState:
    if not events:
        return TrackingState.LABEL_CREATED
    last = events[-1]
    if last.code in consts.DELIVERED_CODES:
        return TrackingState.DELIVERED
    if last.exception:
        return TrackingState.EXCEPTION
    if last.code in consts.OUT_FOR_DELIVERY_CODES:
        return TrackingState.OUT_FOR_DELIVERY
    return TrackingState.IN_TRANSIT


def parse_tracking(body: dict[str, Any], tracking_number: str) -> TrackingInfo:
    shipments = [s for s in body.get("shipments") or [] if isinstance(s, dict)]
    shipment = next((s for s in shipments if str(s.get("shipmentTrackingNumber")) == tracking_number), None)
    shipment = shipment or (shipments[0] if shipments else {})
    events = [
        TrackingEvent(
            at=_event_time(event),
            code=str(event.get("typeCode") or ""),
            description=str(event.get("description") or "").strip(),
            location=_location(event),
            exception=str(event.get("typeCode") or "") in consts.EXCEPTION_CODES,
        )
        for event in shipment.get("events") or []
        if isinstance(event, dict)
    ]
    events.sort(key=lambda e: e.at or dt.datetime.min.replace(tzinfo=UTC))
    return TrackingInfo(
        tracking_number=tracking_number,
        state=tracking_state(events),
        events=events,
        estimated_delivery=_parse_time(shipment.get("estimatedDeliveryDate")),
    )


def problem_message(response: httpx.Response) -> tuple[str, str | None]:
    """DHL's problem body: ``detail`` verbatim (plus ``additionalDetails``); the field from a JSON pointer
    in it ("#/content/packages/0/..." -> "content.packages.0...")."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] if text else f"HTTP {response.status_code}"), None
    if not isinstance(body, dict):
        return str(body)[:500], None
    detail = body.get("detail") or body.get("message") or body.get("title") or f"HTTP {response.status_code}"
    parts = [str(detail)]
    extra = body.get("additionalDetails")
    if isinstance(extra, list):
        parts.extend(str(item) for item in extra if item)
    message = " | ".join(parts)
    match = _POINTER.search(message)
    return message, match.group(1).replace("/", ".") if match else None
