"""Shopify's Admin GraphQL API, HTTP only: one method per operation, plain dicts in and out.

Every call is ``POST /admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token``. Three things make
GraphQL different from the REST channels, and all three are handled here so the adapter never sees them:

- **Errors inside a 200.** Top-level ``errors`` are classified by ``extensions.code`` (``THROTTLED`` ->
  ``RateLimited``, ``ACCESS_DENIED`` -> ``AuthExpired``, ...) in the HTTP layer's ``response_check``, so they get
  the same retries, logs and counters as a failing status. ``userErrors`` of a mutation come back to the
  caller (``mutate`` raises ``Rejected`` with Shopify's words and the field path).
- **Cost, not calls.** A throttled request waits ``(requestedQueryCost - currentlyAvailable) / restoreRate``
  seconds. Every response's ``extensions.cost`` is tracked, and a request that would not fit in the bucket as
  last seen is delayed before it is sent (or deferred to the job engine when the wait is long).
- **One endpoint.** Logs and counters name the operation: ``POST graphql:ProductSet``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from riff.channels.errors import (
    AuthExpired,
    ChannelError,
    RateLimited,
    Rejected,
    Transient,
)
from riff.channels.http import ChannelClient, ChannelHttpClient, HttpWiring, RateLimiter
from riff.channels.shopify import consts, operations
from riff.channels.shopify.operations import Operation
from riff.core.logging import get_logger

log = get_logger(__name__)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class CostTracker:
    """What the last response said about the bucket. Pure: every method takes ``now`` (monotonic seconds)."""

    maximum: float | None = None
    available: float | None = None
    restore_rate: float | None = None
    observed_at: float = 0.0

    def observe(self, throttle_status: Mapping[str, Any] | None, now: float) -> None:
        if not isinstance(throttle_status, Mapping):
            return
        try:
            self.maximum = float(throttle_status["maximumAvailable"])
            self.available = float(throttle_status["currentlyAvailable"])
            self.restore_rate = float(throttle_status["restoreRate"])
        except (KeyError, TypeError, ValueError):
            return
        self.observed_at = now

    def projected(self, now: float) -> float | None:
        if self.available is None or self.restore_rate is None or self.maximum is None:
            return None
        restored = self.available + max(0.0, now - self.observed_at) * self.restore_rate
        return min(self.maximum, restored)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until ``cost`` points are available, as far as we know (0 when unknown)."""
        available = self.projected(now)
        if available is None or cost <= available or not self.restore_rate:
            return 0.0
        return (cost - available) / self.restore_rate


