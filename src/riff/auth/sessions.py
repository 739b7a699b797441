"""The browser session: who is logged in, and the CSRF token that goes with it.

The session is Starlette's signed cookie (``riff_session``; HttpOnly, SameSite=Lax, Secure when
``RIFF_SESSION_COOKIE_SECURE``), installed in ``riff.app.create_app``. It holds only the user id,
a fingerprint of the password hash and the CSRF token: nothing secret.
"""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection

from riff.auth.consts import SESSION_AUTH_KEY, SESSION_CSRF_KEY, SESSION_USER_KEY
from riff.auth.models import User
from riff.auth.service import session_fingerprint


def has_session(connection: HTTPConnection) -> bool:
    return "session" in connection.scope


def start_session(connection: HTTPConnection, user: User) -> None:
    """Log ``user`` in. Everything from before (including the CSRF token) is dropped, so a
    session id or token planted before login is worthless after it."""
    session = connection.session
    session.clear()
    session[SESSION_USER_KEY] = user.id
    session[SESSION_AUTH_KEY] = session_fingerprint(user, connection.app.state.master_key)
    session[SESSION_CSRF_KEY] = secrets.token_urlsafe(32)


def end_session(connection: HTTPConnection) -> None:
    if has_session(connection):
        connection.session.clear()


def session_user_id(connection: HTTPConnection) -> int | None:
    if not has_session(connection):
        return None
    user_id = connection.session.get(SESSION_USER_KEY)
    return user_id if isinstance(user_id, int) else None


def session_matches(connection: HTTPConnection, user: User) -> bool:
    expected = session_fingerprint(user, connection.app.state.master_key)
    return secrets.compare_digest(str(connection.session.get(SESSION_AUTH_KEY, "")), expected)


def csrf_token(connection: HTTPConnection) -> str:
    """The session's CSRF token, created on first use (the login page needs one before login)."""
    session = connection.session
    token = session.get(SESSION_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_CSRF_KEY] = token
    return token


def csrf_token_matches(connection: HTTPConnection, presented: str | None) -> bool:
    if not has_session(connection) or not presented:
        return False
    expected = connection.session.get(SESSION_CSRF_KEY)
    if not isinstance(expected, str) or not expected:
        return False
    return secrets.compare_digest(presented.encode(), expected.encode())
