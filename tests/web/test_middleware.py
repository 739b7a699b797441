"""Security headers, the auth gate's public list, and CSRF on every unsafe request."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from riff.auth.consts import is_csrf_exempt_path, is_public_path
from riff.web.middleware import SECURITY_HEADERS

from .pages import csrf_from


class TestSecurityHeaders:
    PATHS = ("/health", "/version", "/login", "/", "/api/auth/me", "/static/riff.css", "/no-such-page")

    def test_on_every_response(self, client: TestClient) -> None:
        for path in self.PATHS:
            response = client.get(path, follow_redirects=False)
            for name, value in SECURITY_HEADERS.items():
                assert response.headers[name] == value, (path, name)
            csp = response.headers["Content-Security-Policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp

    def test_on_errors_and_forbidden_posts(self, client: TestClient) -> None:
        response = client.post("/login", data={"username": "x"})
        assert response.status_code == 403
        assert response.headers["X-Frame-Options"] == "DENY"

    def test_html_is_not_cached(self, client: TestClient) -> None:
        assert client.get("/login").headers["Cache-Control"] == "no-store"
        assert "no-store" not in client.get("/static/riff.css").headers.get("Cache-Control", "")


class TestPublicPaths:
    @pytest.mark.parametrize(
        ("path", "public"),
        [
            ("/health", True),
            ("/version", True),
            ("/login", True),
            ("/api/auth/login", True),
            ("/static/htmx.min.js", True),
            ("/api/data", True),
            ("/api/data.json", True),
            ("/api/search", True),
            ("/api/stats", True),
            ("/webhooks/reverb/secret-path-token", True),
            ("/", False),
            ("/loginx", False),
            ("/api/users", False),
            ("/api/auth/me", False),
            ("/docs", False),
            ("/openapi.json", False),
            ("/static", False),
        ],
    )
    def test_the_list(self, path: str, public: bool) -> None:
        assert is_public_path(path) is public

    def test_anonymous_ok(self, client: TestClient) -> None:
        for path in ("/health", "/version", "/login"):
            assert client.get(path, follow_redirects=False).status_code == 200, path

    def test_static_files_are_served_locally(self, client: TestClient) -> None:
        for name, content_type in [
            ("htmx.min.js", "javascript"),
            ("riff.css", "text/css"),
            ("riff.js", "javascript"),
        ]:
            response = client.get(f"/static/{name}")
            assert response.status_code == 200, name
            assert content_type in response.headers["content-type"]

    def test_vendored_htmx_is_version_2(self, client: TestClient) -> None:
        assert 'version:"2.0.11"' in client.get("/static/htmx.min.js").text

    def test_api_docs_need_login(self, client: TestClient) -> None:
        assert client.get("/openapi.json", follow_redirects=False).status_code == 303


class TestCsrf:
    def test_bearer_requests_are_exempt(self, owner_client: TestClient) -> None:
        assert owner_client.post("/api/tokens", json={"name": "script"}).status_code == 201

    def test_multipart_form_field_is_accepted(
        self, client: TestClient, shopkeeper: str, form_login: Callable[..., str]
    ) -> None:
        token = form_login(client)
        response = client.post(
            "/logout",
            data={"csrf_token": token},
            files={"attachment": ("note.txt", b"hello")},
            follow_redirects=False,
        )
        assert response.status_code == 303

    def test_form_body_still_reaches_the_route(self, client: TestClient, shopkeeper: str) -> None:
        # The middleware reads the body to find the token; the route must still see every field.
        token = csrf_from(client.get("/login").text)
        response = client.post(
            "/login",
            data={
                "csrf_token": token,
                "username": shopkeeper,
                "password": "correct horse battery",
                "next": "/jobs",
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/jobs"

    def test_htmx_header_is_accepted(
        self, client: TestClient, shopkeeper: str, form_login: Callable[..., str]
    ) -> None:
        token = form_login(client)
        response = client.post("/logout", headers={"HX-Request": "true", "X-CSRF-Token": token})
        assert response.headers["HX-Redirect"] == "/login"

    def test_every_unsafe_method_is_checked(
        self, client: TestClient, shopkeeper: str, form_login: Callable[..., str]
    ) -> None:
        form_login(client)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = client.request(method, "/api/tokens/1", headers={"Accept": "application/json"})
            assert response.status_code == 403, method
            assert response.json()["error"]["code"] == "csrf_failed"

    def test_exempt_paths(self) -> None:
        assert is_csrf_exempt_path("/api/auth/login")
        assert is_csrf_exempt_path("/webhooks/reverb/secret-path-token")
        assert not is_csrf_exempt_path("/login")
        assert not is_csrf_exempt_path("/api/tokens")

    def test_without_any_session(self, client: TestClient) -> None:
        response = client.post("/login", data={"username": "a", "password": "b", "csrf_token": "guess"})
        assert response.status_code == 403
