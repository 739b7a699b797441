"""Discogs API v2 routes, on the paths of https://api.discogs.com.

Authentication (https://www.discogs.com/developers/#page:authentication): ``Authorization: Discogs
token=<personal token>`` (or ``?token=``) acts as the seller; ``Authorization: Discogs key=<k>,
secret=<s>`` (or ``?key=&secret=``) is an authenticated application without a user; no credentials is
anonymous. Marketplace writes and orders need the seller. Facts and sources: docs/channels/discogs.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from riff_sandbox.discogs import catalogue
from riff_sandbox.discogs.consts import (
    DEFAULT_PER_PAGE,
    INVENTORY_SORTS,
    MAX_PER_PAGE,
    ORDER_SORTS,
    ORDER_STATUSES,
    SELLER_ID,
    STATUS_FILTERS,
)
from riff_sandbox.discogs.errors import MUST_AUTHENTICATE, NO_PERMISSION, NOT_FOUND, DiscogsError
from riff_sandbox.discogs.render import render_listing, render_message, render_order, render_release
from riff_sandbox.discogs.shop import Record
from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.timeutil import parse_datetime

if TYPE_CHECKING:
    from riff_sandbox.discogs.platform import DiscogsSandbox

SORT_ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class Caller:
    kind: str  # "user" | "app" | "anonymous"
    username: str | None = None

    @property
    def is_user(self) -> bool:
        return self.kind == "user"


def parse_authorization(header: str) -> dict[str, str]:
    """``Discogs token=abc`` -> {"token": "abc"}; ``Discogs key=k, secret=s`` -> {"key", "secret"}."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "discogs":
        return {"scheme": scheme}
    values: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            values[name.strip().lower()] = value.strip()
    return values


