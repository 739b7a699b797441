"""Users, API tokens and logins. Services flush, the caller's unit of work commits.

Two functions own their transactions and say so: ``authenticate`` (a failed login must be recorded
even though the login itself fails) and ``ensure_first_owner`` (called once by ``riff up``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.auth.consts import (
    API_TOKEN_MAX_EXPIRY_DAYS,
    GENERATED_PASSWORD_BYTES,
    IP_MAX_LENGTH,
    LOGIN_ATTEMPT_RETENTION_SECONDS,
    MIN_PASSWORD_LENGTH,
    TOKEN_TOUCH_INTERVAL_SECONDS,
    USERNAME_MAX_LENGTH,
)
from riff.auth.models import ApiToken, LoginAttempt, Role, User
from riff.auth.repository import ApiTokenRepository, LoginAttemptRepository, UserRepository
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.errors import Conflict, NotFound, TooManyRequests, Unauthenticated, ValidationFailed
from riff.core.logging import get_logger
from riff.core.security import hash_api_token, hash_password, new_api_token, verify_password
from riff.core.settings import Settings

log = get_logger(__name__)

FIRST_OWNER_USERNAME = "owner"
WRONG_CREDENTIALS_MESSAGE = "wrong username or password"


# ---- passwords --------------------------------------------------------------------------------


def generate_password() -> str:
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


@functools.cache
def _dummy_password_hash() -> str:
    # Unknown usernames are verified against this, so they cost the same argon2 time as real ones
    # and response timing does not reveal which usernames exist.
    return hash_password(secrets.token_urlsafe(16))


def session_fingerprint(user: User, master_key: bytes) -> str:
    """A short MAC of the user's password hash, stored in the session cookie.

    The cookie is signed, not encrypted, so the hash itself never goes into it. When the password
    changes the fingerprint no longer matches and every other session of that user ends.
    """
    key = hashlib.sha256(b"riff.session-auth\x00" + master_key).digest()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


# ---- users ------------------------------------------------------------------------------------


def create_user(
    session: Session, *, username: str, password: str, role: Role, email: str | None = None
) -> User:
    username = username.strip()
    if not username:
        raise ValidationFailed("username must not be empty", field="username")
    if len(username) > USERNAME_MAX_LENGTH:
        raise ValidationFailed(f"username must be at most {USERNAME_MAX_LENGTH} characters", field="username")
    check_password_strength(password)
    users = UserRepository(session)
    if users.get_by_username(username) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    user = User(
        username=username, email=email, password_hash=hash_password(password), role=role, is_active=True
    )
    users.create(user)
    log.info("auth.user.create.success", user_id=user.id, username=username, role=role.value)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = UserRepository(session).get(user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def get_user_by_username(session: Session, username: str) -> User:
    user = UserRepository(session).get_by_username(username.strip())
    if user is None:
        raise NotFound(f"user {username!r} not found", field="username")
    return user


def list_users(session: Session) -> Sequence[User]:
    return UserRepository(session).list_all()


def count_users(session: Session) -> int:
    return UserRepository(session).count_all()


def set_password(session: Session, user: User, password: str) -> None:
    check_password_strength(password)
    user.password_hash = hash_password(password)
    session.flush()
    log.info("auth.user.password.changed", user_id=user.id)


def update_user(
    session: Session,
    user: User,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change role, active flag and/or password. The last active owner can be neither demoted nor
    deactivated: that would leave nobody able to manage users."""
    loses_ownership = (
        user.role == Role.OWNER
        and user.is_active
        and ((role is not None and role != Role.OWNER) or is_active is False)
    )
    if loses_ownership and UserRepository(session).count_active_owners() <= 1:
        raise Conflict(
            "cannot demote or deactivate the last active owner",
            field="role" if role is not None else "is_active",
        )
    if password is not None:
        set_password(session, user, password)
    if role is not None:
        user.role = role
    if is_active is not None:
        user.is_active = is_active
    session.flush()
    log.info("auth.user.update.success", user_id=user.id, role=user.role.value, is_active=user.is_active)
    return user


def ensure_first_owner(database: Database) -> str | None:
    """On an empty users table, create user ``owner`` and return its one-time password (else None).

    Owns its transaction: ``riff up`` calls it once before serving.
    """
    password = generate_password()
    try:
        with database.session() as session:
            if count_users(session) > 0:
                return None
            create_user(session, username=FIRST_OWNER_USERNAME, password=password, role=Role.OWNER)
    except sa.exc.IntegrityError:
        return None  # another process created it at the same moment
    return password


# ---- API tokens -------------------------------------------------------------------------------


def token_expiry(days: int | None) -> dt.datetime | None:
    if days is None:
        return None
    if not 1 <= days <= API_TOKEN_MAX_EXPIRY_DAYS:
        raise ValidationFailed(
            f"expiry must be between 1 and {API_TOKEN_MAX_EXPIRY_DAYS} days", field="expires_in_days"
        )
    return utcnow() + dt.timedelta(days=days)


def create_api_token(
    session: Session, user: User, *, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Returns the stored row and the plaintext token, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationFailed("token name must not be empty", field="name")
    plaintext = new_api_token()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_api_token(plaintext),
        prefix=plaintext[:12],
        expires_at=expires_at,
    )
    ApiTokenRepository(session).create(token)
    log.info("auth.token.create.success", token_id=token.id, user_id=user.id, prefix=token.prefix)
    return token, plaintext


def list_api_tokens(session: Session, user: User) -> Sequence[ApiToken]:
    return ApiTokenRepository(session).list_for_user(user.id)


def list_all_api_tokens(session: Session) -> Sequence[tuple[ApiToken, User]]:
    return ApiTokenRepository(session).list_all_with_users()


