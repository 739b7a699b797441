"""The Etsy Open API v3 sandbox (public listing search, as the research collector uses it):

- ``GET /v3/application/listings/active`` (findAllListingsActive): keywords, limit 1-100 (default 25),
  offset, min_price, max_price, sort_on (created|price|updated|score), sort_order; ``{count, results}``
- ``GET /v3/application/listings/batch`` (getListingsByListingIds): listing_ids (<= 100), includes=Images
- ``GET /v3/application/listings/{listing_id}`` (getListing)

Every call needs ``x-api-key: <keystring>:<shared_secret>`` (keystring alone: 403 "Shared secret is required
in x-api-key header"). Limits per app: ``qps`` requests a second and ``qpd`` a day, reported on every
response in ``x-limit-per-second``, ``x-remaining-this-second``, ``x-limit-per-day``, ``x-remaining-today``;
beyond them 429 with ``retry-after``. Errors are ``{"error": "..."}`` (api_samples/etsy/errors_and_rate_limit.json).

Control: ``POST /_sandbox/etsy/limits`` ``{"qps", "qpd", "reset_usage"}``, ``GET /_sandbox/etsy/usage``.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from riff_sandbox.ebay_browse import goods as demo
from riff_sandbox.toolkit.platform import SandboxPlatform
from riff_sandbox.toolkit.store import SeededCollection, Transaction

NAME = "etsy"
LISTINGS = "listings"
API = "/v3/application"
MAX_LIMIT = 100
CURRENCIES = (("USD", 1.0), ("GBP", 0.79), ("EUR", 0.92))
TAXONOMY = {"denim": 1837, "guitar": 12088, "bass": 12089, "amp": 12090, "record": 344}


class EtsyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keystring: str = "riffsandboxkeystring0001"
    shared_secret: str = "riffsandboxsecret"
    qps: int = Field(10, ge=1)
    qpd: int = Field(10_000, ge=1)


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=dict(headers or {}))


class EtsySandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = ""
    platform_prefixes: ClassVar[tuple[str, ...]] = ("/v3",)
    default_token: ClassVar[str | None] = None
    default_seed_size: ClassVar[int] = 300
    options_model = EtsyOptions
    options: EtsyOptions

    def __init__(self, sandbox: Any, options: BaseModel) -> None:
        super().__init__(sandbox, options)
        self._lock = threading.Lock()
        self._qps = self.options.qps
        self._qpd = self.options.qpd
        self._second = 0
        self._second_count = 0
        self._day_count = 0
        self._listings = SeededCollection(sandbox.store, LISTINGS)

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: Any, size: int, now: datetime) -> None:
        with self._lock:
            self._day_count = 0
            self._second_count = 0
        self._listings.forget()
        for index, good in enumerate(demo.make_goods(rng, size, now)):
            listing = render_listing(good, rng, index)
            tx.put(LISTINGS, str(listing["listing_id"]), listing)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["etsy api"])

        @router.get(f"{API}/listings/active")
        def active(request: Request) -> Response:
            return self._guarded(request, self.find_active)

        @router.get(f"{API}/listings/batch")
        def batch(request: Request) -> Response:
            return self._guarded(request, self.batch)

        @router.get(f"{API}/listings/{{listing_id}}")
        def one(request: Request, listing_id: str) -> Response:
            return self._guarded(request, lambda r: self.get_listing(listing_id, r))

        return router

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        if errors:
            message = "; ".join(f"{field}: {', '.join(msgs)}" for field, msgs in errors.items())
        return error(status, message, headers)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        return error(429, f"You have exceeded your quota of: {self._qps} requests per 1 second(s)",
                     {"retry-after": str(retry_after_seconds), **self._limit_headers(0, None)})  # fmt: skip

    def token_expired_response(self) -> Response:
        return error(403, "Invalid API key")

    def install(self, app: Any) -> None:
        app.add_api_route(f"/_sandbox/{NAME}/limits", self._limits, methods=["POST"])
        app.add_api_route(f"/_sandbox/{NAME}/usage", self._usage, methods=["GET"])

    # Auth and limits -----------------------------------------------------------------------------

    def _limit_headers(self, remaining_second: int | None, remaining_day: int | None) -> dict[str, str]:
        with self._lock:
            second = self._qps - self._second_count if remaining_second is None else remaining_second
            day = self._qpd - self._day_count if remaining_day is None else remaining_day
            return {
                "x-limit-per-second": str(self._qps),
                "x-remaining-this-second": str(max(0, second)),
                "x-limit-per-day": str(self._qpd),
                "x-remaining-today": str(max(0, day)),
            }

    def _take(self) -> float:
        """Count the call; 0 when allowed, else the seconds until it would be."""
        now = time.time()
        with self._lock:
            second = int(now)
            if second != self._second:
                self._second, self._second_count = second, 0
            if self._day_count >= self._qpd:
                return 3600.0
            if self._second_count >= self._qps:
                return max(0.001, second + 1 - now)
            self._second_count += 1
            self._day_count += 1
            return 0.0

    def _guarded(self, request: Request, handler: Any) -> Response:
        key = request.headers.get("x-api-key", "")
        if not key:
            return error(401, "Missing API key (x-api-key header)")
        keystring, _, secret = key.partition(":")
        if keystring != self.options.keystring:
            return error(403, "Invalid API key")
        if not secret:
            return error(403, "Shared secret is required in x-api-key header")
        if secret != self.options.shared_secret:
            return error(403, "Invalid API key")
        wait = self._take()
        if wait > 0:
            daily = wait >= 3600
            message = (f"You have exceeded your quota of: {self._qpd} requests per 1 day(s)" if daily
                       else f"You have exceeded your quota of: {self._qps} requests per 1 second(s)")  # fmt: skip
            return error(
                429, message, {"retry-after": str(max(1, math.ceil(wait))), **self._limit_headers(0, None)}
            )
        response: Response = handler(request)
        response.headers.update(self._limit_headers(None, None))
        return response

    # Endpoints -----------------------------------------------------------------------------------

    def find_active(self, request: Request) -> Response:
        params = request.query_params
        try:
            limit = int(params.get("limit", "25"))
            offset = int(params.get("offset", "0"))
            low = float(params["min_price"]) if params.get("min_price") else None
            high = float(params["max_price"]) if params.get("max_price") else None
        except ValueError:
            return error(400, "Invalid parameter: limit, offset, min_price and max_price must be numbers")
        if not 1 <= limit <= MAX_LIMIT:
            return error(400, f"Expected int <= {MAX_LIMIT} and >= 1 for parameter limit, got {limit}")
        if offset < 0:
            return error(400, "Expected int >= 0 for parameter offset")
        sort_on = params.get("sort_on", "created")
        if sort_on not in ("created", "price", "updated", "score"):
            return error(400, "sort_on must be one of created, price, updated, score")
        sort_order = params.get("sort_order", "desc")
        if sort_order not in ("asc", "ascending", "desc", "descending"):
            return error(400, "sort_order must be one of asc, ascending, desc, descending")
        listings = self._listings.all()
        keywords = params.get("keywords")
        found = [
            listing
            for listing in listings
            if listing["state"] == "active"
            and demo.matches_keywords(listing["_text"], keywords)
            and (low is None or _amount(listing) >= low)
            and (high is None or _amount(listing) <= high)
        ]
        key = {"created": lambda x: x["created_timestamp"], "updated": lambda x: x["updated_timestamp"],
               "price": _amount, "score": lambda x: x["num_favorers"]}[sort_on]  # fmt: skip
        found.sort(key=key, reverse=sort_order.startswith("desc"))
        page = found[offset : offset + limit]
        return JSONResponse({"count": len(found), "results": [_public(x, images=False) for x in page]})

    def batch(self, request: Request) -> Response:
        raw = request.query_params.get("listing_ids", "")
        ids = [i for i in re.split(r"\s*,\s*", raw) if i]
        if not ids:
            return error(400, "listing_ids is required")
        if len(ids) > MAX_LIMIT:
            return error(400, f"listing_ids accepts at most {MAX_LIMIT} ids")
        includes = {
            i.strip().lower() for i in request.query_params.get("includes", "").split(",") if i.strip()
        }
        with self.sandbox.store.transaction() as tx:
            found = [tx.get(LISTINGS, i) for i in ids]
        results = [_public(x, images="images" in includes) for x in found if x is not None]
        return JSONResponse({"count": len(results), "results": results})

    def get_listing(self, listing_id: str, request: Request) -> Response:
        with self.sandbox.store.transaction() as tx:
            listing = tx.get(LISTINGS, listing_id)
        if listing is None:
            return error(404, f"Listing with ID {listing_id} not found")
        includes = {
            i.strip().lower() for i in request.query_params.get("includes", "").split(",") if i.strip()
        }
        return JSONResponse(_public(listing, images="images" in includes))

    # Control -------------------------------------------------------------------------------------

    def _limits(self, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with self._lock:
            if "qps" in body:
                self._qps = max(1, int(body["qps"]))
            if "qpd" in body:
                self._qpd = max(1, int(body["qpd"]))
            if body.get("reset_usage"):
                self._day_count = 0
                self._second_count = 0
            return {"qps": self._qps, "qpd": self._qpd, "used_today": self._day_count}

    def _usage(self) -> dict[str, Any]:
        with self._lock:
            return {"qps": self._qps, "qpd": self._qpd, "used_today": self._day_count}


def _amount(listing: dict[str, Any]) -> float:
    price = listing["price"]
    return float(price["amount"]) / float(price["divisor"])


def _public(listing: dict[str, Any], *, images: bool) -> dict[str, Any]:
    body = {k: v for k, v in listing.items() if not k.startswith("_")}
    if images:
        body["images"] = listing["_images"]
    return body


def render_listing(good: demo.Good, rng: Any, index: int) -> dict[str, Any]:
    """A listing with the field names of Etsy's OAS (api_samples/etsy/listing.json)."""
    listing_id = 1_200_000_000 + index * 7 + rng.randint(0, 6)
    shop_id = rng.choice((23456789, 31415926, 27182818, 16180339, 14142135))
    currency, rate = rng.choice(CURRENCIES)
    amount = int(round(good.price_usd * rate * 100))
    if good.category == "record":
        title = f"{good.model} Vinyl LP {good.brand} {good.year} {'Original Pressing' if 'first' in good.detail else 'Reissue'}"
    elif good.category == "denim":
        era = f"Vintage {good.short_decade}" if good.year < 2000 else "Japanese selvedge"
        title = f"{era} {good.brand} {good.model} {good.size or ''} {good.finish or ''}"
    else:
        title = f"{'Vintage ' + good.decade if good.year < 2000 else str(good.year)} {good.brand} {good.model} {good.finish or ''}"
    title = " ".join(title.split())[:140]
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
    created = int(good.created_at.timestamp())
    when_made = good.decade if good.year < 2006 else "2000_2006" if good.year < 2007 else "2020_2025"
    return {
        "listing_id": listing_id,
        "user_id": shop_id // 2,
        "shop_id": shop_id,
        "title": title,
        "description": f"{good.detail}\n\nShips worldwide from our studio. Please check measurements and photos.",
        "state": "sold_out" if good.sold else "active",
        "creation_timestamp": created,
        "created_timestamp": created,
        "original_creation_timestamp": created,
        "last_modified_timestamp": created + 3600,
        "updated_timestamp": created + 3600,
        "state_timestamp": created,
        "ending_timestamp": created + 120 * 86400,
        "quantity": 1,
        "url": f"https://www.etsy.com/listing/{listing_id}/{slug}",
        "num_favorers": rng.randint(0, 180),
        "is_taxable": True,
        "listing_type": "physical",
        "tags": good.tags[:13],
        "materials": good.materials,
        "who_made": "someone_else",
        "when_made": when_made,
        "is_supply": False,
        "taxonomy_id": TAXONOMY[good.category],
        "has_variations": False,
        "should_auto_renew": True,
        "language": "en-US",
        "price": {"amount": amount, "divisor": 100, "currency_code": currency},
        "_text": demo.search_text(title, demo.good_text(good)),
        "_images": [
            {
                "listing_id": listing_id,
                "listing_image_id": listing_id * 10 + n,
                "rank": n + 1,
                "url_75x75": f"https://i.etsystatic.com/{shop_id}/r/il/{listing_id}{n}/il_75x75.jpg",
                "url_170x135": f"https://i.etsystatic.com/{shop_id}/r/il/{listing_id}{n}/il_170x135.jpg",
                "url_570xN": f"https://i.etsystatic.com/{shop_id}/r/il/{listing_id}{n}/il_570xN.jpg",
                "url_fullxfull": f"https://i.etsystatic.com/{shop_id}/r/il/{listing_id}{n}/il_fullxfull.jpg",
            }
            for n in range(rng.randint(1, 4))
        ],
    }
