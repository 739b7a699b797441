"""eBay's Trading API, HTTP only: one method per call, XML in and out. No mapping, no DB.

Every call is ``POST /ws/api.dll`` with ``X-EBAY-API-CALL-NAME``, ``X-EBAY-API-SITEID``,
``X-EBAY-API-COMPATIBILITY-LEVEL`` and the OAuth user token in ``X-EBAY-API-IAF-TOKEN``. A 200 with
``Ack=Failure`` is classified by ``trading.ERROR_CODES``; an auth error is answered by one token refresh and
one retry of the call.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import AsyncIterator, Iterable

import httpx

from riff.channels.ebay import consts, trading
from riff.channels.ebay.oauth import EbayOAuth
from riff.channels.ebay.trading import Element, request_root, sub
from riff.channels.errors import AuthExpired, ChannelError
from riff.channels.http import ChannelClient, ChannelHttpClient, HttpWiring


class EbayClient(ChannelClient):
    platform = "eBay"

    def __init__(
        self,
        oauth: EbayOAuth,
        wiring: HttpWiring,
        *,
        site_id: int = consts.SITE_ID_UK,
        compatibility_level: str = consts.COMPATIBILITY_LEVEL,
        timeout: httpx.Timeout = consts.TIMEOUT,
        max_attempts: int = 3,
        max_inline_wait_seconds: float = 5.0,
    ) -> None:
        self.oauth = oauth
        # Calls eBay answered, per call name: what counts against the daily quota (see the budget endpoint).
        self.calls: collections.Counter[str] = collections.Counter()
        self.http = ChannelHttpClient(
            consts.SLUG,
            wiring.base_url,
            headers={
                "Content-Type": consts.CONTENT_TYPE,
                "X-EBAY-API-SITEID": str(site_id),
                "X-EBAY-API-COMPATIBILITY-LEVEL": compatibility_level,
            },
            timeout=timeout,
            transport=wiring.transport,
            rate_limiter=wiring.rate_limiter,
            counters=wiring.counters,
            max_attempts=max_attempts,
            max_inline_wait_seconds=max_inline_wait_seconds,
            response_check=self._check,
        )

    async def aclose(self) -> None:
        await super().aclose()
        await self.oauth.aclose()

    def _check(self, response: httpx.Response) -> ChannelError | None:
        self.calls[response.request.headers.get("X-EBAY-API-CALL-NAME", "")] += 1
        return trading.response_check(response)

    async def call(self, call_name: str, root: Element) -> trading.Response:
        """One Trading call. Failure raises the classified ``ChannelError``; Success, Warning and
        PartialFailure come back (the caller reads warnings and per-item results)."""
        body = trading.serialize(root)
        token = await self.oauth.access_token()
        try:
            response = await self._post(call_name, body, token)
        except AuthExpired:
            if not self.oauth.can_refresh:
                raise
            # The token expired early or was revoked: refresh once and try again; a second refusal stands.
            token = await self.oauth.refresh(stale=token)
            response = await self._post(call_name, body, token)
        try:
            return trading.read_response(response.content)
        except ValueError as exc:  # already checked by response_check; a belt for the braces
            raise ChannelError(
                f"eBay {call_name} answered with a body that is not XML", channel=consts.SLUG
            ) from exc

    async def _post(self, call_name: str, body: bytes, token: str) -> httpx.Response:
        return await self.http.request(
            "POST",
            consts.TRADING_PATH,
            template=f"{consts.TRADING_PATH}#{call_name}",
            content=body,
            headers={"X-EBAY-API-CALL-NAME": call_name, "X-EBAY-API-IAF-TOKEN": token},
        )

    # --- listings -------------------------------------------------------------------------------------

    async def add_fixed_price_item(self, request: Element) -> trading.Response:
        return await self.call("AddFixedPriceItem", request)

    async def revise_fixed_price_item(self, request: Element) -> trading.Response:
        return await self.call("ReviseFixedPriceItem", request)

    async def revise_inventory_status(self, request: Element) -> trading.Response:
        """1-4 ``InventoryStatus`` containers per call (the caller batches)."""
        return await self.call("ReviseInventoryStatus", request)

    async def end_fixed_price_item(self, request: Element) -> trading.Response:
        return await self.call("EndFixedPriceItem", request)

    async def get_item(self, *, item_id: str | None = None, sku: str | None = None) -> Element:
        """``GetItem`` by ItemID, or by SKU for listings tracked by SKU (``InventoryTrackingMethod``)."""
        root = request_root("GetItem")
        if item_id:
            sub(root, "ItemID", item_id)
        elif sku:
            sub(root, "SKU", sku)
        sub(root, "DetailLevel", "ReturnAll")
        sub(root, "IncludeItemSpecifics", "true")
        response = await self.call("GetItem", root)
        item = response.find("Item")
        if item is None:
            raise ChannelError("eBay GetItem answered without an Item", channel=consts.SLUG)
        return item

    async def my_ebay_selling_pages(
        self, list_name: str, *, page_size: int, duration_days: int | None = None
    ) -> AsyncIterator[tuple[trading.Response, Element | None]]:
        """Every page of one ``GetMyeBaySelling`` list (ActiveList, SoldList or UnsoldList)."""
        for page in range(1, consts.MAX_PAGES + 1):
            root = request_root("GetMyeBaySelling")
            container = sub(root, list_name)
            sub(container, "Include", "true")
            if duration_days is not None:
                sub(container, "DurationInDays", duration_days)
            pagination = sub(container, "Pagination")
            sub(pagination, "EntriesPerPage", page_size)
            sub(pagination, "PageNumber", page)
            sub(root, "DetailLevel", "ReturnAll")
            response = await self.call("GetMyeBaySelling", root)
            listing = response.find(list_name)
            yield response, listing
            pages = int(trading.text(listing, "PaginationResult/TotalNumberOfPages") or 0)
            if listing is None or page >= pages:
                return
        raise ChannelError("eBay GetMyeBaySelling pagination did not end", channel=consts.SLUG)

    # --- orders ---------------------------------------------------------------------------------------

    async def orders_pages(
        self,
        *,
        mod_time_from: dt.datetime | None = None,
        mod_time_to: dt.datetime | None = None,
        order_ids: Iterable[str] = (),
        page_size: int = consts.ORDERS_PAGE_SIZE,
    ) -> AsyncIterator[trading.Response]:
        """Every page of ``GetOrders`` (ModTimeFrom/ModTimeTo, or OrderIDArray), while HasMoreOrders."""
        ids = list(order_ids)
        for page in range(1, consts.MAX_PAGES + 1):
            root = request_root("GetOrders")
            if ids:
                id_array = sub(root, "OrderIDArray")
                for order_id in ids:
                    sub(id_array, "OrderID", order_id)
            if mod_time_from is not None:
                sub(root, "ModTimeFrom", trading.iso(mod_time_from))
            if mod_time_to is not None:
                sub(root, "ModTimeTo", trading.iso(mod_time_to))
            sub(root, "OrderRole", "Seller")
            sub(root, "OrderStatus", "All")
            pagination = sub(root, "Pagination")
            sub(pagination, "EntriesPerPage", page_size)
            sub(pagination, "PageNumber", page)
            sub(root, "DetailLevel", "ReturnAll")
            response = await self.call("GetOrders", root)
            yield response
            if response.text("HasMoreOrders") != "true":
                return
        raise ChannelError("eBay GetOrders pagination did not end", channel=consts.SLUG)

    async def complete_sale(self, request: Element) -> trading.Response:
        return await self.call("CompleteSale", request)

    # --- account --------------------------------------------------------------------------------------

    async def get_api_access_rules(self) -> trading.Response:
        """Daily/hourly usage and limits per call (``ApiAccessRule``; the first is ApplicationAggregate)."""
        return await self.call("GetApiAccessRules", request_root("GetApiAccessRules"))

    async def set_notification_preferences(self, url: str, events: Iterable[str]) -> trading.Response:
        """Subscribe the account to Platform Notifications delivered to ``url``."""
        root = request_root("SetNotificationPreferences")
        application = sub(root, "ApplicationDeliveryPreferences")
        sub(application, "ApplicationEnable", "Enable")
        sub(application, "ApplicationURL", url)
        sub(application, "DeviceType", "Platform")
        user = sub(root, "UserDeliveryPreferenceArray")
        for event in events:
            enable = sub(user, "NotificationEnable")
            sub(enable, "EventType", event)
            sub(enable, "EventEnable", "Enable")
        return await self.call("SetNotificationPreferences", root)
