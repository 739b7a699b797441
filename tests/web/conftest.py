"""Fixtures for the HTML shell: a user, and a browser-like client logged in through the form."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from riff.auth.models import Role
from riff.auth.service import create_user
from riff.core.db import Database

from .pages import PASSWORD, USERNAME, csrf_from


@pytest.fixture
def shopkeeper(database: Database) -> str:
    with database.session() as session:
        create_user(session, username=USERNAME, password=PASSWORD, role=Role.STAFF)
    return USERNAME


@pytest.fixture
def form_login() -> Callable[..., str]:
    """``form_login(client)`` logs in through GET+POST /login; returns the session's CSRF token."""

    def _login(client: TestClient, username: str = USERNAME, password: str = PASSWORD) -> str:
        token = csrf_from(client.get("/login").text)
        response = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return csrf_from(client.get("/").text)

    return _login
