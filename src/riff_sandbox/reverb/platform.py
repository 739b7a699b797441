"""The Reverb sandbox, plugged into the toolkit."""

from __future__ import annotations

import html
import random
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from riff_sandbox.reverb import seed as demo_seed
from riff_sandbox.reverb.consts import API_BASE_PATH, DEFAULT_TOKEN, NAME, WEBHOOK_TOPICS
from riff_sandbox.reverb.errors import ReverbError, error_response
from riff_sandbox.reverb.render import render_listing, render_order
from riff_sandbox.reverb.routes import UNAUTHORIZED, build_router
from riff_sandbox.reverb.shop import Event, ReverbOptions, ReverbShop, parse_id
from riff_sandbox.toolkit.platform import ControlError, PurchaseRequest, SandboxPlatform
from riff_sandbox.toolkit.store import Document, Transaction
from riff_sandbox.toolkit.timeutil import utcnow
from riff_sandbox.toolkit.webhooks import delivery_report


class ReverbSandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = API_BASE_PATH
    platform_prefixes: ClassVar[tuple[str, ...]] = (API_BASE_PATH,)
    default_token: ClassVar[str | None] = DEFAULT_TOKEN
    default_seed_size: ClassVar[int] = 60
    webhook_topics: ClassVar[tuple[str, ...]] = WEBHOOK_TOPICS
    options_model = ReverbOptions
    options: ReverbOptions

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        demo_seed.seed(tx, rng, size, now)

    def router(self) -> APIRouter:
        return build_router(self)

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        return error_response(status, message, errors, headers=headers)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        return error_response(429, "Slow down.", headers={"Retry-After": str(retry_after_seconds)})

    def token_expired_response(self) -> Response:
        return error_response(401, UNAUTHORIZED)

    # Webhooks keep the toolkit's plain JSON headers: Reverb signs nothing ("HMAC coming soon"); secure the
    # URL instead.

    def install(self, app: FastAPI) -> None:
        async def reverb_error(_request: Request, error: Exception) -> Response:
            assert isinstance(error, ReverbError)
            return error_response(
                error.status, error.message, error.errors, extra=error.extra, headers=error.headers
            )

        app.add_exception_handler(ReverbError, reverb_error)
        app.add_api_route("/item/{reference}", self._web_listing, methods=["GET"], include_in_schema=False)

    # Sessions and webhooks -----------------------------------------------------------------------

    @contextmanager
    def session(self, base_url: str, futures: list[Future[Document]] | None = None) -> Iterator[ReverbShop]:
        """One transaction over the shop; scheduled publishes settle first, webhooks fire after commit."""
        with self.sandbox.store.transaction() as tx:
            shop = ReverbShop(tx, self.options, utcnow())
            shop.settle()
            yield shop
        fired = self.fire(shop.events, base_url)
        if futures is not None:
            futures.extend(fired)

    def fire(self, events: list[Event], base_url: str) -> list[Future[Document]]:
        fired: list[Future[Document]] = []
        for event in events:
            if event.kind == "listing":
                payload = render_listing(event.record, base_url)
            else:
                payload = render_order(event.record, base_url)
            fired.extend(self.sandbox.webhooks.fire(event.topic, payload))
        return fired

    # Control API ---------------------------------------------------------------------------------

    def _control_listing(self, shop: ReverbShop, listing_id: Any) -> dict[str, Any]:
        parsed = parse_id(str(listing_id))
        record = shop.listing(parsed) if parsed is not None else None
        if record is None:
            raise ControlError(404, "not_found", f"no listing {listing_id}")
        return record

    def purchase(self, base_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = PurchaseRequest.from_body(body)
        futures: list[Future[Document]] = []
        with self.session(base_url, futures) as shop:
            listing = self._control_listing(shop, body["listing_id"])
            order = shop.purchase(
                listing,
                request.quantity,
                buyer_index=request.buyer_index,
                paid=request.paid,
                local_pickup=bool(body.get("local_pickup", False)),
            )
        return {
            "order": render_order(order, base_url),
            "listing": render_listing(listing, base_url, include_sku=True),
            "webhook_deliveries": delivery_report(futures, request.wait_for_webhooks),
        }

    def edit_listing(self, base_url: str, listing_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        futures: list[Future[Document]] = []
        with self.session(base_url, futures) as shop:
            record = shop.seller_edit(self._control_listing(shop, listing_id), changes)
        return {
            "listing": render_listing(record, base_url, include_sku=True),
            "webhook_deliveries": delivery_report(futures, True),
        }

    def update_order(self, base_url: str, order_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        futures: list[Future[Document]] = []
        with self.session(base_url, futures) as shop:
            order = shop.order(order_id)
            if order is None:
                raise ControlError(404, "not_found", f"no order {order_id}")
            order = shop.update_order_status(order, changes)
        return {"order": render_order(order, base_url), "webhook_deliveries": delivery_report(futures, True)}

    # A minimal stand-in for the listing's web page (_links.web), for the demo ------------------------

    def _web_listing(self, request: Request, reference: str) -> HTMLResponse:
        base_url = str(request.base_url).rstrip("/")
        with self.session(base_url) as shop:
            listing_id = parse_id(reference)
            record = shop.listing(listing_id) if listing_id is not None else None
        if record is None:
            return HTMLResponse("<h1>Listing not found</h1>", status_code=404)
        body = render_listing(record, base_url)
        photos = "".join(
            f'<img src="{html.escape(p["_links"]["thumbnail"]["href"])}" width="160" alt="">'
            for p in body["photos"]
        )
        page = (
            f"<!doctype html><title>{html.escape(body['title'])} | Reverb sandbox</title>"
            f"<p><em>Reverb sandbox: a local stand-in, not reverb.com.</em></p>"
            f"<h1>{html.escape(body['title'])}</h1>"
            f"<p><strong>{html.escape(body['price']['display'] if body['price'] else '')}</strong>"
            f" &middot; {html.escape(body['state']['description'])}</p>"
            f"<div>{photos}</div><div>{body['description']}</div>"
        )
        return HTMLResponse(page)
