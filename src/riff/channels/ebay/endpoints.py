"""eBay's own JSON API for the UI: the OAuth token's countdown and the daily call budget.

Both read what the jobs saved on the account (no call to eBay from a web request); ``POST .../budget/refresh``
enqueues ``ebay.refresh_budget`` (GetApiAccessRules).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from riff.auth.deps import current_user, require_writer
from riff.auth.models import User
from riff.channels import service
from riff.channels.ebay import consts, mapping
from riff.channels.ebay.mapping import EbayConfig
from riff.channels.models import ChannelAccount
from riff.core.clock import utcnow
from riff.core.deps import DbSession, ReadSession
from riff.core.security import SecretBox
from riff.jobs import LOW, enqueue

router = APIRouter(tags=["channels", "ebay"])

Reader = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(require_writer)]


def _config(account: ChannelAccount) -> EbayConfig:
    return EbayConfig.model_validate(dict(account.config or {}))


def account_status(box: SecretBox, account: ChannelAccount) -> dict[str, Any]:
    config = _config(account)
    expires_at = config.token_expires_at()
    now = utcnow()
    seconds_left = int((expires_at - now).total_seconds()) if expires_at is not None else None
    try:
        secret_keys = sorted(service.read_secrets(box, account))
    except ValueError:
        secret_keys = []
    budget = mapping.call_budget(config, now)
    return {
        "account_id": account.id,
        "name": account.name,
        "enabled": account.enabled,
        "status": str(account.status),
        "status_message": account.status_message,
        "has_refresh_token": "refresh_token" in secret_keys,
        "token_expires_at": expires_at.isoformat() if expires_at is not None else None,
        "token_seconds_left": max(seconds_left, 0) if seconds_left is not None else None,
        "token_expired": seconds_left is not None and seconds_left <= 0,
        # The access token is refreshed by the next job that needs it; only the refresh token's loss
        # (status needs_attention) needs the user.
        "calls_today": budget["aggregate"]["used"],
        "daily_limit": budget["aggregate"]["limit"],
    }


@router.get("/api/channels/ebay/status")
def status(request: Request, session: ReadSession, _user: Reader) -> list[dict[str, Any]]:
    """Every eBay account: token expiry countdown, account status and today's call count."""
    box = SecretBox(request.app.state.master_key)
    return [account_status(box, account) for account in service.list_accounts(session, consts.SLUG)]


@router.get("/api/channels/ebay/budget")
def budget(session: ReadSession, _user: Reader, account_id: int | None = None) -> dict[str, Any]:
    """Today's Trading API calls per call name: used / limit / remaining."""
    account = service.resolve_account(session, consts.SLUG, account_id)
    return {"account_id": account.id, **mapping.call_budget(_config(account), utcnow())}


@router.post("/api/channels/ebay/budget/refresh", status_code=202)
def refresh_budget(session: DbSession, _user: Writer, account_id: int | None = None) -> dict[str, Any]:
    """Ask eBay for the usage it counted (GetApiAccessRules) in a job."""
    account = service.resolve_account(session, consts.SLUG, account_id)
    job = enqueue(
        session,
        "ebay.refresh_budget",
        channel=consts.SLUG,
        payload={"account_id": account.id},
        priority=LOW,
        coalesce_key=f"ebay.refresh_budget:{account.id}",
    )
    return {"account_id": account.id, "job_id": job.id if job is not None else None}
