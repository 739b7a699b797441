"""JSON auth API: session login/logout, personal API tokens, and user management (owners)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response, status

from riff.auth import service, sessions
from riff.auth.consts import CSRF_HEADER
from riff.auth.deps import CurrentUser, Owner, bearer_token, client_ip
from riff.auth.models import ApiToken, User
from riff.auth.schemas import (
    LoginRequest,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
    UserWritten,
)
from riff.core.deps import AppSettings, DbSession, ReadSession, get_database
from riff.core.errors import ValidationFailed

router = APIRouter(tags=["auth"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in, or a bad API token"},
    403: {"description": "Role not allowed, or missing CSRF header on a cookie-authenticated call"},
}


# ---- session ----------------------------------------------------------------------------------


@router.post(
    "/api/auth/login",
    response_model=UserRead,
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many failed logins; see Retry-After"},
    },
)
def login(body: LoginRequest, request: Request, response: Response, settings: AppSettings) -> User:
    """Log in with username and password: sets the session cookie. Later unsafe calls made with
    that cookie must send the CSRF token returned in the ``X-CSRF-Token`` response header."""
    user = service.authenticate(
        get_database(request),
        username=body.username,
        password=body.password.get_secret_value(),
        ip=client_ip(request),
        settings=settings,
    )
    sessions.start_session(request, user)
    response.headers[CSRF_HEADER] = sessions.csrf_token(request)
    return user


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def logout(request: Request, _user: CurrentUser) -> Response:
    sessions.end_session(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/auth/me", response_model=UserRead, responses=_ERRORS)
def me(request: Request, response: Response, user: CurrentUser) -> User:
    if bearer_token(request) is None:
        response.headers[CSRF_HEADER] = sessions.csrf_token(request)
    return user


# ---- API tokens (each user manages their own) ----------------------------------------------------


@router.post(
    "/api/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, responses=_ERRORS
)
def create_token(body: TokenCreate, user: CurrentUser, session: DbSession) -> dict[str, Any]:
    """Create an API token for yourself. The secret is in this response only; store it now."""
    token, plaintext = service.create_api_token(
        session, user, name=body.name, expires_at=service.token_expiry(body.expires_in_days)
    )
    return {**TokenRead.model_validate(token).model_dump(), "token": plaintext}


@router.get("/api/tokens", response_model=list[TokenRead], responses=_ERRORS)
def list_tokens(user: CurrentUser, session: ReadSession) -> Sequence[ApiToken]:
    return service.list_api_tokens(session, user)


@router.delete(
    "/api/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_ERRORS, 404: {"description": "No such token of yours"}},
)
def revoke_token(token_id: int, user: CurrentUser, session: DbSession) -> Response:
    service.revoke_api_token(session, token_id, actor=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- users (owner only) -------------------------------------------------------------------------


def _password_choice(password: str | None, generate: bool) -> tuple[str | None, str | None]:
    """(password to set, generated password to show once)."""
    if password is not None and generate:
        raise ValidationFailed("give a password or set generate_password, not both", field="password")
    if generate:
        generated = service.generate_password()
        return generated, generated
    return password, None


@router.get("/api/users", response_model=list[UserRead], responses=_ERRORS)
def list_users(_owner: Owner, session: ReadSession) -> Sequence[User]:
    return service.list_users(session)


@router.get("/api/users/{user_id}", response_model=UserRead, responses=_ERRORS)
def get_user(user_id: int, _owner: Owner, session: ReadSession) -> User:
    return service.get_user(session, user_id)


@router.post(
    "/api/users",
    response_model=UserWritten,
    status_code=status.HTTP_201_CREATED,
    responses={**_ERRORS, 409: {"description": "Username taken"}},
)
def create_user(body: UserCreate, _owner: Owner, session: DbSession) -> dict[str, Any]:
    supplied = body.password.get_secret_value() if body.password is not None else None
    password, generated = _password_choice(supplied, body.generate_password)
    if password is None:
        raise ValidationFailed("give a password or set generate_password", field="password")
    user = service.create_user(
        session, username=body.username, password=password, role=body.role, email=body.email
    )
    return {**UserRead.model_validate(user).model_dump(), "generated_password": generated}


@router.patch(
    "/api/users/{user_id}",
    response_model=UserWritten,
    responses={**_ERRORS, 409: {"description": "Would leave no active owner"}},
)
def update_user(user_id: int, body: UserUpdate, _owner: Owner, session: DbSession) -> dict[str, Any]:
    """Change a user's role or active flag, or reset their password (which ends their sessions)."""
    supplied = body.password.get_secret_value() if body.password is not None else None
    password, generated = _password_choice(supplied, body.generate_password)
    user = service.update_user(
        session,
        service.get_user(session, user_id),
        role=body.role,
        is_active=body.is_active,
        password=password,
    )
    return {**UserRead.model_validate(user).model_dump(), "generated_password": generated}