def throttle_wait(cost: Mapping[str, Any] | None) -> float | None:
    """``(requestedQueryCost - currentlyAvailable) / restoreRate`` from a response's ``extensions.cost``."""
    if not isinstance(cost, Mapping):
        return None
    status = cost.get("throttleStatus")
    try:
        requested = float(cost["requestedQueryCost"])
        available = float(status["currentlyAvailable"])  # type: ignore[index]
        restore_rate = float(status["restoreRate"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None
    if restore_rate <= 0:
        return None
    return max(0.0, (requested - available) / restore_rate)


def parse_error_body(response: httpx.Response) -> tuple[str, str | None]:
    """Shopify's non-GraphQL errors: ``{"errors": "..."}`` or ``{"errors": {"query": "..."}}``."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] if text else ""), None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        return errors, None
    if isinstance(errors, dict):
        field = next(iter(errors), None)
        return "; ".join(f"{key}: {value}" for key, value in errors.items()), field
    if isinstance(errors, list):
        return "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors), None
    return "", None


def _error_codes(errors: list[Any]) -> list[str]:
    return [str((e.get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, dict)]


def _messages(errors: list[Any]) -> str:
    return "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)[:1000]


def user_errors_rejected(operation: str, errors: Sequence[Mapping[str, Any]]) -> Rejected:
    """``userErrors`` -> one ``Rejected``: Shopify's messages verbatim, each with its field path."""
    parts = []
    first_field: str | None = None
    for error in errors:
        path = ".".join(str(p) for p in (error.get("field") or []))
        first_field = first_field or (path or None)
        code = f" [{error['code']}]" if error.get("code") else ""
        parts.append(f"{path}: {error.get('message')}{code}" if path else f"{error.get('message')}{code}")
    return Rejected(
        "; ".join(parts) or f"Shopify refused {operation}",
        channel=consts.SLUG,
        status_code=200,
        field=first_field,
        body=list(errors),
        endpoint=f"graphql:{operation}",
    )


class ShopifyClient(ChannelClient):
    platform = "Shopify"

    def __init__(
        self,
        token: str,
        wiring: HttpWiring,
        *,
        api_version: str = consts.DEFAULT_API_VERSION,
        timeout: httpx.Timeout = consts.TIMEOUT,
        max_attempts: int = 3,
        max_inline_wait_seconds: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api_version = api_version
        self.path = consts.GRAPHQL_PATH.format(version=api_version)
        self.tracker = CostTracker()
        self.monotonic = monotonic
        self.max_inline_wait_seconds = max_inline_wait_seconds
        self._estimates: dict[str, float] = {}
        self.http = ChannelHttpClient(
            consts.SLUG,
            wiring.base_url,
            headers={
                consts.ACCESS_TOKEN_HEADER: token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            timeout=timeout,
            transport=wiring.transport,
            rate_limiter=_CostLimiter(wiring.rate_limiter) if wiring.rate_limiter is not None else None,
            error_mapping=consts.ERROR_MAPPING,
            counters=wiring.counters,
            max_attempts=max_attempts,
            max_inline_wait_seconds=max_inline_wait_seconds,
            message_parser=parse_error_body,
            response_check=self._check,
        )

    # --- transport ----------------------------------------------------------------------------------

    def estimate(self, operation: Operation) -> float:
        return self._estimates.get(operation.name, float(operation.estimated_cost))

    def _check(self, response: httpx.Response) -> ChannelError | None:
        """Every 2xx answer: track the cost, then turn top-level GraphQL errors into channel errors."""
        try:
            body = response.json()
        except ValueError:
            return Transient("Shopify answered with a body that is not JSON", channel=consts.SLUG)
        if not isinstance(body, dict):
            return Transient("Shopify answered with an unexpected body", channel=consts.SLUG)
        cost = (body.get("extensions") or {}).get("cost")
        if isinstance(cost, dict):
            self.tracker.observe(cost.get("throttleStatus"), self.monotonic())
            name = _operation_name(response)
            if name and isinstance(cost.get("requestedQueryCost"), int | float):
                self._estimates[name] = float(cost["requestedQueryCost"])
        errors = body.get("errors")
        if not errors:
            return None
        errors = errors if isinstance(errors, list) else [errors]
        codes = _error_codes(errors)
        endpoint = f"graphql:{_operation_name(response) or '?'}"
        common: dict[str, Any] = {
            "channel": consts.SLUG,
            "status_code": 200,
            "body": body,
            "endpoint": endpoint,
        }
        if consts.THROTTLED in codes:
            wait = throttle_wait(cost)
            message = "Throttled: the query needs more cost points than the bucket holds"
            if wait is not None:
                message += f" (requested {cost['requestedQueryCost']}, available"  # type: ignore[index]
                message += f" {cost['throttleStatus']['currentlyAvailable']}; retry in {wait:.2f} s)"  # type: ignore[index]
            return RateLimited(message, retry_after=wait, **common)
        if any(code in consts.AUTH_ERROR_CODES for code in codes):
            return AuthExpired(_messages(errors), **common)
        if any(code in consts.TRANSIENT_ERROR_CODES for code in codes):
            return Transient(_messages(errors), **common)
        # Anything else (a malformed query, MAX_COST_EXCEEDED, a missing @idempotent key) is a bug on our side.
        return ChannelError(_messages(errors), **common)

    async def _pace(self, cost: float) -> None:
        """Wait until the bucket (as last seen) holds ``cost`` points; a long wait is the job engine's."""
        wait = self.tracker.wait_for(cost, self.monotonic())
        if wait <= 0:
            return
        if wait > self.max_inline_wait_seconds:
            log.info("shopify.throttle.deferred", cost=cost, wait_seconds=round(wait, 2))
            raise RateLimited(
                f"Shopify's cost bucket is too low for this request ({cost:.0f} points); retry in {wait:.1f} s",
                channel=consts.SLUG,
                retry_after=wait,
            )
        log.info("shopify.throttle.paced", cost=cost, wait_seconds=round(wait, 2))
        await asyncio.sleep(wait)

    async def execute(
        self, operation: Operation, variables: Mapping[str, Any] | None = None, *, document: str | None = None
    ) -> dict[str, Any]:
        """Run one operation; returns ``data``. Raises ``ChannelError`` subclasses only."""
        cost = self.estimate(operation)
        await self._pace(cost)
        response = await self.http.request(
            "POST",
            self.path,
            template=f"graphql:{operation.name}",
            json={
                "query": document or operation.document,
                "variables": dict(variables or {}),
                "operationName": operation.name,
            },
            cost=cost,
        )
        data = response.json().get("data")
        if not isinstance(data, dict):
            raise ChannelError(f"Shopify returned no data for {operation.name}", channel=consts.SLUG)
        return data

    async def mutate(
        self,
        operation: Operation,
        field: str,
        variables: Mapping[str, Any],
        *,
        document: str | None = None,
        allow: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> dict[str, Any]:
        """Run a mutation; its ``userErrors`` become ``Rejected`` unless ``allow(errors)`` says the caller
        handles them (compare-and-set conflicts)."""
        data = await self.execute(operation, variables, document=document)
        payload = data.get(field)
        if not isinstance(payload, dict):
            raise ChannelError(f"Shopify returned no {field} payload", channel=consts.SLUG)
        errors = [e for e in payload.get("userErrors") or [] if isinstance(e, dict)]
        if errors and not (allow is not None and allow(errors)):
            log.info("shopify.mutation.rejected", operation=operation.name, errors=len(errors))
            raise user_errors_rejected(operation.name, errors)
        return payload

    # --- products -----------------------------------------------------------------------------------

    async def locations(self) -> list[dict[str, Any]]:
        data = await self.execute(operations.LOCATIONS)
        return list(((data.get("locations") or {}).get("nodes")) or [])

    async def product(self, product_id: str, location_id: str) -> dict[str, Any] | None:
        data = await self.execute(operations.PRODUCT, {"id": product_id, "locationId": location_id})
        product = data.get("product")
        return product if isinstance(product, dict) else None

    async def products_by_sku(self, sku: str, location_id: str) -> list[dict[str, Any]]:
        """Products whose variant has this SKU (search syntax ``sku:'...'``; quotes keep dashes literal)."""
        quoted = sku.replace("\\", "\\\\").replace("'", "\\'")
        data = await self.execute(
            operations.PRODUCTS_BY_SKU, {"query": f"sku:'{quoted}'", "locationId": location_id}
        )
        return list(((data.get("products") or {}).get("nodes")) or [])

    def products_pages(
        self, *, query: str | None = None, first: int = consts.PRODUCTS_PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of ``products``."""
        return self._connection_pages(operations.PRODUCTS, "products", first, {"query": query})

    async def _connection_pages(
        self, operation: Operation, field: str, first: int, variables: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of the connection ``field`` (cursor pagination: ``after`` = ``pageInfo.endCursor``)."""
        after: str | None = None
        for _ in range(consts.MAX_PAGES):
            data = await self.execute(operation, {"first": first, "after": after, **variables})
            connection = data.get(field) or {}
            yield connection
            page_info = connection.get("pageInfo") or {}
            if not page_info.get("hasNextPage") or not page_info.get("endCursor"):
                return
            after = page_info["endCursor"]
        raise ChannelError("Shopify pagination did not end", channel=consts.SLUG)

    async def product_set(
        self, product_input: Mapping[str, Any], location_id: str, *, product_id: str | None = None
    ) -> dict[str, Any]:
        variables: dict[str, Any] = {"input": dict(product_input), "locationId": location_id}
        if product_id:
            variables["identifier"] = {"id": product_id}
        payload = await self.mutate(operations.PRODUCT_SET, "productSet", variables)
        product = payload.get("product")
        if not isinstance(product, dict):
            raise ChannelError("Shopify's productSet returned no product", channel=consts.SLUG)
        return product

    async def product_update(self, product_input: Mapping[str, Any]) -> dict[str, Any]:
        payload = await self.mutate(
            operations.PRODUCT_UPDATE, "productUpdate", {"product": dict(product_input)}
        )
        return payload.get("product") or {}

    async def variants_bulk_update(self, product_id: str, variants: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.mutate(
            operations.VARIANTS_BULK_UPDATE,
            "productVariantsBulkUpdate",
            {"productId": product_id, "variants": variants},
        )

    # --- inventory ----------------------------------------------------------------------------------

    async def inventory_set(
        self, set_input: Mapping[str, Any], *, allow: Callable[[list[dict[str, Any]]], bool] | None = None
    ) -> dict[str, Any]:
        return await self.mutate(
            operations.INVENTORY_SET, "inventorySetQuantities", {"input": dict(set_input)}, allow=allow
        )

    async def inventory_adjust(
        self,
        adjust_input: Mapping[str, Any],
        *,
        idempotency_key: str,
        allow: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> dict[str, Any]:
        """``inventoryAdjustQuantities ... @idempotent(key:)``: the same key (an inline retry sends the very same
        document) is applied once by Shopify."""
        if not _UUID.match(idempotency_key):
            raise ValueError("the idempotency key must be a lower-case UUID")
        document = operations.INVENTORY_ADJUST.document.replace("{key}", idempotency_key)
        return await self.mutate(
            operations.INVENTORY_ADJUST,
            "inventoryAdjustQuantities",
            {"input": dict(adjust_input)},
            document=document,
            allow=allow,
        )

    async def inventory_item_product(self, inventory_item_id: str) -> str | None:
        data = await self.execute(operations.INVENTORY_ITEM_PRODUCT, {"id": inventory_item_id})
        item = data.get("inventoryItem") or {}
        product = ((item.get("variant") or {}).get("product")) or {}
        return product.get("id")

    # --- orders -------------------------------------------------------------------------------------

    def orders_pages(
        self, *, query: str | None, first: int = consts.ORDERS_PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        variables = {"query": query, "lines": consts.ORDER_LINES_PAGE_SIZE}
        return self._connection_pages(operations.ORDERS, "orders", first, variables)

    async def order(self, order_id: str, *, lines: int = consts.ORDER_LINES_MAX) -> dict[str, Any] | None:
        data = await self.execute(operations.ORDER, {"id": order_id, "lines": lines})
        order = data.get("order")
        return order if isinstance(order, dict) else None

    async def fulfillment_orders(self, order_id: str) -> dict[str, Any] | None:
        data = await self.execute(operations.FULFILLMENT_ORDERS, {"id": order_id})
        order = data.get("order")
        return order if isinstance(order, dict) else None

    async def fulfillment_create(self, fulfillment: Mapping[str, Any]) -> dict[str, Any]:
        return await self.mutate(
            operations.FULFILLMENT_CREATE, "fulfillmentCreate", {"fulfillment": dict(fulfillment)}
        )


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _operation_name(response: httpx.Response) -> str | None:
    try:
        sent = json.loads(response.request.content or b"{}")
    except (ValueError, RuntimeError):
        return None
    name = sent.get("operationName") if isinstance(sent, dict) else None
    return name if isinstance(name, str) else None


class _CostLimiter:
    """The shared limiter, in cost points: Shopify's GraphQL budget is its own bucket (``shopify_graphql``)."""

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner

    async def acquire(self, channel: str, cost: float = 1.0) -> Any:
        return await self.inner.acquire(consts.RATE_LIMIT_BUCKET, max(1.0, math.ceil(cost)))

    def penalize(self, channel: str, retry_after_seconds: float) -> Any:
        return self.inner.penalize(consts.RATE_LIMIT_BUCKET, retry_after_seconds)
