"""The contract a platform sandbox implements to plug into the toolkit.

A platform supplies its API router, its demo data, its error bodies and the platform-specific side of the
control API (buyer purchase, seller edit). The toolkit supplies everything else (store, faults, request
log, webhooks, tokens, the ``/_sandbox`` routes and the server).
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from riff_sandbox.toolkit.store import Transaction

if TYPE_CHECKING:
    from riff_sandbox.toolkit.app import Sandbox


@dataclass(frozen=True)
class SandboxConfig:
    name: str
    data_dir: Path
    seed: int = 1
    seed_size: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "sandboxes" / f"{self.name}.db"


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ControlError(Exception):
    """A refused control-API request (``/_sandbox/...``): rendered as ``{"error": {"code", "message"}}``."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PurchaseRequest:
    """The buyer simulator's request (``POST /_sandbox/purchase``) as the platforms with quantities read it:
    ``listing_id`` stays in the body, each platform parses its own kind of id."""

    quantity: int
    buyer_index: int | None  # which demo buyer; None lets the platform pick
    paid: bool
    wait_for_webhooks: bool

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> PurchaseRequest:
        quantity = body.get("quantity", 1)
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise ControlError(422, "invalid_quantity", "quantity must be an integer")
        buyer_index = body.get("buyer_index")
        return cls(
            quantity=quantity,
            buyer_index=buyer_index if isinstance(buyer_index, int) else None,
            paid=body.get("paid", True) is not False,
            wait_for_webhooks=body.get("wait_for_webhooks", True) is not False,
        )


class SandboxPlatform(ABC):
    name: ClassVar[str]
    # Path prefix of the platform's API; the client's base URL is the sandbox base URL plus this.
    api_base_path: ClassVar[str] = ""
    # Requests under these prefixes are platform requests: logged, and subject to faults.
    platform_prefixes: ClassVar[tuple[str, ...]] = ("/",)
    default_token: ClassVar[str | None] = None
    default_seed_size: ClassVar[int] = 60
    webhook_topics: ClassVar[tuple[str, ...]] = ()
    options_model: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, sandbox: Sandbox, options: BaseModel) -> None:
        self.sandbox = sandbox
        self.options = options

    @abstractmethod
    def seed(self, tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
        """Write the demo data into an empty store."""

    @abstractmethod
    def router(self) -> APIRouter:
        """The platform's API routes (paths include ``api_base_path``)."""

    @abstractmethod
    def error_response(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        errors: Mapping[str, list[str]] | None = None,
    ) -> Response:
        """An error the way the platform renders it (``errors``: field -> messages, where it has them)."""

    def install(self, app: FastAPI) -> None:  # noqa: B027 - optional hook
        """Add anything else the platform needs on the app (exception handlers, web pages)."""

    def rate_limited_response(self, retry_after_seconds: int) -> Response:
        return self.error_response(429, "Too Many Requests", {"Retry-After": str(retry_after_seconds)})

    def server_error_response(self, status: int) -> Response:
        return self.error_response(
            status, "Service Unavailable" if status == 503 else "Internal Server Error"
        )

    def token_expired_response(self) -> Response:
        return self.error_response(401, "Unauthorized")

    def webhook_headers(self, topic: str) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def sign_webhook(self, topic: str, body: bytes) -> dict[str, str]:
        """Headers computed over the raw body of a delivery (a signature); none unless the platform signs."""
        return {}

    def purchase(self, base_url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A buyer buys ``body["listing_id"]``; returns what happened (order, listing, deliveries)."""
        raise ControlError(404, "not_supported", f"{self.name} has no buyer simulator")

    def edit_listing(self, base_url: str, listing_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The seller edits a listing on the platform's website."""
        raise ControlError(404, "not_supported", f"{self.name} has no seller-edit simulator")

    def update_order(self, base_url: str, order_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The buyer, seller or platform changes an order outside the API (cancel, refund, receive)."""
        raise ControlError(404, "not_supported", f"{self.name} has no order simulator")
