"""The DHL Express (MyDHL API) sandbox, plugged into the toolkit.

Beyond the toolkit's control API (faults, request log, reset, tokens) it adds, under ``/_sandbox/dhl``:

- ``GET  /shipments``                      every shipment created (waybill, Message-Reference, created_at)
- ``POST /lose-responses {count, status}`` the next ``count`` shipment answers are lost: the label is bought
  (or found by its Message-Reference), then the answer is a 5xx
- ``POST /shipments/{n}/advance {steps}``  move that shipment's tracking ``steps`` checkpoints on
- ``POST /shipments/{n}/events {code?, description?}`` add a checkpoint (default: an exception, BA)
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from fastapi import APIRouter, Body, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from riff_sandbox.dhl import consts
from riff_sandbox.dhl.desk import SHIPMENTS, Desk, DhlOptions
from riff_sandbox.dhl.errors import DhlError, problem
from riff_sandbox.dhl.routes import build_router
from riff_sandbox.toolkit.platform import ControlError, SandboxPlatform
from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import utcnow


class DhlSandbox(SandboxPlatform):
    name: ClassVar[str] = consts.NAME
    api_base_path: ClassVar[str] = consts.API_BASE_PATH
    platform_prefixes: ClassVar[tuple[str, ...]] = (consts.API_BASE_PATH,)
    default_token: ClassVar[str | None] = consts.DEFAULT_TOKEN
    default_seed_size: ClassVar[int] = 0
    webhook_topics: ClassVar[tuple[str, ...]] = ()  # MyDHL has no webhooks: RIFF polls tracking
    options_model = DhlOptions
    options: DhlOptions

    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        """No demo data: shipments exist once RIFF buys labels."""

    def router(self) -> APIRouter:
        return build_router(self)

    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        additional = [f"{field}: {'; '.join(texts)}" for field, texts in (errors or {}).items()]
        return problem(status, message, additional=additional or None, headers=headers)

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        return problem(
            429, "Too many requests: rate limit exceeded", headers={"Retry-After": str(retry_after_seconds)}
        )

    def server_error_response(self, status: int) -> Response:
        return problem(status, consts.PROCESS_FAILURE.format(process_id=random.randrange(10**10)))

    def token_expired_response(self) -> Response:
        return problem(401, "Invalid Credentials")

    def install(self, app: FastAPI) -> None:
        async def dhl_error(request: Request, error: Exception) -> Response:
            assert isinstance(error, DhlError)
            instance = "/expressapi" + request.url.path.removeprefix(consts.API_BASE_PATH)
            return problem(
                error.status,
                error.detail,
                instance=instance,
                additional=error.additional,
                headers=error.headers,
            )

        app.add_exception_handler(DhlError, dhl_error)
        app.include_router(self._control_router())

    def _desk(self, function: Any) -> Any:
        with self.sandbox.store.transaction() as tx:
            return function(Desk(tx, self.options, utcnow()))

    def _control_router(self) -> APIRouter:
        router = APIRouter(prefix="/_sandbox/dhl", tags=["sandbox control"])

        def require(desk: Desk, number: str) -> dict[str, Any]:
            shipment = desk.shipment(number)
            if shipment is None:
                raise ControlError(404, "not_found", f"no shipment {number}")
            return shipment

        @router.get("/shipments")
        def shipments() -> dict[str, Any]:
            def read(desk: Desk) -> list[dict[str, Any]]:
                return [
                    {key: s.get(key) for key in ("shipmentTrackingNumber", "message_reference", "created_at",
                                                  "productName", "origin", "destination", "pieces")}
                    for s in desk.tx.list(SHIPMENTS)
                ]  # fmt: skip

            found = self._desk(read)
            return {"count": len(found), "shipments": found}

        @router.post("/lose-responses")
        def lose_responses(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
            count, status = body.get("count", 1), body.get("status", 500)
            if (
                not isinstance(count, int)
                or count < 0
                or not isinstance(status, int)
                or not 500 <= status <= 599
            ):
                raise ControlError(422, "invalid_request", "count >= 0 and a 5xx status, please")
            return self._desk(lambda desk: desk.lose_responses(count, status))  # type: ignore[no-any-return]

        @router.post("/shipments/{number}/advance")
        def advance(number: str, body: dict[str, Any] = Body(default_factory=dict)) -> JSONResponse:
            steps = body.get("steps", 1)
            if not isinstance(steps, int) or steps < 0:
                raise ControlError(422, "invalid_request", "steps must be a non-negative integer")
            return JSONResponse(
                self._desk(lambda desk: desk.render_tracking(desk.advance(require(desk, number), steps)))
            )

        @router.post("/shipments/{number}/events")
        def add_event(number: str, body: dict[str, Any] = Body(default_factory=dict)) -> JSONResponse:
            code = str(body.get("code") or consts.EXCEPTION_DEFAULT[0])
            description = str(body.get("description") or consts.EXCEPTION_DEFAULT[1])
            return JSONResponse(
                self._desk(
                    lambda desk: desk.render_tracking(
                        desk.add_event(require(desk, number), code, description)
                    )
                )
            )

        return router
