"""Reverb's API routes, under ``/api`` as on https://api.reverb.com/api.

Every route needs ``Authorization: Bearer <token>`` and ``Accept-Version: 3.0``; responses are
``application/hal+json``. Facts and sources: docs/channels/reverb.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends, Request

from riff_sandbox.reverb import tables
from riff_sandbox.reverb.consts import (
    API_BASE_PATH,
    API_VERSION,
    DEFAULT_PER_PAGE,
    LISTING_STATE_FILTERS,
    MAX_PER_PAGE,
    SHOP_CURRENCY,
    SHOP_ID,
    SHOP_NAME,
    SHOP_SLUG,
    WEBHOOK_TOPICS,
)
from riff_sandbox.reverb.errors import HalJSONResponse, ReverbError
from riff_sandbox.reverb.render import render_category, render_condition, render_listing, render_order
from riff_sandbox.reverb.shop import CreateResult, Record
from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.store import Document
from riff_sandbox.toolkit.timeutil import parse_datetime

if TYPE_CHECKING:
    from riff_sandbox.reverb.platform import ReverbSandbox

UNAUTHORIZED = "The access token is missing, invalid, expired or revoked."
WEBHOOK_OAUTH_REQUIRED = "Please log in via Oauth to create webhooks"
ORDER_DATE_FILTERS = ("updated_start_date", "updated_end_date", "created_start_date", "created_end_date")


def json_object(payload: Any) -> dict[str, Any]:
    """The request body as a JSON object; bodies FastAPI left as bytes (odd Content-Type) are parsed here."""
    if payload is None:
        return {}
    if isinstance(payload, bytes | bytearray):
        try:
            payload = json.loads(payload)
        except ValueError as error:
            raise ReverbError(400, "The request body is not valid JSON.") from error
    if not isinstance(payload, dict):
        raise ReverbError(422, "The request body must be a JSON object.")
    return payload


def paginate(
    request: Request, items: list[Any], page: int, per_page: int
) -> tuple[dict[str, Any], list[Any]]:
    """(envelope without the items, items of this page). Links are absolute, on the request's host."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    total = len(items)
    total_pages = math.ceil(total / per_page)
    start = (page - 1) * per_page
    links: dict[str, Any] = {}
    if page < total_pages:
        links["next"] = {"href": str(request.url.include_query_params(page=page + 1, per_page=per_page))}
    if page > 1:
        links["prev"] = {"href": str(request.url.include_query_params(page=page - 1, per_page=per_page))}
    envelope = {"total": total, "current_page": page, "total_pages": total_pages, "_links": links}
    return envelope, items[start : start + per_page]