def revoke_api_token(session: Session, token_id: int, *, actor: User | None = None) -> ApiToken:
    """Revoke a token. With ``actor``, only its own tokens (or any, for an owner); others' tokens
    look absent (404), so ids reveal nothing. Revoking twice keeps the first revocation time."""
    token = ApiTokenRepository(session).get(token_id)
    if token is None or (actor is not None and actor.role != Role.OWNER and token.user_id != actor.id):
        raise NotFound(f"API token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        log.info("auth.token.revoke.success", token_id=token.id, user_id=token.user_id)
    return token


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a valid bearer token stands for, as read at one moment (safe to share between threads)."""

    token_id: int
    user_id: int
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def needs_touch(self, now: dt.datetime) -> bool:
        return (
            self.last_used_at is None
            or (now - self.last_used_at).total_seconds() > TOKEN_TOUCH_INTERVAL_SECONDS
        )


def token_grant(session: Session, plaintext: str, now: dt.datetime) -> tuple[TokenGrant, User] | None:
    """The grant and user behind a valid bearer token, or None for unknown, revoked or expired."""
    found = ApiTokenRepository(session).get_with_user_by_hash(hash_api_token(plaintext))
    if found is None:
        return None
    token, user = found
    grant = TokenGrant(
        token_id=token.id, user_id=user.id, expires_at=token.expires_at, last_used_at=token.last_used_at
    )
    if token.revoked_at is not None or grant.expired(now):
        return None
    return grant, user


def touch_api_token(database: Database, grant: TokenGrant, now: dt.datetime) -> None:
    """Stamp last-used, in its own short write, at most once per TOKEN_TOUCH_INTERVAL_SECONDS."""
    if grant.needs_touch(now):
        with database.session() as session:
            ApiTokenRepository(session).touch(grant.token_id, now)


def user_for_api_token(database: Database, plaintext: str) -> User | None:
    """The active-or-not user behind a valid bearer token, or None for unknown, revoked or expired.

    Reads in a read-only scope so API reads never take SQLite's write lock; the last-used stamp is
    written separately and at most once per TOKEN_TOUCH_INTERVAL_SECONDS.
    """
    now = utcnow()
    with database.read_session() as session:
        found = token_grant(session, plaintext, now)
        if found is None:
            return None
        grant, user = found
        session.expunge(user)
    touch_api_token(database, grant, now)
    return user


# ---- login ------------------------------------------------------------------------------------


def _seconds_until_allowed(
    failures: list[dt.datetime], limit: int, window: dt.timedelta, now: dt.datetime
) -> int:
    """0 when fewer than ``limit`` failures are in the window; else seconds until enough age out."""
    if len(failures) < limit:
        return 0
    # Count drops below the limit once the (len - limit + 1)-th oldest failure leaves the window.
    frees_at = failures[len(failures) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))


def login_retry_after(session: Session, *, username: str, ip: str, settings: Settings) -> int:
    """Seconds the caller must wait before trying to log in again (0: may try now).

    Counted per account (reset by a success) and per IP (not reset), each against
    ``login_max_attempts`` failures within ``login_window_seconds``.
    """
    now = utcnow()
    window = dt.timedelta(seconds=settings.login_window_seconds)
    attempts = LoginAttemptRepository(session)
    by_account = attempts.failure_times_for_username(username, now - window)
    by_ip = attempts.failure_times_for_ip(ip, now - window)
    return max(
        _seconds_until_allowed(by_account, settings.login_max_attempts, window, now),
        _seconds_until_allowed(by_ip, settings.login_max_attempts, window, now),
    )


def authenticate(database: Database, *, username: str, password: str, ip: str, settings: Settings) -> User:
    """Check a username and password, with throttling. Returns the (detached) user.

    Raises ``TooManyRequests`` (before looking at the password, so even the right one is refused
    while throttled) or ``Unauthenticated`` with one message for every kind of failure. Owns its
    transactions: the attempt is recorded and committed whatever the outcome.
    """
    username = username.strip()[:USERNAME_MAX_LENGTH]
    ip = (ip or "unknown")[:IP_MAX_LENGTH]
    with database.read_session() as session:
        retry_after = login_retry_after(session, username=username, ip=ip, settings=settings)
        if retry_after:
            log.warning("auth.login.throttled", username=username, ip=ip, retry_after_seconds=retry_after)
            raise TooManyRequests(
                f"too many failed logins; try again in {retry_after} seconds", retry_after_seconds=retry_after
            )
        user = UserRepository(session).get_by_username(username)
        if user is not None:
            session.expunge(user)
    # Outside any transaction: argon2 is deliberately slow and must not hold SQLite's write lock.
    password_ok = verify_password(
        password, user.password_hash if user is not None else _dummy_password_hash()
    )
    success = password_ok and user is not None and user.is_active
    now = utcnow()
    with database.session() as session:
        attempts = LoginAttemptRepository(session)
        attempts.create(LoginAttempt(username=username, ip=ip, success=success, at=now), flush=False)
        if success and user is not None:
            stored = UserRepository(session).get(user.id)
            if stored is not None:
                stored.last_login_at = now
        retention = max(settings.login_window_seconds, LOGIN_ATTEMPT_RETENTION_SECONDS)
        attempts.delete_older_than(now - dt.timedelta(seconds=retention))
    if not success or user is None:
        reason = "unknown_user" if user is None else ("inactive" if password_ok else "wrong_password")
        log.info("auth.login.failed", username=username, ip=ip, reason=reason)
        raise Unauthenticated(WRONG_CREDENTIALS_MESSAGE)
    user.last_login_at = now
    log.info("auth.login.success", user_id=user.id, username=username, ip=ip)
    return user
