"""The ``/_sandbox`` control API: reset, faults, request log, buyer/seller simulation, webhooks, tokens.

Never subject to faults and never recorded in the request log. Errors are ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from riff_sandbox.toolkit.faults import FaultConfig
from riff_sandbox.toolkit.platform import ControlError
from riff_sandbox.toolkit.webhooks import wait_for

if TYPE_CHECKING:
    from riff_sandbox.toolkit.app import Sandbox

REDELIVERY_WAIT_SECONDS = 10.0


class ResetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = Field(None, description="Demo-data seed (default: the sandbox's configured seed)")
    seed_size: int | None = Field(None, ge=0, description="Number of demo listings")


class WebhookRegistrationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    topic: str


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(None, min_length=1, description="Token value; random when omitted")
    kind: str = Field("personal", description="Platform-specific token kind, e.g. personal or oauth")


def base_url_of(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def control_router(sandbox: Sandbox) -> APIRouter:
    router = APIRouter(prefix="/_sandbox", tags=["sandbox control"])

    @router.get("")
    @router.get("/")
    def info(request: Request) -> dict[str, Any]:
        return sandbox.info(base_url_of(request))

    @router.post("/reset")
    def reset(body: ResetBody | None = None) -> dict[str, Any]:
        body = body or ResetBody()
        return {"reset": True, "meta": sandbox.reset(seed=body.seed, seed_size=body.seed_size)}

    @router.get("/faults")
    def get_faults() -> dict[str, Any]:
        return sandbox.faults.snapshot()

    @router.post("/faults")
    def set_faults(config: FaultConfig) -> dict[str, Any]:
        sandbox.faults.configure(config, time.monotonic())
        return sandbox.faults.snapshot()

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        sandbox.faults.clear(time.monotonic())
        return sandbox.faults.snapshot()

    @router.get("/requests")
    def list_requests(path_prefix: str | None = None, method: str | None = None) -> dict[str, Any]:
        found = sandbox.store.requests(path_prefix=path_prefix, method=method)
        return {"count": len(found), "requests": found}

    @router.delete("/requests")
    def clear_requests() -> dict[str, Any]:
        sandbox.store.clear_requests()
        return {"cleared": True}

    @router.post("/purchase")
    def purchase(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        if "listing_id" not in body:
            raise ControlError(422, "invalid_request", "listing_id is required")
        return sandbox.platform.purchase(base_url_of(request), body)

    @router.post("/listings/{listing_id}/edit")
    def edit_listing(request: Request, listing_id: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return sandbox.platform.edit_listing(base_url_of(request), listing_id, body)

    @router.post("/orders/{order_id}/update")
    def update_order(request: Request, order_id: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return sandbox.platform.update_order(base_url_of(request), order_id, body)

    @router.get("/webhooks")
    def list_webhooks(topic: str | None = None) -> dict[str, Any]:
        return {"registrations": sandbox.webhooks.registrations(topic)}

    @router.post("/webhooks", status_code=201)
    def register_webhook(body: WebhookRegistrationBody) -> dict[str, Any]:
        topics = sandbox.platform.webhook_topics
        if body.topic not in topics:
            raise ControlError(422, "invalid_topic", f"topic must be one of {', '.join(topics)}")
        return sandbox.webhooks.register(body.url, body.topic, source="sandbox")

    @router.delete("/webhooks/{registration_id}")
    def unregister_webhook(registration_id: int) -> dict[str, Any]:
        if not sandbox.webhooks.unregister(registration_id):
            raise ControlError(404, "not_found", f"no webhook registration {registration_id}")
        return {"deleted": True}

    @router.get("/webhooks/deliveries")
    def list_deliveries(topic: str | None = None) -> dict[str, Any]:
        deliveries = sandbox.webhooks.deliveries(topic)
        return {"count": len(deliveries), "deliveries": deliveries}

    @router.post("/webhooks/deliveries/{delivery_id}/redeliver")
    def redeliver(delivery_id: str, wait: bool = True) -> dict[str, Any]:
        future = sandbox.webhooks.redeliver(delivery_id)
        if wait:
            done = wait_for([future], REDELIVERY_WAIT_SECONDS)
            if done:
                return done[0]
        return {"status": "pending"}

    @router.get("/tokens")
    def list_tokens() -> dict[str, Any]:
        return {"tokens": sandbox.tokens.all()}

    @router.post("/tokens", status_code=201)
    def create_token(body: TokenBody | None = None) -> dict[str, Any]:
        body = body or TokenBody()
        return sandbox.tokens.add(body.token, kind=body.kind, source="control")

    @router.delete("/tokens/{token}")
    def revoke_token(token: str) -> dict[str, Any]:
        if not sandbox.tokens.revoke(token):
            raise ControlError(404, "not_found", "no such token")
        return {"revoked": True}

    return router
