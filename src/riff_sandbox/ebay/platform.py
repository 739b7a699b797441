"""The eBay sandbox, plugged into the toolkit: Trading API at ``POST /ws/api.dll`` (dispatch on
``X-EBAY-API-CALL-NAME``) and the OAuth token endpoint at ``POST /identity/v1/oauth2/token``.

Control routes of its own, under ``/_sandbox/ebay`` (never faulted, never logged):

- ``POST /_sandbox/ebay/expire_access_tokens``: every issued access token expires now.
- ``POST /_sandbox/ebay/slow_calls`` ``{"call_name", "delay_seconds", "count"}``: the next ``count`` calls of
  that name are answered ``delay_seconds`` late, *after* their change has committed (a client timeout
  then leaves a created listing behind, as on eBay).
- ``POST /_sandbox/ebay/call_limits`` ``{"aggregate_daily_limit", "daily_call_limits", "reset_usage"}``.
- ``GET /_sandbox/ebay/usage``: today's call counts.

Refresh tokens are revoked with the toolkit's ``DELETE /_sandbox/tokens/{token}``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import random
import secrets
import uuid
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import Any, ClassVar

import anyio.to_thread
from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from riff_sandbox.ebay import errors, render
from riff_sandbox.ebay import seed as demo_seed
from riff_sandbox.ebay.calls import HANDLERS, UNCOUNTED_CALLS, CallContext
from riff_sandbox.ebay.consts import (
    API_BASE_PATH,
    DEFAULT_TOKEN,
    KIND_ACCESS,
    KIND_PERSONAL,
    KIND_REFRESH,
    NAME,
    NOTIFICATION_EVENTS,
    SOAP_ACTION_PREFIX,
    TOKEN_PATH,
    TRADING_PATH,
)
from riff_sandbox.ebay.shop import CONTROL, USAGE, EbayOptions, EbayShop, Event
from riff_sandbox.ebay.xml import (
    EbayApiError,
    Issue,
    envelope,
    local,
    parse,
    parse_time,
    text,
    to_bytes,
    xml_response,
)
from riff_sandbox.toolkit.control_api import base_url_of
from riff_sandbox.toolkit.oauth import basic_client_ok, expire_access_tokens, form_fields
from riff_sandbox.toolkit.platform import ControlError, PurchaseRequest, SandboxPlatform
from riff_sandbox.toolkit.store import Document, Transaction
from riff_sandbox.toolkit.timeutil import utcnow
from riff_sandbox.toolkit.webhooks import delivery_report

# Faults injected by the toolkit happen before the call is read, so their answer names no call.
FAULT_CALL_NAME = "Error"


@dataclasses.dataclass(frozen=True)
class CallResult:
    content: bytes
    delay_seconds: float = 0.0


class EbaySandbox(SandboxPlatform):
    name: ClassVar[str] = NAME
    api_base_path: ClassVar[str] = API_BASE_PATH
    platform_prefixes: ClassVar[tuple[str, ...]] = ("/ws", "/identity")
    default_token: ClassVar[str | None] = DEFAULT_TOKEN
    default_seed_size: ClassVar[int] = 60
    webhook_topics: ClassVar[tuple[str, ...]] = NOTIFICATION_EVENTS
    options_model = EbayOptions
    options: EbayOptions

    # Toolkit hooks -------------------------------------------------------------------------------

    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        demo_seed.seed(tx, rng, size, now, self.options)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["ebay api"])

        @router.post(TRADING_PATH)
        async def trading(request: Request) -> Response:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            result = await anyio.to_thread.run_sync(self.handle_call, headers, body, base_url_of(request))
            if result.delay_seconds:
                await asyncio.sleep(result.delay_seconds)
            return Response(result.content, media_type="text/xml")

        @router.post(TOKEN_PATH)
        async def token(request: Request) -> Response:
            body = await request.body()
            authorization = request.headers.get("authorization", "")
            return await anyio.to_thread.run_sync(self.issue_token, authorization, body)

        return router

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        issue = Issue("2", "Unsupported API call.", message)
        root = envelope(FAULT_CALL_NAME, utcnow(), ack="Failure", issues=[issue])
        return Response(
            to_bytes(root), status_code=status, media_type="text/xml", headers=dict(headers or {})
        )

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        # The Trading API has no 429: a used-up quota is Ack=Failure with error 518 (HTTP 200).
        return self._fault(errors.call_limit())

    def server_error_response(self, status: int) -> Response:
        return Response(
            "<html><body><h1>Service Unavailable</h1></body></html>",
            status_code=status,
            media_type="text/html",
        )

    def token_expired_response(self) -> Response:
        return self._fault(errors.expired_token())

    def _fault(self, error: EbayApiError) -> Response:
        return xml_response(envelope(FAULT_CALL_NAME, utcnow(), ack="Failure", issues=error.issues))

    def webhook_headers(self, topic: str) -> dict[str, str]:
        return {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{SOAP_ACTION_PREFIX}{topic}"'}

    def install(self, app: FastAPI) -> None:
        app.add_api_route("/_sandbox/ebay/expire_access_tokens", self._expire_access_tokens, methods=["POST"])
        app.add_api_route("/_sandbox/ebay/slow_calls", self._slow_calls, methods=["POST"])
        app.add_api_route("/_sandbox/ebay/call_limits", self._call_limits, methods=["POST"])
        app.add_api_route("/_sandbox/ebay/usage", self._usage, methods=["GET"])
        app.add_api_route("/itm/{reference:path}", self._web_item, methods=["GET"], include_in_schema=False)

    # The Trading API -------------------------------------------------------------------------------

    def handle_call(self, headers: Mapping[str, str], body: bytes, base_url: str) -> CallResult:
        """One call, in a worker thread: authenticate, count against the quota, run, answer."""
        call = headers.get("x-ebay-api-call-name", "")
        now = utcnow()
        events: list[Event] = []
        try:
            handler = HANDLERS.get(call)
            if handler is None:
                raise errors.unsupported_call(call)
            if self.options.require_headers:
                for name in ("X-EBAY-API-SITEID", "X-EBAY-API-COMPATIBILITY-LEVEL"):
                    if not headers.get(name.lower()):
                        raise errors.missing_header(name)
            try:
                request = parse(body)
            except ValueError as exc:
                raise errors.xml_parse_error(str(exc)) from None
            if local(request.tag) != f"{call}Request":
                raise EbayApiError(errors.invalid_input(f"{call}Request"))
            self._authenticate(
                headers.get("x-ebay-api-iaf-token") or text(request, "RequesterCredentials/eBayAuthToken"),
                now,
            )
            if call not in UNCOUNTED_CALLS:
                self._count(call, now)
            with self.sandbox.store.transaction() as tx:
                shop = EbayShop(tx, self.options, now)
                outcome = handler(CallContext(shop, base_url, now, self._register_notifications), request)
                events = shop.events
            root = envelope(
                call,
                now,
                ack=outcome.ack,
                issues=[*outcome.errors, *outcome.warnings],
                body=outcome.body,
                build=outcome.build,
            )
        except EbayApiError as error:
            root = envelope(call or FAULT_CALL_NAME, now, ack="Failure", issues=error.issues)
        self.send(events, base_url, now)
        return CallResult(to_bytes(root), self._take_slow_delay(call))

    def _authenticate(self, token: str | None, now: datetime) -> None:
        record = self.sandbox.tokens.get(token) if token else None
        if record is None or record.get("kind") not in (KIND_ACCESS, KIND_PERSONAL):
            raise errors.invalid_token()
        if record["kind"] == KIND_ACCESS:
            expires = parse_time(record.get("expires_at"))
            if expires is None or expires <= now:
                raise errors.expired_token()

    def _count(self, call: str, now: datetime) -> None:
        """Count the call (its own transaction: a refused call still counts), then apply the quotas."""
        with self.sandbox.store.transaction() as tx:
            shop = EbayShop(tx, self.options, now)
            used, total = shop.count_call(call)
            aggregate, per_call = shop.limits()
        if total > aggregate or used > per_call.get(call, used):
            raise errors.call_limit()

    def _register_notifications(self, url: str, events: list[str]) -> None:
        for registration in self.sandbox.webhooks.registrations():
            if registration["source"] == "api":
                self.sandbox.webhooks.unregister(registration["id"])
        for event in events:
            self.sandbox.webhooks.register(url, event, source="api")

    def _take_slow_delay(self, call: str) -> float:
        with self.sandbox.store.transaction() as tx:
            settings = tx.get(CONTROL, "slow_calls") or {}
            entry = settings.get(call)
            if not entry or entry["count"] <= 0:
                return 0.0
            entry["count"] -= 1
            tx.put(CONTROL, "slow_calls", settings)
            return float(entry["delay_seconds"])

    # Notifications ---------------------------------------------------------------------------------

    def send(self, events: list[Event], base_url: str, now: datetime) -> list[Future[Document]]:
        """POST each event's SOAP notification to the URLs registered for it (after the commit)."""
        keyset = (self.options.dev_id, self.options.client_id, self.options.client_secret)
        fired: list[Future[Document]] = []
        for event in events:
            if not self.sandbox.webhooks.registrations(event.topic):
                continue
            payload = render.notification(
                event.topic,
                event.item,
                event.order,
                event.transaction,
                base_url=base_url,
                now=now,
                keyset=keyset,
                correlation_id=uuid.uuid4().hex,
            )
            fired.extend(self.sandbox.webhooks.fire(event.topic, payload))
        return fired

    # OAuth ------------------------------------------------------------------------------------------

    def issue_token(self, authorization: str, body: bytes) -> Response:
        """``POST /identity/v1/oauth2/token``: Basic client auth, form body, refresh_token or
        client_credentials grant (api_samples/ebay/oauth_*.json)."""
        if not basic_client_ok(authorization, self.options.client_id, self.options.client_secret):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "client authentication failed"},
                status_code=401,
            )
        form = form_fields(body.decode("utf-8", "replace"))
        grant = form.get("grant_type", "")
        now = utcnow()
        ttl = self.options.access_token_ttl_seconds
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            record = self.sandbox.tokens.get(refresh) if refresh else None
            if record is None or record.get("kind") != KIND_REFRESH:
                return JSONResponse(
                    {
                        "error": "invalid_grant",
                        "error_description": "the provided authorization refresh token is invalid or was issued to "
                        "another client",
                    },
                    status_code=400,
                )
            token = "v^1.1#i^1#r^0#p^3#I^3#f^0#t^" + secrets.token_urlsafe(36)
            expires = now + timedelta(seconds=ttl)
            self.sandbox.tokens.add(token, kind=KIND_ACCESS, expires_at=expires.isoformat(), source="oauth")
            return JSONResponse({"access_token": token, "expires_in": ttl, "token_type": "User Access Token"})
        if grant == "client_credentials":
            token = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^" + secrets.token_urlsafe(36)
            self.sandbox.tokens.add(token, kind="application", source="oauth")
            return JSONResponse(
                {"access_token": token, "expires_in": 7200, "token_type": "Application Access Token"}
            )
        return JSONResponse(
            {
                "error": "unsupported_grant_type",
                "error_description": "grant type in request is not supported by the authorization server",
            },
            status_code=400,
        )

    # Control API ---------------------------------------------------------------------------------

    def _shop_item(self, shop: EbayShop, item_id: Any) -> dict[str, Any]:
        record = shop.item(str(item_id))
        if record is None:
            raise ControlError(404, "not_found", f"no item {item_id}")
        return record

    def purchase(self, base_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        request = PurchaseRequest.from_body(body)
        now = utcnow()
        with self.sandbox.store.transaction() as tx:
            shop = EbayShop(tx, self.options, now)
            record = self._shop_item(shop, body["listing_id"])
            order = shop.purchase(
                record, request.quantity, buyer_index=request.buyer_index, paid=request.paid
            )
        futures = self.send(shop.events, base_url, now)
        return {
            "order": render.json_order(order),
            "item": render.json_item(record, base_url),
            "webhook_deliveries": delivery_report(futures, request.wait_for_webhooks),
        }

    def edit_listing(self, base_url: str, listing_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        now = utcnow()
        with self.sandbox.store.transaction() as tx:
            shop = EbayShop(tx, self.options, now)
            record = shop.seller_edit(self._shop_item(shop, listing_id), changes)
        futures = self.send(shop.events, base_url, now)
        return {
            "item": render.json_item(record, base_url),
            "webhook_deliveries": delivery_report(futures, True),
        }

    def update_order(self, base_url: str, order_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        now = utcnow()
        with self.sandbox.store.transaction() as tx:
            shop = EbayShop(tx, self.options, now)
            order = shop.order(order_id)
            if order is None:
                raise ControlError(404, "not_found", f"no order {order_id}")
            order = shop.update_order(order, changes)
        futures = self.send(shop.events, base_url, now)
        return {"order": render.json_order(order), "webhook_deliveries": delivery_report(futures, True)}

    def _expire_access_tokens(self) -> dict[str, Any]:
        return expire_access_tokens(self.sandbox.store, KIND_ACCESS)

    def _slow_calls(self, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        call = body.get("call_name")
        if call not in HANDLERS:
            raise ControlError(422, "invalid_call", f"call_name must be one of {', '.join(HANDLERS)}")
        delay = float(body.get("delay_seconds", 1.0))
        count = int(body.get("count", 1))
        with self.sandbox.store.transaction() as tx:
            settings = tx.get(CONTROL, "slow_calls") or {}
            settings[str(call)] = {"delay_seconds": delay, "count": count}
            tx.put(CONTROL, "slow_calls", settings)
        return {"slow_calls": settings}

    def _call_limits(self, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        with self.sandbox.store.transaction() as tx:
            settings = tx.get(CONTROL, "settings") or {}
            if "aggregate_daily_limit" in body:
                settings["aggregate_daily_limit"] = int(body["aggregate_daily_limit"])
            if "daily_call_limits" in body:
                settings["daily_call_limits"] = {str(k): int(v) for k, v in body["daily_call_limits"].items()}
            tx.put(CONTROL, "settings", settings)
            if body.get("reset_usage"):
                tx.clear_collection(USAGE)
        return {"settings": settings}

    def _usage(self) -> dict[str, Any]:
        with self.sandbox.store.transaction() as tx:
            shop = EbayShop(tx, self.options, utcnow())
            aggregate, per_call = shop.limits()
            return {
                "usage": shop.usage_today(),
                "aggregate_daily_limit": aggregate,
                "daily_call_limits": per_call,
            }

    def _web_item(self, request: Request, reference: str) -> HTMLResponse:
        item_id = reference.rstrip("/").rsplit("/", 1)[-1]
        with self.sandbox.store.transaction() as tx:
            record = EbayShop(tx, self.options, utcnow()).item(item_id)
        if record is None:
            return HTMLResponse("<h1>Item not found</h1>", status_code=404)
        pictures = "".join(
            f'<img src="{html.escape(url)}" width="160" alt="">' for url in record["pictures"][:6]
        )
        page = (
            f"<!doctype html><title>{html.escape(record['title'])} | eBay sandbox</title>"
            f"<p><em>eBay sandbox: a local stand-in, not ebay.co.uk.</em></p>"
            f"<h1>{html.escape(record['title'])}</h1>"
            f"<p><strong>£{html.escape(record['start_price'])}</strong> &middot; {html.escape(record['status'])}</p>"
            f"<div>{pictures}</div><div>{record['description']}</div>"
        )
        return HTMLResponse(page)
