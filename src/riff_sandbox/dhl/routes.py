"""MyDHL API routes under ``/mydhlapi`` (as on https://express.api.dhl.com/mydhlapi): rates, shipments,
tracking. HTTP Basic (API key : secret) on every route; errors in DHL's problem format."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from riff_sandbox.dhl import consts
from riff_sandbox.dhl.desk import Desk, quote
from riff_sandbox.dhl.errors import DhlError, problem
from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.timeutil import parse_datetime, utcnow

if TYPE_CHECKING:
    from riff_sandbox.dhl.platform import DhlSandbox

GET_RATES_REQUIRED = (
    "accountNumber", "originCountryCode", "originCityName", "destinationCountryCode", "destinationCityName",
    "weight", "length", "width", "height", "plannedShippingDate", "isCustomsDeclarable", "unitOfMeasurement",
)  # fmt: skip


def json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError as error:
        raise DhlError(400, "Request body is not valid JSON") from error
    if not isinstance(body, dict):
        raise DhlError(422, "#: expected type: JSONObject, found: " + type(body).__name__)
    return body


def build_router(platform: DhlSandbox) -> APIRouter:
    sandbox = platform.sandbox

    def authenticate(request: Request) -> None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        credentials = ""
        if scheme.lower() == "basic":
            try:
                credentials = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                credentials = ""
        if not credentials or sandbox.tokens.get(credentials) is None:
            raise DhlError(401, "Invalid Credentials")

    router = APIRouter(prefix=consts.API_BASE_PATH, dependencies=[Depends(authenticate)], tags=["mydhl api"])

    def desk_call(function: Any) -> Any:
        with sandbox.store.transaction() as tx:
            return function(Desk(tx, platform.options, utcnow()))

    @router.get("/rates")
    def rates_get(request: Request) -> JSONResponse:
        query = request.query_params
        missing = [name for name in GET_RATES_REQUIRED if not query.get(name)]
        if missing:
            raise DhlError(400, f"Missing required query parameter(s): {', '.join(missing)}")
        if query["accountNumber"] not in platform.options.accounts:
            raise DhlError(400, consts.ACCOUNT_INVALID.format(number=query["accountNumber"]))
        try:
            package = {
                "weight": float(query["weight"]),
                "dimensions": {k: float(query[k]) for k in ("length", "width", "height")},
            }
            planned = parse_datetime(query["plannedShippingDate"] + "T12:00:00")
        except ValueError as error:
            raise DhlError(400, f"Invalid query parameter: {error}") from error
        return JSONResponse(
            quote(
                query["originCountryCode"].upper(),
                query["destinationCountryCode"].upper(),
                [package],
                planned,
            )
        )

    @router.post("/rates")
    async def rates_post(request: Request) -> JSONResponse:
        body = json_body(await request.body())
        details = body.get("customerDetails") or {}
        problems = []
        for party in ("shipperDetails", "receiverDetails"):
            address = details.get(party) if isinstance(details, dict) else None
            for key in ("countryCode", "cityName"):
                if not isinstance(address, dict) or not address.get(key):
                    problems.append(f"#/customerDetails/{party}: required key [{key}] not found")
        for key in (
            "accounts",
            "plannedShippingDateAndTime",
            "unitOfMeasurement",
            "isCustomsDeclarable",
            "packages",
        ):
            if body.get(key) in (None, [], ""):
                problems.append(f"#: required key [{key}] not found")
        if problems:
            raise DhlError(422, problems[0], additional=problems[1:] or None)
        account = next((a.get("number") for a in body["accounts"] if isinstance(a, dict)), None)
        if account not in platform.options.accounts:
            raise DhlError(400, consts.ACCOUNT_INVALID.format(number=account))
        try:
            planned: datetime = parse_datetime(str(body["plannedShippingDateAndTime"]).replace("GMT", ""))
        except ValueError:
            raise DhlError(400, consts.SHIP_TIMESTAMP_ERROR) from None
        packages = [p for p in body["packages"] if isinstance(p, dict)]
        return JSONResponse(
            quote(
                str(details["shipperDetails"]["countryCode"]).upper(),
                str(details["receiverDetails"]["countryCode"]).upper(),
                packages,
                planned,
            )
        )

    @router.post("/shipments", status_code=201)
    async def create_shipment(request: Request) -> Response:
        body = json_body(await request.body())
        reference = request.headers.get("message-reference") or None
        base_url = base_url_of(request)

        def create(desk: Desk) -> tuple[dict[str, Any], int | None]:
            shipment, _created = desk.create(body, reference)
            lost = desk.take_lost_response()  # created or replayed: the gateway loses it
            return desk.render_created(shipment, base_url), lost

        rendered, lost = desk_call(create)
        headers = {"Message-Reference": reference} if reference else {}
        if lost is not None:
            # The label was bought, then the answer was lost on the way back (a gateway 5xx).
            detail = consts.PROCESS_FAILURE.format(process_id=secrets.randbelow(10**10))
            return problem(lost, detail, instance="/expressapi/shipments", headers=headers)
        return JSONResponse(rendered, status_code=201, headers=headers)

    @router.get("/shipments/{number}/tracking")
    def tracking(number: str) -> JSONResponse:
        def read(desk: Desk) -> dict[str, Any] | None:
            shipment = desk.shipment(number)
            return desk.render_tracking(shipment) if shipment is not None else None

        body = desk_call(read)
        if body is None:
            raise DhlError(404, f"896: Failure - No shipment found for the shipment tracking number {number}")
        return JSONResponse(body)

    @router.get("/tracking")
    def tracking_many(request: Request) -> JSONResponse:
        numbers = [
            n
            for value in request.query_params.getlist("shipmentTrackingNumber")
            for n in value.split(",")
            if n
        ]
        if not numbers:
            raise DhlError(400, "Missing required query parameter(s): shipmentTrackingNumber")

        def read(desk: Desk) -> dict[str, Any]:
            found = [desk.shipment(n) for n in numbers]
            return {"shipments": [desk.render_tracking(s)["shipments"][0] for s in found if s is not None]}

        return JSONResponse(desk_call(read))

    return router
