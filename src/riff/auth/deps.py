"""Who is calling: a bearer API token (scripts) or the session cookie (web UI).

The auth gate middleware resolves the caller once per request (``resolve_user``) and caches it on
``request.state.user``; these dependencies then only check roles. They also work without the gate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.orm import Session, make_transient_to_detached
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from riff.auth import sessions
from riff.auth.consts import SESSION_USER_KEY
from riff.auth.models import Role, User
from riff.auth.service import TokenGrant, token_grant, touch_api_token
from riff.core import generations
from riff.core.clock import utcnow
from riff.core.errors import Forbidden, Unauthenticated
from riff.core.generations import GenerationCache
from riff.core.security import hash_api_token

__all__ = [
    "SESSION_USER_KEY",
    "CurrentUser",
    "Owner",
    "Writer",
    "bearer_token",
    "client_ip",
    "current_user",
    "require_owner",
    "remember_generations",
    "request_generations",
    "require_writer",
    "resolve_user",
]

# Far longer than any token we issue; refusing early keeps junk headers from costing a hash + query.
MAX_BEARER_TOKEN_LENGTH = 256
INVALID_TOKEN_MESSAGE = "invalid, expired or revoked API token"
GENERATIONS_STATE_KEY = "generations"


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token from ``Authorization: Bearer ...`` ('' when the scheme is Bearer but empty), else None."""
    header = connection.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip()


def client_ip(connection: HTTPConnection) -> str:
    """The peer address. Behind a reverse proxy run uvicorn with ``--proxy-headers`` and
    ``--forwarded-allow-ips`` so this is the browser's address, not the proxy's."""
    return connection.client.host if connection.client else "unknown"


@dataclass(frozen=True, slots=True)
class _KnownCaller:
    """A resolved caller as cached: the user's column values (a fresh User is built from them for
    every request, so no two requests ever share a mutable ORM object) and, for tokens, the grant."""

    user_values: dict[str, Any]
    grant: TokenGrant | None = None


_USER_COLUMNS = [attr.key for attr in sa.inspect(User).column_attrs]


def _known(user: User, grant: TokenGrant | None = None) -> _KnownCaller:
    return _KnownCaller({key: getattr(user, key) for key in _USER_COLUMNS}, grant)


def _revive(known: _KnownCaller) -> User:
    user = User(**known.user_values)
    make_transient_to_detached(user)  # a detached row, as if loaded and expunged
    return user


def _auth_cache(connection: HTTPConnection) -> GenerationCache[tuple[str, Any], _KnownCaller] | None:
    return getattr(connection.app.state, "auth_cache", None)


def remember_generations(connection: HTTPConnection, current: generations.Generations) -> None:
    connection.scope.setdefault("state", {})[GENERATIONS_STATE_KEY] = current


def request_generations(connection: HTTPConnection) -> generations.Generations | None:
    """The change generations read when this request was authenticated (before any of its data)."""
    state = connection.scope.get("state") or {}
    found = state.get(GENERATIONS_STATE_KEY)
    return found if isinstance(found, generations.Generations) else None


def _caller_for_token(
    connection: HTTPConnection, session: Session, token: str, auth_generation: int | None, now: dt.datetime
) -> _KnownCaller:
    if not 0 < len(token) <= MAX_BEARER_TOKEN_LENGTH:
        raise Unauthenticated(INVALID_TOKEN_MESSAGE)
    cache = _auth_cache(connection)
    key = ("token", hash_api_token(token))
    known = cache.get(key, auth_generation) if cache is not None else None
    if known is None or known.grant is None or known.grant.expired(now):
        found = token_grant(session, token, now)
        if found is None:
            if cache is not None:
                cache.discard(key)
            raise Unauthenticated(INVALID_TOKEN_MESSAGE)
        grant, user = found
        known = _known(user, grant)
        if cache is not None:
            cache.put(key, auth_generation, known)
    if not known.user_values["is_active"]:
        raise Unauthenticated(INVALID_TOKEN_MESSAGE)
    return known


def _caller_for_session(
    connection: HTTPConnection, session: Session, auth_generation: int | None
) -> _KnownCaller | None:
    user_id = sessions.session_user_id(connection)
    if user_id is None:
        return None
    cache = _auth_cache(connection)
    key = ("session", user_id)
    known = cache.get(key, auth_generation) if cache is not None else None
    if known is None:
        user = session.get(User, user_id)
        if user is None:
            return None  # deleted user
        known = _known(user)
        if cache is not None:
            cache.put(key, auth_generation, known)
    return known


def resolve_user(connection: HTTPConnection) -> User | None:
    """The active user behind this request, or None when there are no credentials at all.

    A bearer header wins over the cookie (scripts never depend on a browser session). A bearer
    token that is unknown, revoked or expired raises ``Unauthenticated`` rather than falling back.
    The same read also records the change generations for the request (``request_generations``);
    a caller already resolved at the current auth generation costs no further query.
    Blocking (database) — call it from a worker thread in async code.
    """
    database = connection.app.state.database
    token = bearer_token(connection)
    now = utcnow()
    # A bare connection, not a session: when the caller is cached this one read is all it costs.
    with database.read_connection() as conn, Session(bind=conn) as session:
        current = generations.read(conn)
        remember_generations(connection, current)
        if token is not None:
            known = _caller_for_token(connection, session, token, current.auth, now)
        else:
            found = _caller_for_session(connection, session, current.auth)
            if found is None:
                return None
            known = found
    user = _revive(known)
    if known.grant is not None:
        touch_api_token(database, known.grant, now)
        return user
    # The password changed since this session began, or the account was deactivated: no user.
    if not sessions.session_matches(connection, user) or not user.is_active:
        return None
    return user


async def current_user(request: Request) -> User:
    """Async so that a request the auth gate has already resolved costs no thread-pool hop."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    user = await run_in_threadpool(resolve_user, request)
    if user is None:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>' or log in")
    request.state.user = user
    return user


async def require_writer(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role == Role.READ_ONLY:
        raise Forbidden("your role is read-only")
    return user


async def require_owner(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != Role.OWNER:
        raise Forbidden("only an owner may do this")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(require_writer)]
Owner = Annotated[User, Depends(require_owner)]
