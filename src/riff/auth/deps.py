"""Who is calling: a bearer API token (scripts) or the session cookie (web UI).

The auth gate middleware resolves the caller once per request (``resolve_user``) and caches it on
``request.state.user``; these dependencies then only check roles. They also work without the gate.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from riff.auth import sessions
from riff.auth.consts import SESSION_USER_KEY
from riff.auth.models import Role, User
from riff.auth.service import user_for_api_token
from riff.core.errors import Forbidden, Unauthenticated

__all__ = [
    "SESSION_USER_KEY",
    "CurrentUser",
    "Owner",
    "Writer",
    "bearer_token",
    "client_ip",
    "current_user",
    "require_owner",
    "require_writer",
    "resolve_user",
]

# Far longer than any token we issue; refusing early keeps junk headers from costing a hash + query.
MAX_BEARER_TOKEN_LENGTH = 256


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


def _user_from_session(connection: HTTPConnection) -> User | None:
    user_id = sessions.session_user_id(connection)
    if user_id is None:
        return None
    with connection.app.state.database.read_session() as session:
        user = session.get(User, user_id)
        if user is not None:
            session.expunge(user)
    if user is None or not sessions.session_matches(connection, user):
        return None  # deleted user, or the password changed since this session began
    return user


def resolve_user(connection: HTTPConnection) -> User | None:
    """The active user behind this request, or None when there are no credentials at all.

    A bearer header wins over the cookie (scripts never depend on a browser session). A bearer
    token that is unknown, revoked or expired raises ``Unauthenticated`` rather than falling back.
    Blocking (database) — call it from a worker thread in async code.
    """
    token = bearer_token(connection)
    if token is not None:
        user = (
            user_for_api_token(connection.app.state.database, token)
            if 0 < len(token) <= MAX_BEARER_TOKEN_LENGTH
            else None
        )
        if user is None or not user.is_active:
            raise Unauthenticated("invalid, expired or revoked API token")
        return user
    user = _user_from_session(connection)
    return user if user is not None and user.is_active else None


def current_user(request: Request) -> User:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    user = resolve_user(request)
    if user is None:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>' or log in")
    request.state.user = user
    return user


def require_writer(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role == Role.READ_ONLY:
        raise Forbidden("your role is read-only")
    return user


def require_owner(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != Role.OWNER:
        raise Forbidden("only an owner may do this")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
Writer = Annotated[User, Depends(require_writer)]
Owner = Annotated[User, Depends(require_owner)]
