"""Who is calling: a bearer API token (scripts) or the session cookie (web UI)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from riff.auth.models import ApiToken, Role, User
from riff.core.clock import utcnow
from riff.core.errors import Forbidden, Unauthenticated
from riff.core.security import hash_api_token

SESSION_USER_KEY = "user_id"


def _user_from_token(request: Request, token: str) -> User | None:
    database = request.app.state.database
    with database.session() as session:
        row = session.execute(
            sa.select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == hash_api_token(token))
        ).one_or_none()
        if row is None:
            return None
        api_token, user = row
        now = utcnow()
        if api_token.revoked_at is not None or (api_token.expires_at and api_token.expires_at <= now):
            return None
        # Touch at most once a minute: a busy script should not turn every read into a write.
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            api_token.last_used_at = now
        session.expunge(user)
        return user


def _user_from_session(request: Request) -> User | None:
    if "session" not in request.scope:
        return None
    user_id = request.session.get(SESSION_USER_KEY)
    if not user_id:
        return None
    database = request.app.state.database
    with database.read_session() as session:
        user = session.get(User, int(user_id))
        if user is not None:
            session.expunge(user)
        return user


def current_user(request: Request) -> User:
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    header = request.headers.get("authorization", "")
    user: User | None = None
    if header.lower().startswith("bearer "):
        user = _user_from_token(request, header[7:].strip())
        if user is None:
            raise Unauthenticated("invalid, expired or revoked API token")
    else:
        user = _user_from_session(request)
    if user is None or not user.is_active:
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
