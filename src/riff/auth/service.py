"""Users and API tokens. Services flush, the caller's unit of work commits."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.auth.models import ApiToken, Role, User
from riff.core.errors import Conflict, ValidationFailed
from riff.core.security import hash_api_token, hash_password, new_api_token

MIN_PASSWORD_LENGTH = 8


def create_user(session: Session, *, username: str, password: str, role: Role, email: str | None = None) -> User:
    username = username.strip()
    if not username:
        raise ValidationFailed("username must not be empty", field="username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if session.execute(sa.select(User.id).where(User.username == username)).first():
        raise Conflict(f"user {username!r} already exists", field="username")
    user = User(username=username, email=email, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def create_api_token(
    session: Session, user: User, *, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the stored row and the plaintext token, which is shown once and never stored."""
    plaintext = new_api_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_api_token(plaintext),
        prefix=plaintext[:12],
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, plaintext


def count_users(session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count(User.id))).scalar_one())
