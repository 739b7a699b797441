"""The Shopify sandbox, plugged into the toolkit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import math
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter, Body, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from riff_sandbox.shopify import seed as demo_seed
from riff_sandbox.shopify.consts import (
    ADMIN_API_PREFIX,
    API_BASE_PATH,
    DEFAULT_TOKEN,
    NAME,
    UNAUTHORIZED_MESSAGE,
    WEBHOOK_TOPICS,
)
from riff_sandbox.shopify.cost import LeakyBucket, ThrottleStatus
from riff_sandbox.shopify.routes import build_router, shopify_json, throttled_body
from riff_sandbox.shopify.shop import Event, Record, ShopifyOptions, ShopifyShop, parse_gid
from riff_sandbox.toolkit.platform import ControlError, PurchaseRequest, SandboxPlatform
from riff_sandbox.toolkit.store import Document, Transaction
from riff_sandbox.toolkit.timeutil import utcnow
from riff_sandbox.toolkit.webhooks import delivery_report


class ThrottleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    maximum_available: float | None = Field(None, gt=0, description="Bucket size in cost points")
    currently_available: float | None = Field(None, ge=0, description="Points available right now")
    restore_rate: float | None = Field(None, gt=0, description="Points restored per second")


def signature(secret: str, body: bytes) -> str:
    """X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(client secret, raw body)) (shopify.dev verify-deliveries)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class ShopifySandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = API_BASE_PATH
    platform_prefixes: ClassVar[tuple[str, ...]] = (ADMIN_API_PREFIX,)
    default_token: ClassVar[str | None] = DEFAULT_TOKEN
    default_seed_size: ClassVar[int] = 60
    webhook_topics: ClassVar[tuple[str, ...]] = WEBHOOK_TOPICS
    options_model = ShopifyOptions
    options: ShopifyOptions

    def __init__(self, sandbox: Any, options: BaseModel) -> None:
        super().__init__(sandbox, options)
        self.bucket = LeakyBucket(self.options.bucket_size, self.options.restore_rate, time.monotonic())

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        self.bucket = LeakyBucket(self.options.bucket_size, self.options.restore_rate, time.monotonic())
        demo_seed.seed(tx, rng, size, now, self.options)

    def router(self) -> APIRouter:
        return build_router(self)

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        body: dict[str, Any] = {"errors": dict(errors) if errors else message}
        return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        # GraphQL throttling is a 200 with THROTTLED; make the reported wait equal the fault's Retry-After.
        status = self.bucket.status(time.monotonic())
        empty = ThrottleStatus(status.maximum_available, 0.0, status.restore_rate)
        requested = max(1, math.ceil(retry_after_seconds * status.restore_rate))
        return shopify_json(throttled_body(requested, empty))

    def token_expired_response(self) -> Response:
        return JSONResponse({"errors": UNAUTHORIZED_MESSAGE}, status_code=401)

    def webhook_headers(self, topic: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": self.options.shop_domain,
            "X-Shopify-API-Version": self.options.webhook_api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        return {"X-Shopify-Hmac-Sha256": signature(self.options.client_secret, body)}

    def install(self, app: FastAPI) -> None:
        app.add_api_route("/products/{handle}", self._web_product, methods=["GET"], include_in_schema=False)
        app.add_api_route(
            "/_sandbox/shopify/throttle", self._get_throttle, methods=["GET"], tags=["sandbox control"]
        )
        app.add_api_route(
            "/_sandbox/shopify/throttle", self._set_throttle, methods=["POST"], tags=["sandbox control"]
        )

    # Sessions and webhooks -----------------------------------------------------------------------

    @contextmanager
    def session(self, futures: list[Future[Document]] | None = None) -> Iterator[ShopifyShop]:
        """One transaction over the shop; webhooks fire after it commits."""
        with self.sandbox.store.transaction() as tx:
            shop = ShopifyShop(tx, self.options, utcnow())
            yield shop
        fired = self.fire(shop.events)
        if futures is not None:
            futures.extend(fired)

    def fire(self, events: list[Event]) -> list[Future[Document]]:
        fired: list[Future[Document]] = []
        for event in events:
            fired.extend(self.sandbox.webhooks.fire(event.topic, event.payload))
        return fired

    # Control API ---------------------------------------------------------------------------------

    @staticmethod
    def _control_product(shop: ShopifyShop, reference: Any) -> Record:
        product = shop.product(parse_gid(reference, "Product"))
        if product is None:
            variant = shop.variant(parse_gid(reference, "ProductVariant"))
            product = shop.product(variant["product_id"]) if variant else None
        if product is None:
            raise ControlError(404, "not_found", f"no product {reference}")
        return product

    def purchase(self, base_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = PurchaseRequest.from_body(body)
        futures: list[Future[Document]] = []
        with self.session(futures) as shop:
            product = self._control_product(shop, body["listing_id"])
            order = shop.purchase(
                product, request.quantity, buyer_index=request.buyer_index, paid=request.paid
            )
            rendered = {"order": shop.order_payload(order), "product": shop.product_payload(product)}
        return {**rendered, "webhook_deliveries": delivery_report(futures, request.wait_for_webhooks)}

    def edit_listing(self, base_url: str, listing_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        futures: list[Future[Document]] = []
        with self.session(futures) as shop:
            product = shop.seller_edit(self._control_product(shop, listing_id), changes)
            rendered = shop.product_payload(product)
        return {"product": rendered, "webhook_deliveries": delivery_report(futures, True)}

    def update_order(self, base_url: str, order_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        futures: list[Future[Document]] = []
        with self.session(futures) as shop:
            order = shop.order(parse_gid(order_id, "Order"))
            if order is None:
                raise ControlError(404, "not_found", f"no order {order_id}")
            order = shop.update_order(order, changes)
            rendered = shop.order_payload(order)
        wait = changes.get("wait_for_webhooks", True) is not False
        return {"order": rendered, "webhook_deliveries": delivery_report(futures, wait)}

    def _get_throttle(self) -> dict[str, Any]:
        return self.bucket.status(time.monotonic()).as_json()

    def _set_throttle(self, body: ThrottleBody = Body(...)) -> dict[str, Any]:
        """Set the bucket (size, restore rate, points available now), e.g. to provoke THROTTLED."""
        status = self.bucket.configure(
            time.monotonic(),
            size=body.maximum_available,
            restore_rate=body.restore_rate,
            currently_available=body.currently_available,
        )
        return status.as_json()

    # The storefront page behind Product.onlineStoreUrl, for the demo -------------------------------

    def _web_product(self, handle: str) -> HTMLResponse:
        with self.session() as shop:
            product = next((p for p in shop.products() if p["handle"] == handle), None)
            if product is None or product["status"] != "ACTIVE":
                return HTMLResponse("<h1>Page not found</h1>", status_code=404)
            variant = shop.variants_of(product)[0]
            sold_out = shop.total_inventory(product) <= 0
        images = "".join(f'<img src="{html.escape(m["url"])}" width="160" alt="">' for m in product["media"])
        page = (
            f"<!doctype html><title>{html.escape(product['title'])} | Shopify sandbox</title>"
            f"<p><em>Shopify sandbox: a local stand-in for the shop's online store.</em></p>"
            f"<h1>{html.escape(product['title'])}</h1>"
            f"<p><strong>£{html.escape(variant['price'])}</strong>{' &middot; Sold out' if sold_out else ''}</p>"
            f"<div>{images}</div><div>{product['description_html']}</div>"
        )
        return HTMLResponse(page)


__all__ = ["ShopifySandbox", "shopify_json", "signature"]
