"""Login throttling over HTTP: per account and per IP, moved through time with the frozen clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from riff.auth.models import User
from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.settings import Settings

from .factories import PASSWORD

MAX_ATTEMPTS = 3
WINDOW_SECONDS = 300
WRONG = "definitely wrong"


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        secret_key="test-secret-key-not-for-prod",
        login_max_attempts=MAX_ATTEMPTS,
        login_window_seconds=WINDOW_SECONDS,
    )


@pytest.fixture
def client_from(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """``client_from("10.0.0.7")``: a client whose requests come from that address."""
    opened: list[TestClient] = []

    def _make(ip: str) -> TestClient:
        client = TestClient(app, client=(ip, 50000))
        opened.append(client)
        return client

    yield _make
    for client in opened:
        client.close()


def _login(client: TestClient, username: str, password: str) -> int:
    return client.post("/api/auth/login", json={"username": username, "password": password}).status_code


class TestPerAccount:
    def test_locked_after_max_failures_even_with_right_password(
        self, client: TestClient, make_user: Callable[..., User], frozen_clock: FrozenClock
    ) -> None:
        make_user("alice")
        for _ in range(MAX_ATTEMPTS):
            assert _login(client, "alice", WRONG) == 401
            frozen_clock.advance(seconds=10)
        response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "too_many_requests"
        # The first failure (at t=0) leaves the window at t=300; it is now t=30.
        assert response.headers["Retry-After"] == str(WINDOW_SECONDS - 30)
        assert "set-cookie" not in response.headers

        frozen_clock.advance(seconds=WINDOW_SECONDS - 30 - 1)
        assert _login(client, "alice", PASSWORD) == 429
        frozen_clock.advance(seconds=1)
        assert _login(client, "alice", PASSWORD) == 200

    def test_throttled_attempts_do_not_extend_the_lock(
        self, client: TestClient, make_user: Callable[..., User], frozen_clock: FrozenClock
    ) -> None:
        make_user("alice")
        for _ in range(MAX_ATTEMPTS):
            _login(client, "alice", WRONG)
        for _ in range(3):
            frozen_clock.advance(seconds=60)
            assert _login(client, "alice", WRONG) == 429
        frozen_clock.advance(seconds=WINDOW_SECONDS - 180)
        assert _login(client, "alice", PASSWORD) == 200

    def test_success_resets_the_account_counter(
        self,
        client_from: Callable[[str], TestClient],
        make_user: Callable[..., User],
        frozen_clock: FrozenClock,
    ) -> None:
        make_user("alice")
        # Spread over addresses so only the account counter is in play.
        for ip in ("10.0.0.1", "10.0.0.2"):
            assert _login(client_from(ip), "alice", WRONG) == 401
        assert _login(client_from("10.0.0.3"), "alice", PASSWORD) == 200
        for ip in ("10.0.0.4", "10.0.0.5"):
            assert _login(client_from(ip), "alice", WRONG) == 401
        assert _login(client_from("10.0.0.6"), "alice", PASSWORD) == 200

    def test_counts_across_addresses_and_spares_other_accounts(
        self,
        client_from: Callable[[str], TestClient],
        make_user: Callable[..., User],
        frozen_clock: FrozenClock,
    ) -> None:
        make_user("alice")
        make_user("bob")
        for n in range(MAX_ATTEMPTS):
            assert _login(client_from(f"10.0.1.{n}"), "alice", WRONG) == 401
        assert _login(client_from("10.0.1.99"), "alice", PASSWORD) == 429
        assert _login(client_from("10.0.1.99"), "bob", PASSWORD) == 200


class TestPerAddress:
    def test_failures_from_one_address_across_accounts(
        self,
        client_from: Callable[[str], TestClient],
        make_user: Callable[..., User],
        frozen_clock: FrozenClock,
    ) -> None:
        make_user("alice")
        attacker = client_from("203.0.113.9")
        for n in range(MAX_ATTEMPTS):
            assert _login(attacker, f"guess-{n}", WRONG) == 401  # unknown users count too
        response = attacker.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) == WINDOW_SECONDS
        # Alice from her own address is not locked out by someone else's guessing...
        assert _login(client_from("198.51.100.4"), "alice", PASSWORD) == 200
        # ...and the guesser's address is free again once the window has passed.
        frozen_clock.advance(seconds=WINDOW_SECONDS)
        assert _login(attacker, "alice", PASSWORD) == 200

    def test_a_success_does_not_reset_the_address_counter(
        self,
        client_from: Callable[[str], TestClient],
        make_user: Callable[..., User],
        frozen_clock: FrozenClock,
    ) -> None:
        make_user("mallory")
        attacker = client_from("203.0.113.10")
        for n in range(MAX_ATTEMPTS - 1):
            _login(attacker, f"victim-{n}", WRONG)
        assert _login(attacker, "mallory", PASSWORD) == 200
        _login(attacker, "victim-x", WRONG)
        assert _login(attacker, "victim-y", WRONG) == 429
