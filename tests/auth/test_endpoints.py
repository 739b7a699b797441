"""The JSON auth API over HTTP: who may call what, tokens, users, sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from riff.auth.deps import Writer
from riff.auth.models import ApiToken, User
from riff.core.clock import FrozenClock
from riff.core.db import Database

from .factories import PASSWORD


def _error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def _bearer(app: FastAPI, token: str) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


class TestAuthentication:
    def test_no_credentials_is_401(self, client: TestClient) -> None:
        for path in ("/api/auth/me", "/api/tokens", "/api/users", "/api/nothing-here"):
            response = client.get(path)
            assert response.status_code == 401, path
            assert _error_code(response) == "unauthenticated"
            assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_invalid_token_is_401(self, client: TestClient) -> None:
        for header in ("Bearer riff_not-a-real-token-at-all-000000", "Bearer ", "bearer x" * 100):
            response = client.get("/api/auth/me", headers={"Authorization": header})
            assert response.status_code == 401, header
            assert "token" in response.json()["error"]["message"]

    def test_valid_token(self, make_client: Callable[..., TestClient]) -> None:
        response = make_client("staff", username="sam").get("/api/auth/me")
        assert response.status_code == 200
        assert response.json()["username"] == "sam"
        assert response.json()["role"] == "staff"
        assert "password_hash" not in response.json()

    def test_revoked_token_is_401(self, app: FastAPI, owner_client: TestClient) -> None:
        created = owner_client.post("/api/tokens", json={"name": "script"}).json()
        script = _bearer(app, created["token"])
        assert script.get("/api/auth/me").status_code == 200
        assert owner_client.delete(f"/api/tokens/{created['id']}").status_code == 204
        response = script.get("/api/auth/me")
        assert response.status_code == 401
        assert "revoked" in response.json()["error"]["message"]

    def test_expired_token_is_401(
        self, app: FastAPI, owner_client: TestClient, frozen_clock: FrozenClock
    ) -> None:
        created = owner_client.post("/api/tokens", json={"name": "short", "expires_in_days": 1}).json()
        script = _bearer(app, created["token"])
        frozen_clock.advance(hours=23)
        assert script.get("/api/auth/me").status_code == 200
        frozen_clock.advance(hours=2)
        assert script.get("/api/auth/me").status_code == 401

    def test_inactive_users_token_is_401(
        self, make_client: Callable[..., TestClient], database: Database
    ) -> None:
        staff = make_client("staff", username="leaver")
        with database.session() as session:
            user = session.query(User).filter_by(username="leaver").one()
            user.is_active = False
        assert staff.get("/api/auth/me").status_code == 401


class TestRoles:
    @pytest.fixture
    def app(self, app: FastAPI) -> FastAPI:
        # A staff-level write, to exercise the Writer dependency through HTTP.
        probe = APIRouter()

        @probe.post("/api/probe/write")
        def write(user: Writer) -> dict[str, str]:
            return {"written_by": user.username}

        app.include_router(probe)
        return app

    def test_writer_endpoint(self, make_client: Callable[..., TestClient]) -> None:
        for role, status in [("owner", 200), ("staff", 200), ("read_only", 403)]:
            response = make_client(role).post("/api/probe/write")
            assert response.status_code == status, role
        assert _error_code(response) == "forbidden"

    def test_user_management_is_owner_only(self, make_client: Callable[..., TestClient]) -> None:
        for role, status in [("owner", 201), ("staff", 403), ("read_only", 403)]:
            client = make_client(role)
            body = {"username": f"new-{role}", "password": "long enough pw", "role": "staff"}
            assert client.post("/api/users", json=body).status_code == status, role
            assert client.get("/api/users").status_code == (200 if role == "owner" else 403), role
            assert client.patch("/api/users/1", json={"role": "owner"}).status_code in (
                (200, 404) if role == "owner" else (403,)
            ), role

    def test_any_role_manages_its_own_tokens(self, make_client: Callable[..., TestClient]) -> None:
        reader = make_client("read_only")
        created = reader.post("/api/tokens", json={"name": "read script"})
        assert created.status_code == 201
        assert reader.delete(f"/api/tokens/{created.json()['id']}").status_code == 204


class TestTokens:
    def test_create_shows_secret_once(self, owner_client: TestClient, database: Database) -> None:
        created = owner_client.post("/api/tokens", json={"name": "stock sync", "expires_in_days": 30})
        assert created.status_code == 201
        body = created.json()
        assert body["token"].startswith("riff_")
        assert body["prefix"] == body["token"][:12]
        assert body["expires_at"] is not None
        listed = owner_client.get("/api/tokens")
        assert body["token"] not in listed.text
        entry = next(t for t in listed.json() if t["id"] == body["id"])
        assert set(entry) == {
            "id", "user_id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at",
        }  # fmt: skip
        with database.read_session() as session:
            stored = session.get(ApiToken, body["id"])
            assert stored is not None and body["token"] not in (stored.token_hash, stored.prefix)

    def test_last_used_is_recorded(self, owner_client: TestClient) -> None:
        tokens = owner_client.get("/api/tokens").json()
        assert tokens[0]["last_used_at"] is not None  # the fixture's own token, just used

    def test_list_shows_only_own_tokens(self, make_client: Callable[..., TestClient]) -> None:
        alice, bob = make_client("staff", username="alice"), make_client("staff", username="bob")
        alice.post("/api/tokens", json={"name": "alice's"})
        names = [t["name"] for t in bob.get("/api/tokens").json()]
        assert "alice's" not in names

    def test_cannot_revoke_someone_elses_token(self, make_client: Callable[..., TestClient]) -> None:
        alice, bob = make_client("staff", username="alice"), make_client("staff", username="bob")
        token_id = alice.post("/api/tokens", json={"name": "alice's"}).json()["id"]
        assert bob.delete(f"/api/tokens/{token_id}").status_code == 404
        assert make_client("owner").delete(f"/api/tokens/{token_id}").status_code == 204

    def test_revoke_unknown_is_404(self, owner_client: TestClient) -> None:
        assert owner_client.delete("/api/tokens/999999").status_code == 404

    def test_bad_input_is_422(self, owner_client: TestClient) -> None:
        for body in ({"name": ""}, {"name": "x", "expires_in_days": 0}, {}):
            assert owner_client.post("/api/tokens", json=body).status_code == 422, body


class TestUsers:
    def test_create_list_update(self, owner_client: TestClient) -> None:
        created = owner_client.post(
            "/api/users", json={"username": "clerk", "password": "a fine password", "role": "read_only"}
        )
        assert created.status_code == 201
        user = created.json()
        assert user["role"] == "read_only" and user["is_active"] is True
        assert user["generated_password"] is None
        assert "clerk" in [u["username"] for u in owner_client.get("/api/users").json()]
        updated = owner_client.patch(f"/api/users/{user['id']}", json={"role": "staff", "is_active": False})
        assert updated.status_code == 200
        assert updated.json()["role"] == "staff" and updated.json()["is_active"] is False

    def test_duplicate_username_is_409(self, owner_client: TestClient) -> None:
        body = {"username": "dup", "password": "a fine password"}
        assert owner_client.post("/api/users", json=body).status_code == 201
        response = owner_client.post("/api/users", json=body)
        assert response.status_code == 409
        assert response.json()["error"]["field"] == "username"

    def test_short_password_is_422(self, owner_client: TestClient) -> None:
        response = owner_client.post("/api/users", json={"username": "x", "password": "short"})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == "password"
        assert "short" not in response.text

    def test_needs_a_password_or_generate(self, owner_client: TestClient) -> None:
        assert owner_client.post("/api/users", json={"username": "x"}).status_code == 422

    def test_generated_password_works_once_shown(self, owner_client: TestClient, client: TestClient) -> None:
        created = owner_client.post("/api/users", json={"username": "gen", "generate_password": True}).json()
        generated = created["generated_password"]
        assert generated and len(generated) >= 12
        login = client.post("/api/auth/login", json={"username": "gen", "password": generated})
        assert login.status_code == 200

    def test_password_reset(
        self, owner_client: TestClient, client: TestClient, make_user: Callable[..., User]
    ) -> None:
        user = make_user("resetme")
        response = owner_client.patch(f"/api/users/{user.id}", json={"password": "brand new password"})
        assert response.status_code == 200
        assert (
            client.post("/api/auth/login", json={"username": "resetme", "password": PASSWORD}).status_code
            == 401
        )
        new = client.post("/api/auth/login", json={"username": "resetme", "password": "brand new password"})
        assert new.status_code == 200

    def test_last_owner_cannot_be_demoted_or_deactivated(self, owner_client: TestClient) -> None:
        me = owner_client.get("/api/auth/me").json()
        for change in ({"role": "staff"}, {"is_active": False}):
            response = owner_client.patch(f"/api/users/{me['id']}", json=change)
            assert response.status_code == 409, change
        other = owner_client.post(
            "/api/users", json={"username": "second-owner", "password": "a fine password", "role": "owner"}
        )
        assert (
            owner_client.patch(f"/api/users/{other.json()['id']}", json={"is_active": False}).status_code
            == 200
        )
        assert owner_client.patch(f"/api/users/{me['id']}", json={"role": "staff"}).status_code == 409

    def test_update_unknown_user_is_404(self, owner_client: TestClient) -> None:
        assert owner_client.patch("/api/users/999999", json={"role": "staff"}).status_code == 404


class TestSessionLogin:
    def test_login_me_logout(
        self, client: TestClient, make_user: Callable[..., User], json_login: Callable[..., str]
    ) -> None:
        make_user("alice")
        response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 200
        assert response.json()["username"] == "alice"
        cookie = response.headers["set-cookie"].lower()
        assert "riff_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert client.get("/api/auth/me").json()["username"] == "alice"
        csrf = response.headers["X-CSRF-Token"]
        assert client.post("/api/auth/logout").status_code == 403  # cookie-authenticated: header needed
        assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert client.get("/api/auth/me").status_code == 401

    def test_wrong_password_and_unknown_user_look_the_same(
        self, client: TestClient, make_user: Callable[..., User]
    ) -> None:
        make_user("alice")
        wrong = client.post("/api/auth/login", json={"username": "alice", "password": "nope nope"})
        unknown = client.post("/api/auth/login", json={"username": "mallory", "password": "nope nope"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert "set-cookie" not in wrong.headers

    def test_inactive_user_cannot_log_in(self, client: TestClient, make_user: Callable[..., User]) -> None:
        make_user("gone", is_active=False)
        assert (
            client.post("/api/auth/login", json={"username": "gone", "password": PASSWORD}).status_code == 401
        )

    def test_login_refuses_non_json_body(self, client: TestClient, make_user: Callable[..., User]) -> None:
        # What a cross-site form could send: it must not log anyone in.
        make_user("alice")
        response = client.post("/api/auth/login", data={"username": "alice", "password": PASSWORD})
        assert response.status_code == 422

    def test_session_write_needs_csrf_header(
        self, client: TestClient, make_user: Callable[..., User], json_login: Callable[..., str]
    ) -> None:
        make_user("alice")
        csrf = json_login(client, "alice")
        refused = client.post("/api/tokens", json={"name": "x"})
        assert refused.status_code == 403
        assert _error_code(refused) == "csrf_failed"
        assert (
            client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "wrong"}).status_code
            == 403
        )
        assert (
            client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}).status_code == 201
        )

    def test_me_hands_out_the_csrf_token(
        self, client: TestClient, make_user: Callable[..., User], json_login: Callable[..., str]
    ) -> None:
        make_user("alice")
        csrf = json_login(client, "alice")
        assert client.get("/api/auth/me").headers["X-CSRF-Token"] == csrf

    def test_password_change_ends_other_sessions(
        self,
        client: TestClient,
        owner_client: TestClient,
        make_user: Callable[..., User],
        json_login: Callable[..., str],
    ) -> None:
        user = make_user("alice")
        json_login(client, "alice")
        assert client.get("/api/auth/me").status_code == 200
        owner_client.patch(f"/api/users/{user.id}", json={"password": "another password"})
        assert client.get("/api/auth/me").status_code == 401

    def test_deactivation_ends_sessions(
        self,
        client: TestClient,
        owner_client: TestClient,
        make_user: Callable[..., User],
        json_login: Callable[..., str],
    ) -> None:
        user = make_user("alice")
        json_login(client, "alice")
        owner_client.patch(f"/api/users/{user.id}", json={"is_active": False})
        assert client.get("/api/auth/me").status_code == 401

    def test_bearer_wins_over_cookie(
        self,
        client: TestClient,
        make_user: Callable[..., User],
        json_login: Callable[..., str],
    ) -> None:
        make_user("alice")
        json_login(client, "alice")
        response = client.get(
            "/api/auth/me", headers={"Authorization": "Bearer riff_wrong-token-xxxxxxxxxxxxxxxx"}
        )
        assert response.status_code == 401


class TestSecretsStayOut:
    SECRET = "Sup3r-Secret-Passw0rd"

    def test_passwords_never_in_responses_or_logs(
        self,
        owner_client: TestClient,
        client: TestClient,
        caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        caplog.set_level(logging.DEBUG)
        seen: list[str] = []
        created = owner_client.post("/api/users", json={"username": "vic", "password": self.SECRET})
        seen.append(created.text)
        user_id = created.json()["id"]
        seen.append(owner_client.patch(f"/api/users/{user_id}", json={"password": self.SECRET + "2"}).text)
        seen.append(client.post("/api/auth/login", json={"username": "vic", "password": self.SECRET}).text)
        login = client.post("/api/auth/login", json={"username": "vic", "password": self.SECRET + "2"})
        seen.append(login.text)
        seen.append(str(login.headers))
        seen.append(owner_client.get("/api/users").text)
        seen.append(client.post("/api/users", json={"username": "x", "password": self.SECRET}).text)
        seen.append(owner_client.post("/api/users", json={"username": "y", "password": "short"}).text)
        captured = capsys.readouterr()
        logs = caplog.text + captured.out + captured.err
        assert "auth.login.success" in logs and "auth.user.password.changed" in logs  # logging was captured
        for text in [*seen, logs]:
            assert self.SECRET not in text

    def test_token_secret_never_logged(
        self, owner_client: TestClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
    ) -> None:
        caplog.set_level(logging.DEBUG)
        token = owner_client.post("/api/tokens", json={"name": "t"}).json()["token"]
        owner_client.get("/api/tokens")
        captured = capsys.readouterr()
        for text in (caplog.text, captured.out, captured.err):
            assert token not in text
