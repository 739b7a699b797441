"""The caller behind a token or session is kept per process while the auth generation stands: a
revocation, deactivation or role change committed by any other process applies to the very next
request, and an expiry applies on time."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from riff.auth import service
from riff.auth.models import ApiToken, Role, User
from riff.auth.service import create_api_token, create_user
from riff.core.clock import FrozenClock
from riff.core.db import Database


@pytest.fixture
def other_process(database: Database) -> Iterator[Database]:
    other = Database(database.url)
    yield other
    other.dispose()


def token_client(app, database: Database, *, role: Role = Role.STAFF, expires_at: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    with database.session() as session:
        user = create_user(session, username=f"cache-{role.value}", password="correct horse", role=role)
        _, token = create_api_token(session, user, name="t", expires_at=expires_at)
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def test_a_known_token_is_served_from_the_cache(app, database: Database) -> None:  # type: ignore[no-untyped-def]
    client = token_client(app, database)
    # The first use stamps last_used_at (a write to api_tokens, so a new auth generation);
    # the second reads the token again; from the third on the caller comes from the cache.
    assert client.get("/api/products").status_code == 200
    assert client.get("/api/products").status_code == 200
    hits = app.state.auth_cache.hits
    assert client.get("/api/products").status_code == 200
    assert app.state.auth_cache.hits == hits + 1


def test_a_token_revoked_by_another_process_is_refused_at_once(
    app, database: Database, other_process: Database
) -> None:  # type: ignore[no-untyped-def]
    client = token_client(app, database)
    assert client.get("/api/products").status_code == 200
    with other_process.session() as session:
        session.execute(sa.update(ApiToken).values(revoked_at=dt.datetime.now(dt.UTC)))
    response = client.get("/api/products")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_user_deactivated_by_another_process_is_refused_at_once(
    app, database: Database, other_process: Database
) -> None:  # type: ignore[no-untyped-def]
    client = token_client(app, database)
    assert client.get("/api/products").status_code == 200
    with other_process.session() as session:
        session.execute(sa.update(User).values(is_active=False))
    assert client.get("/api/products").status_code == 401


def test_a_role_lowered_by_another_process_applies_to_the_next_write(
    app, database: Database, other_process: Database
) -> None:  # type: ignore[no-untyped-def]
    client = token_client(app, database, role=Role.STAFF)
    rule = {"markup_percent": "5"}
    assert client.put("/api/pricing/rules/ebay", json=rule).status_code == 200
    with other_process.session() as session:
        session.execute(sa.update(User).values(role=Role.READ_ONLY))
    assert client.put("/api/pricing/rules/ebay", json=rule).status_code == 403


def test_a_cached_token_still_expires_on_time(app, database: Database, frozen_clock: FrozenClock) -> None:  # type: ignore[no-untyped-def]
    client = token_client(app, database, expires_at=frozen_clock() + dt.timedelta(minutes=5))
    assert client.get("/api/products").status_code == 200
    assert client.get("/api/products").status_code == 200  # now cached
    frozen_clock.advance(minutes=6)
    assert client.get("/api/products").status_code == 401


def test_a_session_ends_when_another_process_changes_the_password(
    app, database: Database, other_process: Database
) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        create_user(session, username="browser", password="correct horse", role=Role.STAFF)
    client = TestClient(app)
    response = _log_in(client, "browser", "correct horse")
    assert response.status_code == 303, response.text
    assert client.get("/api/products").status_code == 200
    with other_process.session() as session:
        user = session.scalars(sa.select(User).where(User.username == "browser")).one()
        service.set_password(session, user, "another horse!")
    assert client.get("/api/products").status_code == 401


def _log_in(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
