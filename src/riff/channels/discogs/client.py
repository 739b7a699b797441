"""Discogs' REST API, HTTP only: one method per endpoint, JSON in and out. No mapping, no DB.

Every attempt goes through ``PacedTransport``: requests are spaced to Discogs' moving-window rate limit
by reading its headers (``pacing.WindowPacer``), and a 429 is waited out inside the next attempt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from riff.channels.discogs import consts
from riff.channels.discogs.pacing import PacedTransport, WindowPacer
from riff.channels.errors import IGNORE, parse_error_body
from riff.channels.http import ChannelClient, ChannelHttpClient, HttpWiring

USER_AGENT_HINT = (
    "Discogs refused the request without a reason; it does this when the User-Agent is missing or "
    "generic: set user_agent in the Discogs account config to something that names your shop, "
    "e.g. 'MyShopSync/1.0 +https://shop.example'"
)


def discogs_error_message(response: httpx.Response) -> tuple[str, str | None]:
    """Discogs' ``{"message": ...}``; an empty 403 is how it blocks a missing or generic User-Agent."""
    message, field = parse_error_body(response)
    if response.status_code == 403 and not message:
        return USER_AGENT_HINT, "user_agent"
    if response.status_code == 403 and "user-agent" in message.lower():
        return f"{message} (set user_agent in the Discogs account config)", "user_agent"
    return message, field


class DiscogsClient(ChannelClient):
    platform = "Discogs"
    max_pages = consts.MAX_PAGES

    def __init__(
        self,
        token: str,
        wiring: HttpWiring,
        *,
        user_agent: str,
        timeout: httpx.Timeout = consts.TIMEOUT,
        window_seconds: float = consts.RATE_LIMIT_WINDOW_SECONDS,
        pacer: WindowPacer | None = None,
        max_attempts: int = consts.MAX_ATTEMPTS,
    ) -> None:
        self.pacer = pacer or WindowPacer(window_seconds)
        headers = {
            "Authorization": f"Discogs token={token}",
            "User-Agent": user_agent,
            "Accept": consts.MEDIA_TYPE,
        }
        self.http = ChannelHttpClient(
            consts.SLUG,
            wiring.base_url,
            headers=headers,
            timeout=timeout,
            transport=PacedTransport(wiring.transport or httpx.AsyncHTTPTransport(), self.pacer),
            rate_limiter=wiring.rate_limiter,
            error_mapping=consts.ERROR_MAPPING,
            counters=wiring.counters,
            max_attempts=max_attempts,
            message_parser=discogs_error_message,
        )

    # --- identity -------------------------------------------------------------------------------------

    async def identity(self) -> dict[str, Any]:
        """``GET /oauth/identity``: whose token this is."""
        return self.json_body(await self.http.request("GET", "/oauth/identity"))

    # --- inventory and listings -------------------------------------------------------------------------

    def inventory_pages(
        self,
        username: str,
        *,
        status: str = consts.FOR_SALE,
        sort: str = consts.INVENTORY_SORT,
        sort_order: str = "desc",
        per_page: int = consts.PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of ``GET /users/{username}/inventory``, following ``pagination.urls.next``."""
        params = {"status": status, "sort": sort, "sort_order": sort_order, "page": 1, "per_page": per_page}
        return self.linked_pages(
            f"/users/{username}/inventory", template="/users/{username}/inventory", params=params
        )

    def next_link(self, page: dict[str, Any]) -> Any:
        return ((page.get("pagination") or {}).get("urls") or {}).get("next")

    async def get_listing(self, listing_id: str) -> dict[str, Any]:
        response = await self.http.request(
            "GET", f"/marketplace/listings/{listing_id}", template="/marketplace/listings/{id}"
        )
        return self.json_body(response)

    async def create_listing(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /marketplace/listings`` -> 201 ``{listing_id, resource_url}``."""
        response = await self.http.request("POST", "/marketplace/listings", json=dict(payload))
        return self.json_body(response)

    async def edit_listing(self, listing_id: str, payload: Mapping[str, Any]) -> None:
        """``POST /marketplace/listings/{id}`` -> 204 (release_id, condition, price, status required)."""
        await self.http.request(
            "POST",
            f"/marketplace/listings/{listing_id}",
            template="/marketplace/listings/{id}",
            json=dict(payload),
        )

    async def delete_listing(self, listing_id: str) -> httpx.Response:
        """``DELETE /marketplace/listings/{id}`` -> 204. A 422 (a sold listing) comes back as a response so
        the caller can tell "already sold" apart."""
        return await self.http.request(
            "DELETE",
            f"/marketplace/listings/{listing_id}",
            template="/marketplace/listings/{id}",
            error_mapping=consts.ERROR_MAPPING | {422: IGNORE},
        )

    async def get_release(self, release_id: int) -> dict[str, Any]:
        response = await self.http.request("GET", f"/releases/{release_id}", template="/releases/{id}")
        return self.json_body(response)

    # --- orders ---------------------------------------------------------------------------------------

    def orders_pages(
        self,
        *,
        sort: str = "last_activity",
        sort_order: str = "desc",
        created_after: dt.datetime | None = None,
        status: str | None = None,
        per_page: int = consts.PAGE_SIZE,
    ) -> AsyncIterator[dict[str, Any]]:
        query: dict[str, Any] = {"sort": sort, "sort_order": sort_order, "page": 1, "per_page": per_page}
        if created_after is not None:
            query["created_after"] = created_after.isoformat(timespec="seconds")
        if status is not None:
            query["status"] = status
        return self.linked_pages("/marketplace/orders", template="/marketplace/orders", params=query)

    async def get_order(self, order_id: str) -> dict[str, Any]:
        response = await self.http.request(
            "GET", f"/marketplace/orders/{order_id}", template="/marketplace/orders/{id}"
        )
        return self.json_body(response)

    async def add_order_message(self, order_id: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /marketplace/orders/{id}/messages`` {message, status}: the way to mark an order Shipped
        and tell the buyer the tracking number (Discogs has no tracking field)."""
        response = await self.http.request(
            "POST",
            f"/marketplace/orders/{order_id}/messages",
            template="/marketplace/orders/{id}/messages",
            json=dict(payload),
        )
        return self.json_body(response)
