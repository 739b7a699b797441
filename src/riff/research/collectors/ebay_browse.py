"""eBay Browse API collector: an application token from the client-credentials grant (cached until shortly
before it expires), then ``GET /buy/browse/v1/item_summary/search`` paged by ``limit``/``offset``.

Facts (shared/reference/platform_apis.md 2b): token ``POST /identity/v1/oauth2/token`` with HTTP Basic
``client_id:client_secret`` and form ``grant_type=client_credentials&scope=...`` -> ``{access_token,
expires_in: 7200}``; search params ``q``, ``category_ids``, ``filter`` (``price:[10..50],priceCurrency:USD,
conditionIds:{1000|3000},buyingOptions:{FIXED_PRICE}``), ``limit`` 1-200, ``offset`` up to 9,999; errors
``{"errors": [{errorId, message, longMessage}]}``; 429 errorId 2001 when the daily quota is used up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from riff.channels.http import ChannelHttpClient
from riff.research.collectors.base import (
    CollectedListing,
    MultiBucketLimiter,
    NotConfigured,
    TokenCollector,
    client_channel,
    parse_decimal,
    parse_timestamp,
)
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.consts import EBAY_MAX_OFFSET, EBAY_MAX_PAGE, Platform

TOKEN_PATH = "/identity/v1/oauth2/token"
SEARCH_PATH = "/buy/browse/v1/item_summary/search"
MARKETPLACE_CURRENCY = {"EBAY_US": "USD", "EBAY_GB": "GBP", "EBAY_DE": "EUR", "EBAY_FR": "EUR", "EBAY_IT": "EUR",
                        "EBAY_ES": "EUR", "EBAY_CA": "CAD", "EBAY_AU": "AUD"}  # fmt: skip


def parse_ebay_error(response: httpx.Response) -> tuple[str, str | None]:
    """``{"errors": [{"errorId", "message", "longMessage", "parameters"}]}`` or the OAuth
    ``{"error", "error_description"}`` -> (message, field)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300], None
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0] if isinstance(body["errors"][0], dict) else {}
        message = first.get("longMessage") or first.get("message") or "eBay error"
        parameters = first.get("parameters") or []
        field = parameters[0].get("name") if parameters and isinstance(parameters[0], dict) else None
        return f"{message} (errorId {first.get('errorId')})", field
    if isinstance(body, dict) and body.get("error"):
        return f"{body.get('error')}: {body.get('error_description', '')}".strip(": "), None
    return response.text.strip()[:300], None


def build_filter(spec: SearchSpec, currency: str) -> str | None:
    parts: list[str] = []
    if spec.min_price is not None or spec.max_price is not None:
        low = "" if spec.min_price is None else f"{spec.min_price}"
        high = "" if spec.max_price is None else f"{spec.max_price}"
        parts.append(f"price:[{low}..{high}]")
        parts.append(f"priceCurrency:{currency}")
    if spec.filter:
        parts.append(spec.filter)
    return ",".join(parts) or None


def parse_item(item: dict[str, Any], currency: str) -> CollectedListing:
    price = item.get("price") or {}
    images = []
    if isinstance(item.get("image"), dict) and item["image"].get("imageUrl"):
        images.append(item["image"]["imageUrl"])
    for extra in item.get("additionalImages") or item.get("thumbnailImages") or []:
        url = extra.get("imageUrl") if isinstance(extra, dict) else None
        if url and url not in images:
            images.append(url)
    seller = item.get("seller") or {}
    return CollectedListing(
        platform=Platform.EBAY,
        external_id=str(item["itemId"]),
        title=str(item.get("title") or ""),
        url=item.get("itemWebUrl"),
        description=str(item.get("shortDescription") or ""),
        price=parse_decimal(price.get("value")),
        currency=(price.get("currency") or currency or None),
        condition_text=item.get("condition"),
        image_urls=images,
        seller=seller.get("username"),
        listed_at=parse_timestamp(item.get("itemCreationDate") or item.get("itemOriginDate")),
        sold=None,  # Browse shows live listings only
        raw=item,
        default_currency=currency,
    )


class EbayBrowseCollector(TokenCollector):
    platform = Platform.EBAY
    display_name = "eBay"
    token_path = TOKEN_PATH
    default_token_seconds = 7200.0

    def __init__(
        self,
        research: ResearchSettings,
        *,
        rate_limiter: MultiBucketLimiter | None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not research.ebay_client_id or research.ebay_client_secret is None:
            raise NotConfigured("eBay Browse needs RIFF_RESEARCH_EBAY_CLIENT_ID and _CLIENT_SECRET",
                                channel=client_channel(Platform.EBAY))  # fmt: skip
        self.currency = MARKETPLACE_CURRENCY.get(research.ebay_marketplace_id, "USD")
        http = ChannelHttpClient(
            client_channel(Platform.EBAY),
            research.ebay_base_url,
            headers={"Accept": "application/json", "X-EBAY-C-MARKETPLACE-ID": research.ebay_marketplace_id},
            transport=transport,
            rate_limiter=rate_limiter,
            message_parser=parse_ebay_error,
        )
        super().__init__(
            research,
            http,
            token_url=research.ebay_base_url,
            client_id=research.ebay_client_id,
            client_secret=research.ebay_client_secret,
            transport=transport,
        )

    def token_form(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "scope": self.research.ebay_scope}

    async def pages(self, spec: SearchSpec) -> AsyncIterator[list[CollectedListing]]:
        limit = self.page_limit(EBAY_MAX_PAGE, spec.max_items)
        offset = 0
        fetched = 0
        item_filter = build_filter(spec, self.currency)
        while True:
            params: dict[str, Any] = {"q": spec.q, "limit": limit, "offset": offset}
            if spec.category_ids:
                params["category_ids"] = spec.category_ids
            if item_filter:
                params["filter"] = item_filter
            response = await self.get(SEARCH_PATH, template=SEARCH_PATH, params=params)
            body = response.json()
            items = [i for i in body.get("itemSummaries") or [] if isinstance(i, dict) and i.get("itemId")]
            remaining = spec.max_items - fetched
            page = [parse_item(item, self.currency) for item in items[:remaining]]
            fetched += len(page)
            if page:
                yield page
            offset += limit
            total = int(body.get("total") or 0)
            if not items or not body.get("next") or offset >= total or fetched >= spec.max_items:
                return
            if offset > EBAY_MAX_OFFSET:
                return
