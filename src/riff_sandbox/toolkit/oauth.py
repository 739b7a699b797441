"""Client-credentials token endpoints: the checks and bookkeeping the OAuth sandboxes share."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from urllib.parse import parse_qs

from riff_sandbox.toolkit.store import DocumentStore
from riff_sandbox.toolkit.timeutil import isoformat_utc, parse_datetime, utcnow
from riff_sandbox.toolkit.tokens import TOKENS, TokenRegistry


def basic_client_ok(authorization: str, client_id: str, client_secret: str) -> bool:
    """Whether an ``Authorization: Basic`` header carries exactly ``client_id:client_secret``."""
    if not authorization.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(authorization[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False  # garbage is a failed client authentication, not a server error
    return decoded == f"{client_id}:{client_secret}"


def bearer_token_ok(tokens: TokenRegistry, authorization: str, kind: str) -> bool:
    """Whether an ``Authorization: Bearer`` header carries an unexpired token of ``kind`` issued here."""
    if not authorization.lower().startswith("bearer "):
        return False
    record = tokens.get(authorization[7:].strip())
    if record is None or record.get("kind") != kind:
        return False
    expires = record.get("expires_at")
    return bool(expires) and parse_datetime(str(expires)) > utcnow()


def form_fields(body: str) -> dict[str, str]:
    # A form field sent twice counts once, with its first value, like the real endpoints.
    return {k: v[0] for k, v in parse_qs(body).items()}


def store_access_token(tokens: TokenRegistry, token: str, *, kind: str, ttl_seconds: int) -> None:
    expires = utcnow() + timedelta(seconds=ttl_seconds)
    tokens.add(token, kind=kind, expires_at=isoformat_utc(expires), source="oauth")


def expire_access_tokens(store: DocumentStore, kind: str) -> dict[str, int]:
    """Backdates every token of ``kind`` so tests can exercise the client's refresh path."""
    past = isoformat_utc(utcnow() - timedelta(seconds=1))
    expired = 0
    with store.transaction() as tx:
        for record in tx.list(TOKENS):
            if record.get("kind") == kind:
                tx.put(TOKENS, record["token"], {**record, "expires_at": past})
                expired += 1
    return {"expired": expired}
