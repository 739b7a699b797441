"""eBay OAuth user tokens: the refresh-token grant against ``POST /identity/v1/oauth2/token``.

A user access token lives 7,200 s; the refresh token about 18 months (api_samples/ebay/oauth_user_token.json).
RIFF refreshes the access token shortly before it expires (and once when eBay refuses it), and the job
saves the new token and its expiry in the account (``pending_account_updates`` on the adapter).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Sequence
from typing import Any

import httpx

from riff.channels.ebay import consts
from riff.channels.errors import (
    AUTH,
    DEFAULT_ERROR_MAPPING,
    AuthExpired,
    ChannelError,
    ErrorKey,
    ErrorResolution,
)
from riff.channels.http import ChannelHttpClient, RequestCounters
from riff.core.clock import utcnow
from riff.core.logging import get_logger

log = get_logger(__name__)

# Every refusal of the token endpoint is the account's problem (a revoked grant, wrong app keys, a bad
# scope), never a validation error of a listing.
OAUTH_ERROR_MAPPING: dict[ErrorKey, ErrorResolution] = dict(DEFAULT_ERROR_MAPPING) | {400: AUTH, 401: AUTH}

DEFAULT_EXPIRES_IN_SECONDS = 7200.0  # a user access token's documented lifetime
SAVE_REFRESH_TOKEN = "`riff channels set <id> --secret refresh_token`"


def _oauth_error(response: httpx.Response) -> tuple[str, str | None]:
    """``{"error", "error_description"}`` -> a message that says what the user has to do."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("error") or f"HTTP {response.status_code}") if isinstance(body, dict) else ""
    description = str(body.get("error_description") or "") if isinstance(body, dict) else ""
    said = f"{code}: {description}" if description else code
    if code == "invalid_grant":
        return (
            f"eBay refused the refresh token ({said}). It was revoked or has expired (refresh tokens last "
            f"about 18 months): sign in to eBay again through the app's consent page and save the new "
            f"refresh token with {SAVE_REFRESH_TOKEN}.",
            "refresh_token",
        )
    if code == "invalid_client":
        return (
            f"eBay refused the application keys ({said}). Check client_id (App ID) and client_secret "
            f"(Cert ID) with `riff channels set <id> --secret client_id --secret client_secret`.",
            "client_id",
        )
    if code == "invalid_scope":
        return (f"eBay refused the OAuth scope ({said}); check the account's `scopes` config.", "scopes")
    return (f"eBay's token endpoint refused the refresh ({said}).", None)


class EbayOAuth:
    """Keeps one account's user access token fresh. Never logs a token."""

    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        refresh_token: str | None,
        access_token: str | None = None,
        expires_at: dt.datetime | None = None,
        scopes: Sequence[str] = consts.DEFAULT_SCOPES,
        base_url: str = consts.DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        counters: RequestCounters | None = None,
        timeout: httpx.Timeout = consts.TOKEN_TIMEOUT,
        refresh_margin_seconds: float = consts.TOKEN_REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._access_token = access_token
        self.expires_at = expires_at
        self.scopes = tuple(scopes)
        self.refresh_margin = dt.timedelta(seconds=refresh_margin_seconds)
        self.refreshed = False
        self._lock = asyncio.Lock()
        # The token endpoint is not a Trading call: no shared rate limiter, its own error table.
        self.http = ChannelHttpClient(
            consts.SLUG,
            base_url,
            headers={"Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            error_mapping=OAUTH_ERROR_MAPPING,
            counters=counters,
            message_parser=_oauth_error,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def can_refresh(self) -> bool:
        return bool(self._refresh_token and self.client_id and self._client_secret)

    def is_fresh(self, now: dt.datetime | None = None) -> bool:
        if not self._access_token:
            return False
        if self.expires_at is None:
            return True  # a token pasted by hand: use it until eBay refuses it
        return self.expires_at - self.refresh_margin > (now or utcnow())

    async def access_token(self) -> str:
        """A usable access token, refreshed first when it is missing or about to expire."""
        if self.is_fresh():
            assert self._access_token is not None
            return self._access_token
        if not self.can_refresh:
            if self._access_token:
                return self._access_token
            raise AuthExpired(
                "the eBay account has no usable token: save refresh_token, client_id and client_secret "
                f"(or an access_token) with {SAVE_REFRESH_TOKEN}.",
                channel=consts.SLUG,
                field="refresh_token",
            )
        return await self.refresh()

    async def refresh(self, *, stale: str | None = None) -> str:
        """Refresh grant. ``stale``: the token a caller saw refused; if another task already replaced it,
        that newer token is returned without a second refresh."""
        async with self._lock:
            if stale is not None and self._access_token and self._access_token != stale and self.is_fresh():
                return self._access_token
            if not self.can_refresh:
                raise AuthExpired(
                    f"eBay refused the access token and RIFF has no refresh token to renew it: save one with "
                    f"{SAVE_REFRESH_TOKEN}.",
                    channel=consts.SLUG,
                    field="refresh_token",
                )
            basic = base64.b64encode(f"{self.client_id}:{self._client_secret}".encode()).decode()
            response = await self.http.request(
                "POST",
                consts.TOKEN_PATH,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._refresh_token or "",
                    "scope": " ".join(self.scopes),
                },
                headers={"Authorization": f"Basic {basic}"},
            )
            body = _json(response)
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise ChannelError(
                    "eBay's token endpoint answered without an access_token", channel=consts.SLUG
                )
            try:
                seconds = float(body.get("expires_in") or DEFAULT_EXPIRES_IN_SECONDS)
            except (TypeError, ValueError):
                seconds = DEFAULT_EXPIRES_IN_SECONDS
            self._access_token = token
            self.expires_at = utcnow() + dt.timedelta(seconds=seconds)
            self.refreshed = True
            log.info("ebay.oauth.refresh.ok", expires_in=seconds)
            return token

    def updates(self) -> tuple[dict[str, Any], dict[str, str]] | None:
        """(config, secrets) to save after a refresh, else None."""
        if not self.refreshed or not self._access_token or self.expires_at is None:
            return None
        return (
            {consts.CONFIG_TOKEN_EXPIRES_AT: self.expires_at.isoformat()},
            {consts.SECRET_ACCESS_TOKEN: self._access_token},
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ChannelError(
            "eBay's token endpoint answered with a body that is not JSON", channel=consts.SLUG
        ) from exc
    return body if isinstance(body, dict) else {}
