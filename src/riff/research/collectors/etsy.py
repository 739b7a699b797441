"""Etsy Open API v3 collector: ``GET /v3/application/listings/active`` (findAllListingsActive: keywords,
limit <= 100, offset, min_price, max_price, sort_on, sort_order), then one
``GET /v3/application/listings/batch?listing_ids=...&includes=Images`` per page for the photos (the active
search takes no ``includes``).

Auth is the application key alone: ``x-api-key: <keystring>:<shared_secret>`` (public listings need no
OAuth token, so nothing expires). Limits: 10 requests a second and 10,000 a rolling day per app, reported
in ``x-remaining-this-second`` / ``x-remaining-today``; 429 with ``retry-after``. Errors ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx

from riff.channels.http import ChannelHttpClient
from riff.research.collectors.base import (
    CollectedListing,
    Collector,
    MultiBucketLimiter,
    NotConfigured,
    client_channel,
    parse_timestamp,
)
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.consts import ETSY_BATCH_MAX, ETSY_MAX_PAGE, Platform

ACTIVE_PATH = "/v3/application/listings/active"
BATCH_PATH = "/v3/application/listings/batch"
IMAGE_SIZES = ("url_fullxfull", "url_570xN", "url_170x135", "url_75x75")


def etsy_price(price: Any) -> tuple[Decimal | None, str | None]:
    """Money ``{amount: 4500, divisor: 100, currency_code: "GBP"}`` -> (Decimal("45.00"), "GBP")."""
    if not isinstance(price, dict) or price.get("amount") is None:
        return None, None
    divisor = price.get("divisor") or 1
    try:
        value = (Decimal(int(price["amount"])) / Decimal(int(divisor))).quantize(Decimal("0.01"))
    except (ArithmeticError, TypeError, ValueError):
        return None, price.get("currency_code")
    return value, price.get("currency_code")


def image_urls(listing: dict[str, Any]) -> list[str]:
    images = sorted(
        (i for i in listing.get("images") or [] if isinstance(i, dict)), key=lambda i: i.get("rank") or 0
    )
    urls = []
    for image in images:
        url = next((image[size] for size in IMAGE_SIZES if image.get(size)), None)
        if url:
            urls.append(str(url))
    return urls


def parse_listing(listing: dict[str, Any], images: list[str]) -> CollectedListing:
    price, currency = etsy_price(listing.get("price"))
    when_made = listing.get("when_made")
    description = str(listing.get("description") or "")
    if when_made and isinstance(when_made, str) and when_made[:1].isdigit():
        # Etsy's own "when made" (e.g. 1970s) is a dating fact the rules read like the seller's words.
        description = f"{description}\nMade: {when_made}".strip()
    tags = [str(t) for t in listing.get("tags") or []] + [str(m) for m in listing.get("materials") or []]
    return CollectedListing(
        platform=Platform.ETSY,
        external_id=str(listing["listing_id"]),
        title=str(listing.get("title") or ""),
        url=listing.get("url"),
        description=description,
        price=price,
        currency=currency,
        image_urls=images,
        seller=str(listing["shop_id"]) if listing.get("shop_id") is not None else None,
        listed_at=parse_timestamp(
            listing.get("original_creation_timestamp") or listing.get("created_timestamp")
        ),
        sold=True
        if listing.get("state") == "sold_out"
        else (False if listing.get("state") == "active" else None),
        favorites=float(listing.get("num_favorers") or 0),
        tags=tags,
        raw=listing,
        default_currency=currency or "USD",
    )


class EtsyCollector(Collector):
    platform = Platform.ETSY

    def __init__(
        self,
        research: ResearchSettings,
        *,
        rate_limiter: MultiBucketLimiter | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not research.etsy_keystring or research.etsy_shared_secret is None:
            raise NotConfigured("Etsy needs RIFF_RESEARCH_ETSY_KEYSTRING and _SHARED_SECRET",
                                channel=client_channel(Platform.ETSY))  # fmt: skip
        http = ChannelHttpClient(
            client_channel(Platform.ETSY),
            research.etsy_base_url,
            headers={
                "Accept": "application/json",
                "x-api-key": f"{research.etsy_keystring}:{research.etsy_shared_secret.get_secret_value()}",
            },
            transport=transport,
            rate_limiter=rate_limiter,
        )
        super().__init__(research, http)
        self.limiter = rate_limiter

    def observe(self, response: httpx.Response) -> None:
        # This second's allowance is used up (another process shares the key?): skip one slot. A 429 with
        # retry-after still does the real waiting; this only avoids provoking it.
        if response.headers.get("x-remaining-this-second") == "0" and self.limiter is not None:
            try:
                per_second = max(1.0, float(response.headers.get("x-limit-per-second") or 10))
            except ValueError:
                per_second = 10.0
            self.limiter.penalize_bucket("research.etsy.second", 1.0 / per_second)

    async def _images(self, listing_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for start in range(0, len(listing_ids), ETSY_BATCH_MAX):
            chunk = listing_ids[start : start + ETSY_BATCH_MAX]
            response = await self.get(
                BATCH_PATH, template=BATCH_PATH, params={"listing_ids": ",".join(chunk), "includes": "Images"}
            )
            for listing in response.json().get("results") or []:
                if isinstance(listing, dict) and listing.get("listing_id") is not None:
                    found[str(listing["listing_id"])] = image_urls(listing)
        return found

    async def pages(self, spec: SearchSpec) -> AsyncIterator[list[CollectedListing]]:
        limit = self.page_limit(ETSY_MAX_PAGE, spec.max_items)
        offset = 0
        fetched = 0
        while True:
            params: dict[str, Any] = {
                "keywords": spec.q,
                "limit": limit,
                "offset": offset,
                "sort_on": "created",
                "sort_order": "desc",
            }
            if spec.min_price is not None:
                params["min_price"] = str(spec.min_price)
            if spec.max_price is not None:
                params["max_price"] = str(spec.max_price)
            response = await self.get(ACTIVE_PATH, template=ACTIVE_PATH, params=params)
            body = response.json()
            results = [r for r in body.get("results") or [] if isinstance(r, dict) and r.get("listing_id")]
            results = results[: spec.max_items - fetched]
            if results:
                images = await self._images([str(r["listing_id"]) for r in results])
                page = [parse_listing(r, images.get(str(r["listing_id"]), [])) for r in results]
                fetched += len(page)
                yield page
            offset += limit
            count = int(body.get("count") or 0)
            if not results or offset >= count or fetched >= spec.max_items:
                return
