"""Fixtures for auth tests: users made through the service, and logging in over HTTP."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from riff.auth.models import User
from riff.core.db import Database

from .factories import PASSWORD, persist_user


@pytest.fixture
def make_user(database: Database) -> Callable[..., User]:
    """``make_user("alice", role=Role.OWNER, is_active=True, password=...)``."""
    return functools.partial(persist_user, database)


@pytest.fixture
def json_login() -> Callable[..., str]:
    """``json_login(client, username)`` logs in over the JSON API and returns the CSRF token."""

    def _login(client: TestClient, username: str, password: str = PASSWORD) -> str:
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response.headers["X-CSRF-Token"]

    return _login
