"""The MyDHL API, HTTP only: one method per endpoint, JSON in and out. No mapping, no database.

Every request carries HTTP Basic credentials (API key : secret) and ``x-version``. ``POST /shipments``
carries a ``Message-Reference`` the caller keeps for the shipment: a retried request (inline, or by a job
after a crash) sends the same reference, so the DHL sandbox answers with the shipment it already created
instead of buying a second label; RIFF's shipments row stores it before the first attempt.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

import httpx

from riff.carriers.dhl import consts
from riff.carriers.dhl.mapping import problem_message
from riff.channels.errors import ChannelError, Rejected
from riff.channels.http import ChannelHttpClient, RateLimiter, RequestCounters

_WAYBILL = re.compile(r"[A-Za-z0-9]{4,39}")


class DhlClient:
    def __init__(
        self,
        api_key: str,
        api_secret: str,
        *,
        base_url: str = consts.TEST_BASE_URL,
        timeout: httpx.Timeout = consts.TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limiter: RateLimiter | None = None,
        counters: RequestCounters | None = None,
        max_attempts: int = 3,
        max_inline_wait_seconds: float = 5.0,
    ) -> None:
        credentials = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode("ascii")
        self.http = ChannelHttpClient(
            consts.RATE_LIMIT_BUCKET,
            base_url,
            headers={
                "Authorization": f"Basic {credentials}",
                "x-version": consts.API_VERSION,
                "Accept": "application/json",
                "Plugin-Name": "RIFF",
            },
            timeout=timeout,
            transport=transport,
            rate_limiter=rate_limiter,
            error_mapping=consts.ERROR_MAPPING,
            counters=counters,
            max_attempts=max_attempts,
            max_inline_wait_seconds=max_inline_wait_seconds,
            message_parser=problem_message,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> DhlClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    @staticmethod
    def _json(response: httpx.Response, endpoint: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ChannelError(
                f"DHL answered {endpoint} with a body that is not JSON", channel="dhl"
            ) from exc
        if not isinstance(body, dict):
            raise ChannelError(f"DHL answered {endpoint} with an unexpected body", channel="dhl")
        return body

    async def rates(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /rates``: products and prices for the parcels in ``body``."""
        response = await self.http.request("POST", "/rates", json=dict(body))
        return self._json(response, "POST /rates")

    async def rates_simple(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``GET /rates``: the single-parcel form."""
        response = await self.http.request("GET", "/rates", params=dict(params))
        return self._json(response, "GET /rates")

    async def create_shipment(self, body: Mapping[str, Any], *, message_reference: str) -> dict[str, Any]:
        """``POST /shipments``: buys the label. Safe to repeat with the same ``message_reference``."""
        response = await self.http.request(
            "POST",
            "/shipments",
            json=dict(body),
            headers={"Message-Reference": message_reference},
        )
        return self._json(response, "POST /shipments")

    async def tracking(self, tracking_number: str) -> dict[str, Any]:
        """``GET /shipments/{n}/tracking`` with every checkpoint."""
        if not _WAYBILL.fullmatch(tracking_number):
            raise Rejected(
                f"{tracking_number!r} is not a DHL waybill number", channel="dhl", field="tracking_number"
            )
        response = await self.http.request(
            "GET",
            f"/shipments/{tracking_number}/tracking",
            template="/shipments/{shipmentTrackingNumber}/tracking",
            params={"trackingView": "all-checkpoints", "levelOfDetail": "shipment"},
        )
        return self._json(response, "GET /shipments/{n}/tracking")
