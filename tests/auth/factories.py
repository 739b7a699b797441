"""Keyword-only factories for auth tests."""

from __future__ import annotations

from riff.auth.models import Role, User
from riff.auth.service import create_user
from riff.core.db import Database

PASSWORD = "correct horse battery"


def persist_user(
    database: Database,
    username: str = "alice",
    *,
    password: str = PASSWORD,
    role: Role = Role.STAFF,
    is_active: bool = True,
) -> User:
    with database.session() as session:
        user = create_user(session, username=username, password=password, role=role)
        user.is_active = is_active
    return user
