"""The HTML shell over HTTP: login page, form login with CSRF, logout, the home page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings

from .pages import PASSWORD, USERNAME, csrf_from

NAV_LABELS = ["Dashboard", "Inventory", "Orders", "Sync", "Jobs", "Reconciliation", "Settings"]


def _post_login(
    client: TestClient, token: str | None, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    data = {"username": USERNAME, "password": password, **extra}
    if token is not None:
        data["csrf_token"] = token
    return client.post("/login", data=data, follow_redirects=False)


class TestLoginPage:
    def test_renders_an_accessible_form(self, client: TestClient) -> None:
        response = client.get("/login")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        assert '<label for="field-username">Username</label>' in html
        assert 'id="field-username" name="username" type="text"' in html
        assert '<label for="field-password">Password</label>' in html
        assert 'type="password"' in html and 'autocomplete="current-password"' in html
        assert csrf_from(html)
        assert 'aria-label="Main"' not in html  # no navigation before login
        assert "/static/htmx.min.js?v=" in html and "/static/riff.css?v=" in html

    def test_logged_in_user_is_sent_on(
        self, client: TestClient, shopkeeper: str, form_login: Callable[..., str]
    ) -> None:
        form_login(client)
        response = client.get("/login?next=/orders", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/orders"

    def test_sandbox_badge(self, app: FastAPI, client: TestClient) -> None:
        assert "SANDBOX" in client.get("/login").text  # RIFF_SANDBOXES defaults to on
        app.state.sandbox_mode = False
        assert "SANDBOX" not in client.get("/login").text


class TestFormLogin:
    def test_success_redirects_home_with_session(self, client: TestClient, shopkeeper: str) -> None:
        response = _post_login(client, csrf_from(client.get("/login").text))
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        cookie = response.headers["set-cookie"].lower()
        assert "riff_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        home = client.get("/")
        assert home.status_code == 200
        assert USERNAME in home.text
        for label in NAV_LABELS:
            assert f">{label}</a>" in home.text
        assert 'aria-current="page">Dashboard' in home.text

    def test_without_csrf_token_is_403(self, client: TestClient, shopkeeper: str) -> None:
        client.get("/login")  # a session exists, but the form does not carry its token
        response = _post_login(client, None)
        assert response.status_code == 403
        assert "expired" in response.text
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_with_wrong_csrf_token_is_403(self, client: TestClient, shopkeeper: str) -> None:
        client.get("/login")
        assert _post_login(client, "forged").status_code == 403

    def test_wrong_password_shows_error(self, client: TestClient, shopkeeper: str) -> None:
        secret_guess = "not-my-password-123"
        response = _post_login(client, csrf_from(client.get("/login").text), password=secret_guess)
        assert response.status_code == 401
        html = response.text
        assert "Wrong username or password." in html
        assert 'role="alert"' in html
        assert f'value="{USERNAME}"' in html  # the username is kept...
        assert secret_guess not in html  # ...the password is not echoed back

    def test_empty_fields(self, client: TestClient) -> None:
        response = client.post("/login", data={"csrf_token": csrf_from(client.get("/login").text)})
        assert response.status_code == 400
        assert "Enter your username and password." in response.text

    def test_next_must_stay_on_site(self, app: FastAPI, shopkeeper: str) -> None:
        # Every shape of off-site URL is covered by test_templating.test_safe_next_url.
        for next_url, location in [("/orders?status=open", "/orders?status=open"), ("//evil.example/", "/")]:
            with TestClient(app) as client:
                response = _post_login(client, csrf_from(client.get("/login").text), next=next_url)
                assert response.headers["location"] == location

    def test_token_from_before_login_is_useless_after(self, client: TestClient, shopkeeper: str) -> None:
        before = csrf_from(client.get("/login").text)
        _post_login(client, before)
        response = client.post("/logout", data={"csrf_token": before}, follow_redirects=False)
        assert response.status_code == 403


class TestThrottledLoginPage:
    @pytest.fixture
    def settings(self, tmp_path: Path, database: Database) -> Settings:
        return Settings(
            data_dir=tmp_path, database_url=database.url, secret_key="test-secret-key", login_max_attempts=2
        )

    def test_shows_429_message(self, client: TestClient, shopkeeper: str, frozen_clock: FrozenClock) -> None:
        token = csrf_from(client.get("/login").text)
        for _ in range(2):
            assert _post_login(client, token, password="wrong password").status_code == 401
        response = _post_login(client, token)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "300"
        assert "Too many failed attempts. Try again in 5 minutes." in response.text
        frozen_clock.advance(seconds=300)
        assert _post_login(client, token).status_code == 303


class TestLoginRequired:
    def test_home_redirects_to_login(self, client: TestClient) -> None:
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"

    def test_deep_link_comes_back_after_login(self, client: TestClient, shopkeeper: str) -> None:
        response = client.get("/inventory?page=2", follow_redirects=False)
        assert response.headers["location"] == "/login?next=%2Finventory%3Fpage%3D2"
        login_page = client.get(response.headers["location"])
        assert 'name="next" value="/inventory?page=2"' in login_page.text
        done = _post_login(client, csrf_from(login_page.text), next="/inventory?page=2")
        assert done.headers["location"] == "/inventory?page=2"

    def test_htmx_request_gets_hx_redirect(self, client: TestClient) -> None:
        response = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
        assert response.status_code == 401
        assert response.headers["HX-Redirect"] == "/login"

    def test_json_routes_say_401_not_redirect(self, client: TestClient) -> None:
        response = client.get("/api/tokens", follow_redirects=False)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"


class TestLogout:
    def test_logout(self, client: TestClient, shopkeeper: str, form_login: Callable[..., str]) -> None:
        token = form_login(client)
        assert client.post("/logout", follow_redirects=False).status_code == 403  # no token
        response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert "You are logged out." in client.get("/login").text
        assert client.get("/", follow_redirects=False).status_code == 303

    def test_htmx_logout_uses_hx_redirect(
        self, client: TestClient, shopkeeper: str, form_login: Callable[..., str]
    ) -> None:
        token = form_login(client)
        response = client.post("/logout", headers={"HX-Request": "true", "X-CSRF-Token": token})
        assert response.status_code == 200
        assert response.headers["HX-Redirect"] == "/login"
