"""JSON API of the channels package: accounts, product listings, and inbound webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from riff.auth.deps import current_user, require_owner, require_writer
from riff.auth.models import User
from riff.channels import service
from riff.channels.errors import ChannelError
from riff.channels.http import request_counters
from riff.channels.registry import CHANNEL_SLUGS, CHANNELS
from riff.channels.schemas import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    EndRequest,
    ListingJobAccepted,
    ListingRead,
    PublishRequest,
)
from riff.core.deps import DbSession, ReadSession
from riff.core.errors import NotFound
from riff.core.logging import get_logger
from riff.core.security import SecretBox

log = get_logger(__name__)

router = APIRouter(tags=["channels"])
webhook_router = APIRouter(tags=["webhooks"])

Reader = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(require_writer)]
Owner = Annotated[User, Depends(require_owner)]


def _box(request: Request) -> SecretBox:
    return SecretBox(request.app.state.master_key)


@router.get("/api/channels")
def list_channels(_user: Reader) -> list[dict[str, Any]]:
    """Every channel RIFF knows, its capabilities and the JSON schema of its account config/secrets."""
    out: list[dict[str, Any]] = []
    for slug in CHANNEL_SLUGS:
        cls = CHANNELS.get(slug)
        if cls is None:
            out.append({"slug": slug, "available": False})
            continue
        out.append(
            {
                "slug": slug,
                "available": True,
                "display_name": cls.display_name,
                "capabilities": cls.capabilities.model_dump(),
                "config_schema": cls.config_model.model_json_schema(),
                "secrets_schema": cls.secrets_model.model_json_schema(),
            }
        )
    return out


@router.get("/api/channels/accounts", response_model=list[AccountRead])
def list_accounts(
    request: Request, session: ReadSession, _user: Reader, channel: str | None = None
) -> list[AccountRead]:
    box = _box(request)
    return [service.account_read(box, account) for account in service.list_accounts(session, channel)]


@router.post("/api/channels/accounts", response_model=AccountRead, status_code=201)
def create_account(request: Request, data: AccountCreate, session: DbSession, _user: Owner) -> AccountRead:
    box = _box(request)
    return service.account_read(box, service.create_account(session, box, data))


@router.get("/api/channels/accounts/{account_id}", response_model=AccountRead)
def get_account(request: Request, account_id: int, session: ReadSession, _user: Reader) -> AccountRead:
    return service.account_read(_box(request), service.get_account(session, account_id))


@router.patch("/api/channels/accounts/{account_id}", response_model=AccountRead)
def update_account(
    request: Request, account_id: int, data: AccountUpdate, session: DbSession, _user: Owner
) -> AccountRead:
    box = _box(request)
    account = service.update_account(session, box, service.get_account(session, account_id), data)
    return service.account_read(box, account)


@router.get("/api/channels/request-counts")
def request_counts(_user: Reader, channel: str | None = None) -> list[dict[str, Any]]:
    """In-process HTTP request counters of this web process (workers keep their own)."""
    return request_counters.snapshot(channel)


@router.get("/api/products/{product_id}/listings", response_model=list[ListingRead])
def product_listings(product_id: int, session: ReadSession, _user: Reader) -> list[ListingRead]:
    return [
        ListingRead.model_validate(listing) for listing in service.list_product_listings(session, product_id)
    ]


@router.post(
    "/api/products/{product_id}/listings/{channel}", response_model=ListingJobAccepted, status_code=202
)
def publish_listing(
    product_id: int, channel: str, session: DbSession, _user: Writer, data: PublishRequest | None = None
) -> ListingJobAccepted:
    product = service.get_product(session, product_id)
    listing, job_id = service.publish_product(
        session, product, channel, price_override=data.price_override if data else None
    )
    return ListingJobAccepted(listing=ListingRead.model_validate(listing), job_id=job_id)


@router.delete(
    "/api/products/{product_id}/listings/{channel}", response_model=ListingJobAccepted, status_code=202
)
def end_listing(
    product_id: int, channel: str, session: DbSession, _user: Writer, data: EndRequest | None = None
) -> ListingJobAccepted:
    product = service.get_product(session, product_id)
    reason = data.reason if data else EndRequest().reason
    listing, job_id = service.end_product_listing(session, product, channel, reason)
    return ListingJobAccepted(listing=ListingRead.model_validate(listing), job_id=job_id)


@webhook_router.post("/webhooks/{channel}/{token}", include_in_schema=False)
async def receive_webhook(channel: str, token: str, request: Request) -> Response:
    """Unsigned platforms (Reverb) are protected by the secret path token; an unknown token is a 404.

    The delivery is stored in the inbox and answered at once (Reverb stops sending to slow endpoints);
    a job confirms it against the API.
    """
    body = await request.body()
    database = request.app.state.database
    box = _box(request)
    with database.session() as session:
        account = (
            service.find_account_by_webhook_token(session, box, channel, token)
            if channel in CHANNELS
            else None
        )
        if account is None:
            raise NotFound("not found")
        adapter_cls = CHANNELS[channel]
        try:
            adapter = service.open_channel(account, request.app.state.master_key)
            try:
                events = adapter.parse_webhook(dict(request.headers), body)
            finally:
                await adapter.aclose()
        except ChannelError as exc:
            log.warning(f"{adapter_cls.slug}.webhook.rejected", account_id=account.id, message=exc.message)
            # A delivery whose signature does not verify (Shopify's HMAC) is unauthenticated: 401, else 400.
            return JSONResponse(
                {"error": {"code": "bad_webhook", "message": exc.message, "field": None}},
                status_code=401 if exc.status_code == 401 else 400,
            )
        stored = [service.record_event(session, account, event) for event in events]
    accepted = [event_id for event_id in stored if event_id is not None]
    log.info(f"{channel}.webhook.received", events=len(events), new=len(accepted))
    return JSONResponse({"received": len(events), "new": len(accepted)})
