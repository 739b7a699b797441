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

from riff.channels.errors import DEFAULT_ERROR_MAPPING, AuthExpired
from riff.channels.http import ChannelHttpClient
from riff.core.logging import get_logger
from riff.research.collectors.base import (
    CollectedListing,
    Collector,
    MultiBucketLimiter,
    NotConfigured,
    basic_authorization,
    client_channel,
    parse_decimal,
    parse_timestamp,
)
from riff.research.config import ResearchSettings, SearchSpec
from riff.research.consts import EBAY_MAX_OFFSET, EBAY_MAX_PAGE, Platform

log = get_logger(__name__)

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


class EbayBrowseCollector(Collector):
    platform = Platform.EBAY
    uses_tokens = True

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
            error_mapping=DEFAULT_ERROR_MAPPING,
            message_parser=parse_ebay_error,
        )
        super().__init__(research, http)
        # The token endpoint has its own quota: it does not spend Browse calls.
        self.oauth = ChannelHttpClient(
            client_channel(Platform.EBAY) + ".oauth",
            research.ebay_base_url,
            transport=transport,
            message_parser=parse_ebay_error,
        )
        self._key = (research.ebay_base_url, research.ebay_client_id)

    async def aclose(self) -> None:
        await super().aclose()
        await self.oauth.aclose()

    async def token(self, *, force: bool = False) -> str:
        return await self.cached_token(self._key, force=force, issue=self._issue_token)

    async def _issue_token(self) -> tuple[str, float]:
        assert self.research.ebay_client_id and self.research.ebay_client_secret is not None
        basic = basic_authorization(
            self.research.ebay_client_id, self.research.ebay_client_secret.get_secret_value()
        )
        response = await self.oauth.request(
            "POST",
            TOKEN_PATH,
            data={"grant_type": "client_credentials", "scope": self.research.ebay_scope},
            headers={"Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"},
        )
        body = response.json()
        token = body.get("access_token")
        if not token:
            raise AuthExpired("eBay token response has no access_token", channel=self.oauth.channel)
        expires_in = float(body.get("expires_in") or 7200)
        log.info("research.token.issued", platform=self.platform, expires_in=body.get("expires_in"))
        return str(token), expires_in

    async def auth_headers(self, *, force: bool) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(force=force)}"}

    async def pages(self, spec: SearchSpec) -> AsyncIterator[list[CollectedListing]]:
        limit = max(
            1, min(EBAY_MAX_PAGE, self.research.page_size.get(self.platform, EBAY_MAX_PAGE), spec.max_items)
        )
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