def json_object(payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if isinstance(payload, bytes | bytearray):
        try:
            payload = json.loads(payload)
        except ValueError as error:
            raise DiscogsError(400, "The request body is not valid JSON.") from error
    if not isinstance(payload, dict):
        raise DiscogsError(400, "The request body must be a JSON object.")
    return payload


def page_envelope(request: Request, total: int, page: int, per_page: int) -> tuple[dict[str, Any], str]:
    """Discogs' ``pagination`` object and the matching ``Link`` header (absolute, on this host)."""
    pages = max(1, math.ceil(total / per_page))

    def url(number: int) -> str:
        return str(request.url.include_query_params(page=number, per_page=per_page))

    urls: dict[str, str] = {}
    if page > 1:
        urls["first"] = url(1)
        urls["prev"] = url(min(page - 1, pages))
    if page < pages:
        urls["next"] = url(page + 1)
        urls["last"] = url(pages)
    link = ", ".join(f'<{href}>; rel="{rel}"' for rel, href in urls.items())
    pagination = {"per_page": per_page, "items": total, "page": page, "urls": urls, "pages": pages}
    return pagination, link


def _page_params(page: int, per_page: int) -> tuple[int, int]:
    return max(1, page), min(max(1, per_page), MAX_PER_PAGE)


def _checked(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        # The documented message lists the choices alphabetically (api_samples/discogs/errors.json).
        raise DiscogsError(422, f"Invalid {name}: expected one of {', '.join(sorted(allowed))}.")
    return value


def _inventory_key(sort: str) -> Callable[[Record], Any]:
    def release_field(name: str) -> Callable[[Record], Any]:
        return lambda r: (getattr(catalogue.release(r["release_id"]), name), r["id"])

    keys: dict[str, Callable[[Record], Any]] = {
        "listed": lambda r: (r["posted"], r["id"]),
        "price": lambda r: (Decimal(r["price"]), r["id"]),
        "item": lambda r: (catalogue.release(r["release_id"]).description.lower(), r["id"]),
        "artist": lambda r: (catalogue.release(r["release_id"]).album.artist.lower(), r["id"]),
        "label": lambda r: (catalogue.release(r["release_id"]).album.label.lower(), r["id"]),
        "catno": release_field("catalog_number"),
        "audio": lambda r: (False, r["id"]),
        "status": lambda r: (r["status"], r["id"]),
        "location": lambda r: (r.get("location") or "", r["id"]),
    }
    return keys[sort]


def build_router(platform: DiscogsSandbox) -> APIRouter:
    sandbox = platform.sandbox
    options = platform.options

    def identify(request: Request) -> Caller:
        header = request.headers.get("authorization")
        values = parse_authorization(header) if header else {}
        query = request.query_params
        token = values.get("token") or query.get("token")
        key = values.get("key") or query.get("key")
        secret = values.get("secret") or query.get("secret")
        if token:
            if sandbox.tokens.get(token) is None:
                raise DiscogsError(401, MUST_AUTHENTICATE)
            return Caller("user", options.seller_username)
        if key or secret:
            if (key, secret) != platform.consumer:
                raise DiscogsError(401, "Invalid consumer.")
            return Caller("app")
        if header:  # some other scheme (OAuth 1.0a is not emulated)
            raise DiscogsError(401, MUST_AUTHENTICATE)
        return Caller("anonymous")

    def require_seller(caller: Caller) -> None:
        if caller.kind == "anonymous":
            raise DiscogsError(401, MUST_AUTHENTICATE)
        if not caller.is_user:
            raise DiscogsError(403, NO_PERMISSION)

    router = APIRouter(tags=["discogs api"])
    CallerDep = Depends(identify)

    def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers=headers)

    # Identity ------------------------------------------------------------------------------------

    @router.get("/oauth/identity")
    def identity(request: Request, caller: Caller = CallerDep) -> JSONResponse:
        require_seller(caller)
        base_url = base_url_of(request)
        return ok(
            {
                "id": SELLER_ID,
                "username": options.seller_username,
                "resource_url": f"{base_url}/users/{options.seller_username}",
                "consumer_name": "RIFF sandbox",
            }
        )

    # Inventory and listings ------------------------------------------------------------------------

    @router.get("/users/{username}/inventory")
    def inventory(
        request: Request,
        username: str,
        status: str | None = None,
        sort: str = "listed",
        sort_order: str = "desc",
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        caller: Caller = CallerDep,
    ) -> JSONResponse:
        if username.lower() != options.seller_username.lower():
            raise DiscogsError(404, NOT_FOUND)
        owner = caller.is_user and caller.username == options.seller_username
        wanted = _checked(status, STATUS_FILTERS, "status") if status is not None else "For Sale"
        if not owner:
            wanted = "For Sale"  # others only ever see what is for sale
        _checked(sort, INVENTORY_SORTS, "sort")
        _checked(sort_order, SORT_ORDERS, "sort_order")
        page, per_page = _page_params(page, per_page)
        base_url = base_url_of(request)
        found = [r for r in platform.all_listings() if wanted == "All" or r["status"] == wanted]
        if wanted == "All":
            found = [r for r in found if r["status"] != "Deleted"]
        found.sort(key=_inventory_key(sort), reverse=sort_order == "desc")
        pagination, link = page_envelope(request, len(found), page, per_page)
        start = (page - 1) * per_page
        listings = [
            render_listing(r, base_url, options, owner=owner) for r in found[start : start + per_page]
        ]
        return ok({"pagination": pagination, "listings": listings}, headers={"Link": link} if link else None)

    @router.get("/marketplace/listings/{listing_id}")
    def get_listing(request: Request, listing_id: str, caller: Caller = CallerDep) -> JSONResponse:
        with platform.session() as shop:
            record = shop.require_listing(listing_id)
        owner = caller.is_user
        if not owner and record["status"] != "For Sale":
            raise DiscogsError(404, NOT_FOUND)
        return ok(render_listing(record, base_url_of(request), options, owner=owner, detail=True))

    @router.post("/marketplace/listings")
    def create_listing(
        request: Request, payload: Any = Body(None), caller: Caller = CallerDep
    ) -> JSONResponse:
        require_seller(caller)
        body = json_object(payload)
        with platform.session() as shop:
            record = shop.create_listing(body)
        base_url = base_url_of(request)
        return ok(
            {"listing_id": record["id"], "resource_url": f"{base_url}/marketplace/listings/{record['id']}"},
            status=201,
        )

    @router.post("/marketplace/listings/{listing_id}")
    def edit_listing(listing_id: str, payload: Any = Body(None), caller: Caller = CallerDep) -> Response:
        require_seller(caller)
        body = json_object(payload)
        with platform.session() as shop:
            shop.edit_listing(shop.require_listing(listing_id), body)
        return Response(status_code=204)

    @router.delete("/marketplace/listings/{listing_id}")
    def delete_listing(listing_id: str, caller: Caller = CallerDep) -> Response:
        require_seller(caller)
        with platform.session() as shop:
            shop.delete_listing(shop.require_listing(listing_id))
        return Response(status_code=204)

    # Orders ----------------------------------------------------------------------------------------

    @router.get("/marketplace/orders")
    def list_orders(
        request: Request,
        status: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
        archived: bool | None = None,
        sort: str = "id",
        sort_order: str = "desc",
        page: int = 1,
        per_page: int = DEFAULT_PER_PAGE,
        caller: Caller = CallerDep,
    ) -> JSONResponse:
        require_seller(caller)
        if status is not None:
            _checked(status, ("All", *ORDER_STATUSES), "status")
        _checked(sort, ORDER_SORTS, "sort")
        _checked(sort_order, SORT_ORDERS, "sort_order")
        bounds: dict[str, datetime] = {}
        for name, raw in (("created_after", created_after), ("created_before", created_before)):
            if raw:
                try:
                    bounds[name] = parse_datetime(raw)
                except ValueError:
                    raise DiscogsError(422, f"Invalid {name}: expected an ISO 8601 date.") from None

        def selected(order: Record) -> bool:
            if status not in (None, "All") and order["status"] != status:
                return False
            if archived is not None and order["archived"] != archived:
                return False
            created = datetime.fromisoformat(order["created"])
            if "created_after" in bounds and created < bounds["created_after"]:
                return False
            return not ("created_before" in bounds and created > bounds["created_before"])

        keys: dict[str, Callable[[Record], Any]] = {
            "id": lambda o: int(o["id"].split("-")[1]),
            "buyer": lambda o: (o["buyer_index"], o["id"]),
            "created": lambda o: (o["created"], o["id"]),
            "status": lambda o: (o["status"], o["id"]),
            "last_activity": lambda o: (o["last_activity"], o["id"]),
        }
        with platform.session() as shop:
            found = [o for o in shop.orders() if selected(o)]
        found.sort(key=keys[sort], reverse=sort_order == "desc")
        page, per_page = _page_params(page, per_page)
        pagination, link = page_envelope(request, len(found), page, per_page)
        start = (page - 1) * per_page
        base_url = base_url_of(request)
        orders = [render_order(o, base_url, options) for o in found[start : start + per_page]]
        return ok({"pagination": pagination, "orders": orders}, headers={"Link": link} if link else None)

    @router.get("/marketplace/orders/{order_id}")
    def get_order(request: Request, order_id: str, caller: Caller = CallerDep) -> JSONResponse:
        require_seller(caller)
        with platform.session() as shop:
            order = shop.require_order(order_id)
        return ok(render_order(order, base_url_of(request), options))

    @router.post("/marketplace/orders/{order_id}")
    def edit_order(
        request: Request, order_id: str, payload: Any = Body(None), caller: Caller = CallerDep
    ) -> JSONResponse:
        require_seller(caller)
        body = json_object(payload)
        if "status" in body and "shipping" in body:
            raise DiscogsError(422, "Change either the status or the shipping, not both.")
        with platform.session() as shop:
            order = shop.require_order(order_id)
            if "status" in body:
                shop.set_order_status(order, body["status"], by_seller=True)
            elif "shipping" in body:
                shop.set_order_shipping(order, body["shipping"])
            else:
                raise DiscogsError(422, "Missing required field: status or shipping.")
        return ok(render_order(order, base_url_of(request), options))

    @router.get("/marketplace/orders/{order_id}/messages")
    def list_messages(request: Request, order_id: str, caller: Caller = CallerDep) -> JSONResponse:
        require_seller(caller)
        with platform.session() as shop:
            order = shop.require_order(order_id)
        base_url = base_url_of(request)
        messages = [render_message(m, order, base_url, options) for m in reversed(order["messages"])]
        total = len(messages)
        pagination = {"per_page": 50, "items": total, "page": 1, "urls": {}, "pages": 1}
        return ok({"pagination": pagination, "messages": messages})

    @router.post("/marketplace/orders/{order_id}/messages")
    def add_message(
        request: Request, order_id: str, payload: Any = Body(None), caller: Caller = CallerDep
    ) -> JSONResponse:
        require_seller(caller)
        body = json_object(payload)
        with platform.session() as shop:
            order = shop.require_order(order_id)
            entry = shop.add_message(order, body.get("message"), body.get("status"))
        return ok(render_message(entry, order, base_url_of(request), options), status=201)

    # Database --------------------------------------------------------------------------------------

    @router.get("/releases/{release_id}")
    def get_release(request: Request, release_id: str, _caller: Caller = CallerDep) -> JSONResponse:
        if not release_id.isdigit() or int(release_id) <= 0:
            raise DiscogsError(404, "Release not found.")
        number = int(release_id)
        for_sale = sum(
            1 for r in platform.all_listings() if r["release_id"] == number and r["status"] == "For Sale"
        )
        return ok(render_release(number, base_url_of(request), for_sale))

    return router
