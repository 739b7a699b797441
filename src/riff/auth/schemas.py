"""Request and response bodies of the auth API. Secrets come in as ``SecretStr`` so they never
show up in a repr, a validation error or a log line."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from riff.auth.consts import API_TOKEN_MAX_EXPIRY_DAYS, USERNAME_MAX_LENGTH
from riff.auth.models import Role


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=USERNAME_MAX_LENGTH)
    password: SecretStr = Field(min_length=1, max_length=1024)


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str | None
    role: Role
    is_active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=USERNAME_MAX_LENGTH)
    role: Role = Role.STAFF
    email: str | None = Field(None, max_length=254)
    password: SecretStr | None = Field(None, description="Leave out and set generate_password to get one")
    generate_password: bool = Field(False, description="Generate a one-time password, returned once")


class UserUpdate(BaseModel):
    role: Role | None = None
    is_active: bool | None = None
    password: SecretStr | None = Field(None, description="Reset the password (ends the user's sessions)")
    generate_password: bool = Field(False, description="Reset to a generated password, returned once")


class UserWritten(UserRead):
    generated_password: str | None = Field(
        None, description="Only when generate_password was set; shown this once and never stored"
    )


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    expires_in_days: int | None = Field(None, ge=1, le=API_TOKEN_MAX_EXPIRY_DAYS)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown this once; only its hash is stored")
