"""The eBay Browse API sandbox: ``POST /identity/v1/oauth2/token`` (client credentials) and
``GET /buy/browse/v1/item_summary/search`` over generated vintage goods.

Behaviour per shared/reference/platform_apis.md 2b and api_samples/ebay/{browse_item_summary_search,
oauth_client_credentials_token,rest_errors}.json: application tokens live ``access_token_ttl_seconds``
(7,200 by default); a missing, unknown or expired token is 401 errorId 1001; a call beyond the daily quota
(5,000 by default) is 429 errorId 2001; bad ``limit``/``offset``/``filter`` are 400 with the parameter named.

Control routes (never faulted, never logged): ``POST /_sandbox/ebay_browse/expire_access_tokens``,
``POST /_sandbox/ebay_browse/quota`` ``{"daily_call_limit", "reset_usage"}``, ``GET /_sandbox/ebay_browse/usage``.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from riff_sandbox.ebay_browse import goods as demo
from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.oauth import (
    basic_client_ok,
    bearer_token_ok,
    expire_access_tokens,
    form_fields,
    store_access_token,
)
from riff_sandbox.toolkit.platform import SandboxPlatform
from riff_sandbox.toolkit.store import SeededCollection, Transaction

NAME = "ebay_browse"
ITEMS = "items"
TOKEN_PATH = "/identity/v1/oauth2/token"
SEARCH_PATH = "/buy/browse/v1/item_summary/search"
KIND_APP = "application"
MAX_LIMIT = 200
MAX_OFFSET = 9999
CONDITION_IDS = {"mint": "1500", "excellent": "3000", "very good": "3000", "good": "3000", "fair": "7000"}
CONDITION_NAMES = {
    "1000": "New",
    "1500": "New other (see details)",
    "3000": "Used",
    "7000": "For parts or not working",
}
CATEGORY = {"denim": ("11483", "Jeans"), "guitar": ("33034", "Electric Guitars"), "bass": ("4713", "Bass Guitars"),
            "amp": ("38072", "Guitar Amplifiers"), "record": ("176985", "Records")}  # fmt: skip
GBP_PER_USD = 0.79


class EbayBrowseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = "RIFF-sandbox-PRD-0123456789-abcdef"
    client_secret: str = "PRD-sandbox-secret"
    access_token_ttl_seconds: int = Field(7200, ge=1)
    daily_call_limit: int = Field(5000, ge=0)
    marketplace_id: str = "EBAY_GB"


def _error(status: int, error_id: int, message: str, *, domain: str = "API_BROWSE", parameter: str | None = None,
           headers: Mapping[str, str] | None = None) -> JSONResponse:  # fmt: skip
    error: dict[str, Any] = {"errorId": error_id, "domain": domain, "category": "REQUEST", "message": message}
    if parameter:
        error["parameters"] = [{"name": parameter, "value": parameter}]
    return JSONResponse({"errors": [error]}, status_code=status, headers=dict(headers or {}))


def invalid_token() -> JSONResponse:
    return _error(401, 1001, "Invalid access token", domain="OAuth")


def quota_exceeded() -> JSONResponse:
    return _error(
        429, 2001, "Too many requests. The request limit has been reached for the resource.", domain="ACCESS"
    )


_PRICE = re.compile(r"price:\[(?P<low>[0-9.]*)\.\.(?P<high>[0-9.]*)\]")
_SET = re.compile(r"(?P<field>\w+):\{(?P<values>[^}]*)\}")


def parse_filter(value: str | None) -> dict[str, Any] | None:
    """``price:[10..50],priceCurrency:GBP,conditionIds:{1000|3000}`` -> dict; None when malformed."""
    result: dict[str, Any] = {}
    if not value:
        return result
    rest = value
    for match in _PRICE.finditer(value):
        try:
            result["low"] = float(match.group("low")) if match.group("low") else None
            result["high"] = float(match.group("high")) if match.group("high") else None
        except ValueError:
            return None
        rest = rest.replace(match.group(0), "")
    for match in _SET.finditer(value):
        result[match.group("field")] = {v for v in match.group("values").split("|") if v}
        rest = rest.replace(match.group(0), "")
    for part in (p for p in rest.split(",") if p.strip()):
        if ":" not in part:
            return None
        key, val = part.split(":", 1)
        result[key.strip()] = val.strip()
    if "price:" in rest:
        return None
    return result


class EbayBrowseSandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = ""
    platform_prefixes: ClassVar[tuple[str, ...]] = ("/buy", "/identity")
    default_token: ClassVar[str | None] = None
    default_seed_size: ClassVar[int] = 300
    options_model = EbayBrowseOptions
    options: EbayBrowseOptions

    def __init__(self, sandbox: Any, options: BaseModel) -> None:
        super().__init__(sandbox, options)
        self._lock = threading.Lock()
        self._usage = 0
        self._limit = self.options.daily_call_limit
        self._items = SeededCollection(sandbox.store, ITEMS)

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: Any, size: int, now: datetime) -> None:
        with self._lock:
            self._usage = 0
        self._items.forget()
        for good in demo.make_goods(rng, size, now):
            tx.put(ITEMS, good.key, render_item_record(good, rng))

    def router(self) -> APIRouter:
        router = APIRouter(tags=["ebay browse api"])

        @router.post(TOKEN_PATH)
        async def token(request: Request) -> Response:
            body = (await request.body()).decode("utf-8", "replace")
            return self.issue_token(request.headers.get("authorization", ""), body)

        @router.get(SEARCH_PATH)
        def search(request: Request) -> Response:
            return self.search(request)

        return router

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        parameter = next(iter(errors), None) if errors else None
        return _error(status, 12000 + status, message, parameter=parameter, headers=headers)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        return quota_exceeded()

    def server_error_response(self, status: int) -> Response:
        return _error(
            status, 10001, "There was a problem with an eBay internal system or process.", domain="API_BROWSE"
        )

    def token_expired_response(self) -> Response:
        return invalid_token()

    def install(self, app: Any) -> None:
        app.add_api_route(f"/_sandbox/{NAME}/expire_access_tokens", self._expire_tokens, methods=["POST"])
        app.add_api_route(f"/_sandbox/{NAME}/quota", self._quota, methods=["POST"])
        app.add_api_route(f"/_sandbox/{NAME}/usage", self._usage_info, methods=["GET"])

    # OAuth ---------------------------------------------------------------------------------------

    def issue_token(self, authorization: str, body: str) -> Response:
        if not basic_client_ok(authorization, self.options.client_id, self.options.client_secret):
            return JSONResponse({"error": "invalid_client", "error_description": "client authentication failed"},
                                status_code=401)  # fmt: skip
        form = form_fields(body)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "grant type in request is not supported by the authorization server"},
                                status_code=400)  # fmt: skip
        if "scope" in form and not form["scope"].startswith("https://api.ebay.com/oauth/api_scope"):
            return JSONResponse({"error": "invalid_scope", "error_description": "the requested scope is invalid"},
                                status_code=400)  # fmt: skip
        ttl = self.options.access_token_ttl_seconds
        token = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^" + secrets.token_urlsafe(36)
        store_access_token(self.sandbox.tokens, token, kind=KIND_APP, ttl_seconds=ttl)
        return JSONResponse(
            {"access_token": token, "expires_in": ttl, "token_type": "Application Access Token"}
        )

    # Search --------------------------------------------------------------------------------------

    def _count_call(self) -> bool:
        with self._lock:
            self._usage += 1
            return self._usage <= self._limit

    def search(self, request: Request) -> Response:
        if not bearer_token_ok(self.sandbox.tokens, request.headers.get("authorization", ""), KIND_APP):
            return invalid_token()
        if not self._count_call():
            return quota_exceeded()
        params = request.query_params
        q = params.get("q")
        category_ids = params.get("category_ids")
        if not q and not category_ids and not params.get("gtin") and not params.get("epid"):
            return _error(400, 12001, "The call must have a valid 'q', 'category_ids', 'epid' or 'gtin' query parameter.",
                          parameter="q")  # fmt: skip
        if q and len(q) > 100:
            return _error(400, 12002, "The 'q' value is too long: at most 100 characters.", parameter="q")
        try:
            limit = int(params.get("limit", "50"))
            offset = int(params.get("offset", "0"))
        except ValueError:
            return _error(400, 12003, "The 'limit' and 'offset' values must be integers.", parameter="limit")
        if not 1 <= limit <= MAX_LIMIT:
            return _error(
                400, 12004, f"The 'limit' value must be between 1 and {MAX_LIMIT}.", parameter="limit"
            )
        if not 0 <= offset <= MAX_OFFSET:
            return _error(
                400, 12005, f"The 'offset' value must be between 0 and {MAX_OFFSET}.", parameter="offset"
            )
        parsed = parse_filter(params.get("filter"))
        if parsed is None:
            return _error(400, 12023, f"Invalid filter value '{params.get('filter')}'.", parameter="filter")
        found = [item for item in self._items.all() if _matches(item, q, category_ids, parsed)]
        if params.get("sort") == "price":
            found.sort(key=lambda i: float(i["price"]["value"]))
        elif params.get("sort") == "-price":
            found.sort(key=lambda i: -float(i["price"]["value"]))
        elif params.get("sort") == "newlyListed":
            found.sort(key=lambda i: i["itemCreationDate"], reverse=True)
        page = found[offset : offset + limit]
        base = base_url_of(request)
        base_query = {k: v for k, v in params.items() if k not in ("limit", "offset")}
        body: dict[str, Any] = {
            "href": f"{base}{SEARCH_PATH}?{urlencode({**base_query, 'limit': limit, 'offset': offset})}",
            "total": len(found),
            "limit": limit,
            "offset": offset,
            "itemSummaries": [_public(item, base) for item in page],
        }
        if offset + limit < len(found) and offset + limit <= MAX_OFFSET:
            body["next"] = (
                f"{base}{SEARCH_PATH}?{urlencode({**base_query, 'limit': limit, 'offset': offset + limit})}"
            )
        if offset > 0:
            body["prev"] = (
                f"{base}{SEARCH_PATH}?{urlencode({**base_query, 'limit': limit, 'offset': max(0, offset - limit)})}"
            )
        if not page:
            body.pop("itemSummaries")
        return JSONResponse(body)

    # Control -------------------------------------------------------------------------------------

    def _expire_tokens(self) -> dict[str, Any]:
        return expire_access_tokens(self.sandbox.store, KIND_APP)

    def _quota(self, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with self._lock:
            if "daily_call_limit" in body:
                self._limit = int(body["daily_call_limit"])
            if body.get("reset_usage"):
                self._usage = 0
            return {"daily_call_limit": self._limit, "used": self._usage}

    def _usage_info(self) -> dict[str, Any]:
        with self._lock:
            return {"daily_call_limit": self._limit, "used": self._usage}


def _matches(item: dict[str, Any], q: str | None, category_ids: str | None, parsed: dict[str, Any]) -> bool:
    if q and not demo.matches_keywords(item["_text"], q):
        return False
    if category_ids and not set(category_ids.split(",")) & set(item["leafCategoryIds"]):
        return False
    price = float(item["price"]["value"])
    if parsed.get("low") is not None and price < parsed["low"]:
        return False
    if parsed.get("high") is not None and price > parsed["high"]:
        return False
    if "conditionIds" in parsed and item["conditionId"] not in parsed["conditionIds"]:
        return False
    if "buyingOptions" in parsed and not set(item["buyingOptions"]) & parsed["buyingOptions"]:
        return False
    return not ("priceCurrency" in parsed and parsed["priceCurrency"] != item["price"]["currency"])


def _public(item: dict[str, Any], base: str) -> dict[str, Any]:
    legacy = item["legacyItemId"]
    return {
        **{k: v for k, v in item.items() if not k.startswith("_")},
        "itemHref": f"{base}/buy/browse/v1/item/v1%7C{legacy}%7C0",
        "itemWebUrl": f"{base}/itm/{legacy}",
    }


def render_item_record(good: demo.Good, rng: Any) -> dict[str, Any]:
    """An ItemSummary as eBay's OpenAPI shapes it (values are strings where eBay's are)."""
    legacy = str(257000000000 + int(good.key[1:]) * 7919 + rng.randint(0, 7000))
    category_id, category_name = CATEGORY[good.category]
    price = good.price_usd * GBP_PER_USD
    condition_id = CONDITION_IDS.get(good.condition, "3000")
    if good.category == "record":
        title = f"{good.model} LP {good.brand} {good.year} {'1st Press' if 'first' in good.detail else 'Reissue'} {good.condition}"
    elif good.category == "denim":
        title = f"Vintage {good.brand} {good.model} {good.decade} {good.size or ''} {good.finish or ''}"
    else:
        title = f"{good.brand} {good.model} {good.year} {good.finish or ''}".strip()
        if rng.random() < 0.3:
            title = f"Vintage {title}"
    title = " ".join(title.split())[:80]
    images = [f"https://i.ebayimg.com/images/g/{good.key}{n}/s-l1600.jpg" for n in range(rng.randint(1, 3))]
    return {
        "itemId": f"v1|{legacy}|0",
        "legacyItemId": legacy,
        "title": title,
        "shortDescription": good.detail,
        "leafCategoryIds": [category_id],
        "categories": [{"categoryId": category_id, "categoryName": category_name}],
        "image": {"imageUrl": images[0]},
        "thumbnailImages": [{"imageUrl": url} for url in images],
        "price": {"value": f"{price:.2f}", "currency": "GBP"},
        "seller": {
            "username": rng.choice(
                ("vintage_vault_uk", "denimhunter", "fretworks-ltd", "crate_digger_77", "tonehouse")
            ),
            "feedbackPercentage": f"{rng.uniform(97, 100):.1f}",
            "feedbackScore": rng.randint(12, 25000),
        },
        "condition": CONDITION_NAMES[condition_id],
        "conditionId": condition_id,
        "shippingOptions": [
            {
                "shippingCostType": "FIXED",
                "shippingCost": {"value": f"{rng.choice((0, 4.99, 9.99, 25)):.2f}", "currency": "GBP"},
            }
        ],
        "buyingOptions": ["FIXED_PRICE", "BEST_OFFER"] if rng.random() < 0.5 else ["FIXED_PRICE"],
        "itemLocation": {"postalCode": "WC2H****", "country": "GB"},
        "adultOnly": False,
        "itemCreationDate": good.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "itemOriginDate": good.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "listingMarketplaceId": "EBAY_GB",
        "_text": demo.search_text(title, demo.good_text(good)),
    }