def build_router(platform: ReverbSandbox) -> APIRouter:
    sandbox = platform.sandbox

    def authenticate(request: Request) -> Document:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
        record = sandbox.tokens.get(token) if token else None
        if record is None:
            raise ReverbError(401, UNAUTHORIZED)
        if platform.options.require_accept_version and request.headers.get("accept-version") != API_VERSION:
            raise ReverbError(
                406,
                f"Send the header Accept-Version: {API_VERSION} (the sandbox only speaks API version 3.0).",
            )
        return record

    router = APIRouter(prefix=API_BASE_PATH, dependencies=[Depends(authenticate)], tags=["reverb api"])

    # Reference data ------------------------------------------------------------------------------

    @router.get("/listing_conditions")
    def listing_conditions() -> HalJSONResponse:
        return HalJSONResponse({"conditions": [render_condition(c) for c in tables.conditions()]})

    @router.get("/categories/flat")
    def categories_flat() -> HalJSONResponse:
        return HalJSONResponse({"categories": [render_category(c) for c in tables.categories()]})

    @router.get("/shipping/providers")
    def shipping_providers() -> HalJSONResponse:
        return HalJSONResponse({"providers": [{"name": p["name"]} for p in tables.shipping_providers()]})

    @router.get("/shop")
    def shop_details() -> HalJSONResponse:
        return HalJSONResponse(
            {
                "id": SHOP_ID,
                "name": SHOP_NAME,
                "slug": SHOP_SLUG,
                "currency": SHOP_CURRENCY,
                "shipping_profiles": [{"id": p["id"], "name": p["name"]} for p in tables.shipping_profiles()],
            }
        )

    # Listings ------------------------------------------------------------------------------------

    def created_or_updated(
        result: CreateResult, base_url: str, *, status: int, message: str
    ) -> HalJSONResponse:
        listing = render_listing(result.listing, base_url)
        if result.publish_errors:
            # The draft is saved; publishing failed validation.
            body = {"message": "The listing was saved as a draft but could not be published.",
                    "errors": result.publish_errors, "listing": listing}  # fmt: skip
            return HalJSONResponse(body, status_code=422)
        return HalJSONResponse({"message": message, "listing": listing}, status_code=status)

    @router.post("/listings")
    def create_listing(request: Request, payload: Any = Body(None)) -> HalJSONResponse:
        body = json_object(payload)
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            result = shop.create_listing(body)
        publishing = result.listing["state"] == "live" or result.listing.get("publish_at")
        message = "Listing created and submitted for publishing." if publishing else "Draft created."
        return created_or_updated(result, base_url, status=201, message=message)

    @router.get("/listings/{reference}")
    def get_listing(request: Request, reference: str) -> HalJSONResponse:
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            record = shop.require_listing(reference)
        return HalJSONResponse(render_listing(record, base_url))

    @router.put("/listings/{reference}")
    def update_listing(request: Request, reference: str, payload: Any = Body(None)) -> HalJSONResponse:
        body = json_object(payload)
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            result = shop.update_listing(shop.require_listing(reference), body)
        return created_or_updated(result, base_url, status=200, message="Listing updated.")

    @router.delete("/listings/{reference}")
    def delete_listing(request: Request, reference: str) -> HalJSONResponse:
        with platform.session(base_url_of(request)) as shop:
            shop.delete_listing(shop.require_listing(reference))
        return HalJSONResponse({"message": "Draft deleted."})

    @router.put("/my/listings/{reference}/state/end")
    def end_listing(request: Request, reference: str, payload: Any = Body(None)) -> HalJSONResponse:
        body = json_object(payload)
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            record = shop.end_listing(shop.require_listing(reference), body)
        return HalJSONResponse({"message": "Listing ended.", "listing": render_listing(record, base_url)})

    def my_listings_page(
        request: Request, select: Callable[[Record], bool], page: int, per_page: int
    ) -> HalJSONResponse:
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            found = [r for r in shop.indexed_listings() if select(r)]
        found.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
        envelope, items = paginate(request, found, page, per_page)
        links = envelope.pop("_links")
        body = {
            **envelope,
            "listings": [render_listing(r, base_url, include_sku=True) for r in items],
            "_links": links,
        }
        return HalJSONResponse(body)

    @router.get("/my/listings")
    def my_listings(
        request: Request,
        state: str | None = None,
        sku: str | None = None,
        query: str | None = None,
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
    ) -> HalJSONResponse:
        wanted = state or "live"  # without state= only live listings are returned
        if wanted not in LISTING_STATE_FILTERS:
            raise ReverbError(422, "Validation failed.", {"state": ["is not included in the list"]})
        words = (query or "").lower().split()

        def select(record: Record) -> bool:
            if wanted != "all" and record["state"] != wanted:
                return False
            if sku is not None and record.get("sku") != sku:
                return False
            text = " ".join(
                str(record.get(k) or "") for k in ("title", "make", "model", "sku", "finish")
            ).lower()
            return all(word in text for word in words)

        return my_listings_page(request, select, page, per_page)

    @router.get("/my/listings/drafts")
    def my_drafts(request: Request, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> HalJSONResponse:
        return my_listings_page(request, lambda r: r["state"] == "draft", page, per_page)

    # Orders --------------------------------------------------------------------------------------

    def orders_page(
        request: Request, select: Callable[[Record], bool], page: int, per_page: int
    ) -> HalJSONResponse:
        bounds: dict[str, datetime] = {}
        for name in ORDER_DATE_FILTERS:
            raw = request.query_params.get(name)
            if raw:
                try:
                    bounds[name] = parse_datetime(raw)
                except ValueError as error:
                    raise ReverbError(422, "Validation failed.", {name: ["is not a valid date"]}) from error

        def in_range(record: Record) -> bool:
            updated = datetime.fromisoformat(record["updated_at"])
            created = datetime.fromisoformat(record["created_at"])
            checks = (
                ("updated_start_date", lambda b: updated >= b),
                ("updated_end_date", lambda b: updated <= b),
                ("created_start_date", lambda b: created >= b),
                ("created_end_date", lambda b: created <= b),
            )
            return all(check(bounds[name]) for name, check in checks if name in bounds)

        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            found = [r for r in shop.orders() if select(r) and in_range(r)]
        found.sort(key=lambda r: (r["created_at"], r["order_number"]), reverse=True)
        envelope, items = paginate(request, found, page, per_page)
        links = envelope.pop("_links")
        body: dict[str, Any] = {**envelope, "orders": [render_order(r, base_url) for r in items]}
        if links:  # the documented single-page envelope has no _links at all
            body["_links"] = links
        return HalJSONResponse(body)

    @router.get("/my/orders/selling/all")
    def all_orders(request: Request, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> HalJSONResponse:
        return orders_page(request, lambda r: True, page, per_page)

    @router.get("/my/orders/selling/unpaid")
    def unpaid_orders(request: Request, page: int = 1, per_page: int = DEFAULT_PER_PAGE) -> HalJSONResponse:
        return orders_page(request, lambda r: r["status"] == "unpaid", page, per_page)

    @router.get("/my/orders/selling/awaiting_shipment")
    def awaiting_shipment(
        request: Request, page: int = 1, per_page: int = DEFAULT_PER_PAGE
    ) -> HalJSONResponse:
        return orders_page(request, lambda r: r["status"] == "paid" and not r["local_pickup"], page, per_page)

    @router.get("/my/orders/selling/{order_number}")
    def get_order(request: Request, order_number: str) -> HalJSONResponse:
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            record = shop.require_order(order_number)
        return HalJSONResponse(render_order(record, base_url))

    @router.post("/my/orders/selling/{order_number}/ship")
    def ship_order(request: Request, order_number: str, payload: Any = Body(None)) -> HalJSONResponse:
        body = json_object(payload)
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            record = shop.ship(shop.require_order(order_number), body)
        return HalJSONResponse(render_order(record, base_url))

    @router.post("/my/orders/selling/{order_number}/mark_picked_up")
    def mark_picked_up(request: Request, order_number: str) -> HalJSONResponse:
        base_url = base_url_of(request)
        with platform.session(base_url) as shop:
            record = shop.mark_picked_up(shop.require_order(order_number))
        return HalJSONResponse(render_order(record, base_url))

    # Webhook registrations -----------------------------------------------------------------------

    def render_registration(registration: Document, base_url: str) -> dict[str, Any]:
        href = f"{base_url}{API_BASE_PATH}/webhooks/registrations/{registration['id']}"
        return {
            "id": registration["id"],
            "url": registration["url"],
            "topic": registration["topic"],
            "_links": {"self": {"href": href}},
        }

    @router.post("/webhooks/registrations")
    def register_webhook(
        request: Request, payload: Any = Body(None), token: Document = Depends(authenticate)
    ) -> HalJSONResponse:
        if platform.options.webhook_registration_requires_oauth and token.get("kind") != "oauth":
            raise ReverbError(401, WEBHOOK_OAUTH_REQUIRED)
        body = json_object(payload)
        url, topic = body.get("url"), body.get("topic")
        problems: dict[str, list[str]] = {}
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            problems["url"] = ["is invalid"]
        if topic not in WEBHOOK_TOPICS:
            problems["topic"] = ["is not included in the list"]
        if problems:
            raise ReverbError(422, "Validation failed.", problems)
        registration = sandbox.webhooks.register(str(url), str(topic), source="api")
        return HalJSONResponse(render_registration(registration, base_url_of(request)), status_code=201)

    @router.get("/webhooks/registrations")
    def list_webhooks(request: Request) -> HalJSONResponse:
        base_url = base_url_of(request)
        registrations = [
            render_registration(r, base_url) for r in sandbox.webhooks.registrations() if r["source"] == "api"
        ]
        return HalJSONResponse({"registrations": registrations})

    @router.delete("/webhooks/registrations/{registration_id}")
    def delete_webhook(registration_id: int) -> HalJSONResponse:
        registration = next((r for r in sandbox.webhooks.registrations() if r["id"] == registration_id), None)
        if registration is None or registration["source"] != "api":
            raise ReverbError(404, "The requested webhook registration could not be found.")
        sandbox.webhooks.unregister(registration_id)
        return HalJSONResponse({"message": "Webhook registration deleted."})

    return router
