"""Reverb's REST API, HTTP only: one method per endpoint, JSON in and out. No mapping, no DB."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from riff.channels.errors import IGNORE, ChannelError
from riff.channels.http import ChannelClient, ChannelHttpClient, HttpWiring
from riff.channels.reverb import consts


class ReverbClient(ChannelClient):
    platform = "Reverb"
    max_pages = consts.MAX_PAGES

    def __init__(
        self,
        token: str,
        wiring: HttpWiring,
        *,
        timeout: httpx.Timeout = consts.TIMEOUT,
        max_attempts: int = 3,
        max_inline_wait_seconds: float = 5.0,
        display_currency: str | None = None,
    ) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept-Version": consts.API_VERSION,
            "Accept": consts.MEDIA_TYPE,
            "Content-Type": consts.MEDIA_TYPE,
        }
        if display_currency:
            headers["X-Display-Currency"] = display_currency
        self.http = ChannelHttpClient(
            consts.SLUG,
            wiring.base_url,
            headers=headers,
            timeout=timeout,
            transport=wiring.transport,
            rate_limiter=wiring.rate_limiter,
            error_mapping=consts.ERROR_MAPPING,
            counters=wiring.counters,
            max_attempts=max_attempts,
            max_inline_wait_seconds=max_inline_wait_seconds,
        )

    # --- listings -----------------------------------------------------------------------------------

    async def create_listing(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /listings``: a draft unless ``publish: true``; publishing completes asynchronously."""
        response = await self.http.request("POST", "/listings", json=dict(payload), cost=1.0)
        return self.json_body(response)

    async def get_listing(self, listing_id: str) -> dict[str, Any]:
        response = await self.http.request("GET", f"/listings/{listing_id}", template="/listings/{id}")
        return self.json_body(response)

    async def update_listing(self, listing_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``PUT /listings/{id}`` with only the fields that changed."""
        response = await self.http.request(
            "PUT", f"/listings/{listing_id}", template="/listings/{id}", json=dict(payload)
        )
        return self.json_body(response)

    async def end_listing(self, listing_id: str, reason: str) -> httpx.Response:
        """``PUT /my/listings/{id}/state/end``. A plain PUT of state=ended is silently ignored by Reverb.

        A 422 comes back as a response (not an error) so the caller can tell "already ended" apart.
        """
        return await self.http.request(
            "PUT",
            f"/my/listings/{listing_id}/state/end",
            template="/my/listings/{id}/state/end",
            json={"reason": reason},
            error_mapping=consts.ERROR_MAPPING | {422: IGNORE},
        )

    async def find_listings_by_sku(self, sku: str) -> list[dict[str, Any]]:
        """``GET /my/listings?sku=&state=all`` - Reverb's recommended look-up before create."""
        response = await self.http.request("GET", "/my/listings", params={"sku": sku, "state": "all"})
        listings = self.json_body(response).get("listings") or []
        return [item for item in listings if isinstance(item, dict)]

    def my_listings_pages(
        self, *, state: str = "all", per_page: int = consts.PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of ``GET /my/listings``, following ``_links.next`` until there is none."""
        params = {"state": state, "page": 1, "per_page": per_page}
        return self.linked_pages("/my/listings", template="/my/listings", params=params)

    def next_link(self, page: dict[str, Any]) -> Any:
        link = (page.get("_links") or {}).get("next")
        return link.get("href") if isinstance(link, dict) else None

    # --- orders -------------------------------------------------------------------------------------

    async def selling_orders_pages(
        self, *, updated_start: dt.datetime, per_page: int = consts.PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of ``GET /my/orders/selling/all?updated_start_date=...``."""
        params: dict[str, Any] = {
            "updated_start_date": updated_start.isoformat(timespec="seconds"),
            "page": 1,
            "per_page": per_page,
        }
        path: str | None = "/my/orders/selling/all"
        query: dict[str, Any] | None = params
        for page_number in range(1, consts.MAX_PAGES + 1):
            if path is None:
                return
            response = await self.http.request("GET", path, template="/my/orders/selling/all", params=query)
            page = self.json_body(response)
            yield page
            link = self.next_path(page)
            if link is not None:
                path, query = link, None
            elif int(page.get("total_pages") or 1) > int(page.get("current_page") or page_number):
                path, query = "/my/orders/selling/all", params | {"page": page_number + 1}
            else:
                path = None
        raise ChannelError("Reverb pagination did not end", channel=consts.SLUG)

    async def get_order(self, order_number: str) -> dict[str, Any]:
        response = await self.http.request(
            "GET", f"/my/orders/selling/{order_number}", template="/my/orders/selling/{id}"
        )
        return self.json_body(response)

    async def ship_order(self, order_number: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.http.request(
            "POST",
            f"/my/orders/selling/{order_number}/ship",
            template="/my/orders/selling/{id}/ship",
            json=dict(payload),
        )
        return self.json_body(response)
