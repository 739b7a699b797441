"""``riff user`` and ``riff token`` through Typer's CliRunner against the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from riff.auth.models import ApiToken, Role, User
from riff.cli.main import app
from riff.core.db import Database
from riff.core.security import hash_api_token, verify_password
from riff.core.settings import reset_settings_cache

PASSWORD = "a sturdy password"


@pytest.fixture
def riff(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("RIFF_DATABASE_URL", database.url)
    reset_settings_cache()
    yield CliRunner()
    reset_settings_cache()


def _user(database: Database, username: str) -> User:
    with database.read_session() as session:
        user = session.execute(sa.select(User).where(User.username == username)).scalar_one()
        session.expunge(user)  # read_session rolls back on exit, which would expire it
        return user


class TestUserCreate:
    def test_with_password(self, riff: CliRunner, database: Database) -> None:
        result = riff.invoke(app, ["user", "create", "ann", "--role", "owner", "--password", PASSWORD])
        assert result.exit_code == 0, result.output
        assert PASSWORD not in result.output
        user = _user(database, "ann")
        assert user.role == Role.OWNER and verify_password(PASSWORD, user.password_hash)

    def test_generate_prints_password_once(self, riff: CliRunner, database: Database) -> None:
        result = riff.invoke(app, ["user", "create", "ben", "--role", "read_only", "--generate"])
        assert result.exit_code == 0, result.output
        generated = result.output.strip().splitlines()[-1]
        assert result.output.count(generated) == 1
        user = _user(database, "ben")
        assert user.role == Role.READ_ONLY and verify_password(generated, user.password_hash)

    def test_prompt(self, riff: CliRunner, database: Database) -> None:
        result = riff.invoke(
            app, ["user", "create", "cat", "--role", "staff"], input=f"{PASSWORD}\n{PASSWORD}\n"
        )
        assert result.exit_code == 0, result.output
        assert verify_password(PASSWORD, _user(database, "cat").password_hash)

    def test_bad_input(self, riff: CliRunner, database: Database) -> None:
        cases = [
            (["--role", "admin", "--password", PASSWORD], "admin"),
            (["--password", "short"], "at least 8"),
            (["--password", PASSWORD, "--generate"], "not both"),
        ]
        for args, message in cases:
            result = riff.invoke(app, ["user", "create", "dan", *args])
            assert result.exit_code != 0, args
            assert message in result.output, (args, result.output)
        with database.read_session() as session:
            assert session.execute(sa.select(User)).first() is None

    def test_duplicate(self, riff: CliRunner) -> None:
        assert riff.invoke(app, ["user", "create", "eve", "--password", PASSWORD]).exit_code == 0
        result = riff.invoke(app, ["user", "create", "eve", "--password", PASSWORD])
        assert result.exit_code == 1
        assert "already exists" in result.output


class TestUserListAndPassword:
    def test_list(self, riff: CliRunner) -> None:
        riff.invoke(app, ["user", "create", "fay", "--role", "owner", "--password", PASSWORD])
        table = riff.invoke(app, ["user", "list"])
        assert table.exit_code == 0 and "fay" in table.output and "owner" in table.output
        rows = json.loads(riff.invoke(app, ["user", "list", "--json"]).output)
        assert [(r["username"], r["role"], r["active"]) for r in rows] == [("fay", "owner", True)]

    def test_set_password(self, riff: CliRunner, database: Database) -> None:
        riff.invoke(app, ["user", "create", "gus", "--password", PASSWORD])
        result = riff.invoke(app, ["user", "set-password", "gus", "--generate"])
        assert result.exit_code == 0, result.output
        generated = result.output.strip().splitlines()[-1]
        assert verify_password(generated, _user(database, "gus").password_hash)

    def test_set_password_unknown_user(self, riff: CliRunner) -> None:
        result = riff.invoke(app, ["user", "set-password", "nobody", "--password", PASSWORD])
        assert result.exit_code == 1
        assert "not found" in result.output


class TestTokens:
    def test_create_list_revoke(self, riff: CliRunner, database: Database) -> None:
        riff.invoke(app, ["user", "create", "hal", "--password", PASSWORD])
        created = riff.invoke(
            app, ["token", "create", "--user", "hal", "--name", "stock script", "--expires-days", "7"]
        )
        assert created.exit_code == 0, created.output
        plaintext = created.output.strip().splitlines()[-1]
        assert plaintext.startswith("riff_")
        with database.read_session() as session:
            token = session.execute(sa.select(ApiToken)).scalar_one()
            assert token.token_hash == hash_api_token(plaintext) and token.expires_at is not None
            token_id = token.id

        listed = riff.invoke(app, ["token", "list", "--json"])
        assert plaintext not in listed.output
        rows = json.loads(listed.output)
        assert [(r["user"], r["name"], r["prefix"]) for r in rows] == [
            ("hal", "stock script", plaintext[:12])
        ]

        assert riff.invoke(app, ["token", "revoke", str(token_id)]).exit_code == 0
        with database.read_session() as session:
            assert session.get(ApiToken, token_id).revoked_at is not None  # type: ignore[union-attr]

    def test_bad_input(self, riff: CliRunner) -> None:
        riff.invoke(app, ["user", "create", "ivy", "--password", PASSWORD])
        cases = [
            (["token", "create", "--user", "nobody", "--name", "x"], "not found"),
            (["token", "create", "--user", "ivy", "--name", "x", "--expires-days", "0"], "between 1 and"),
            (["token", "create", "--user", "ivy"], "--name"),
            (["token", "revoke", "424242"], "not found"),
            (["token", "revoke", "abc"], "token_id"),
        ]
        for args, message in cases:
            result = riff.invoke(app, args)
            assert result.exit_code != 0, args
            assert message in result.output, (args, result.output)
