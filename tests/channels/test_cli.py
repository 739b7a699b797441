"""``riff channels list|add|set|enable|disable|webhook-token`` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from riff.cli.main import app
from riff.core.db import Database
from riff.core.settings import reset_settings_cache

SECRET = "cli-secret-token-value-123"


@pytest.fixture
def cli_env(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RIFF_DATABASE_URL", database.url)
    monkeypatch.setenv("RIFF_SECRET_KEY", "cli-test-master-key")
    monkeypatch.setenv("RIFF_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    yield
    reset_settings_cache()


def _run(*args: str, input: str | None = None) -> str:  # noqa: A002 - CliRunner's name
    result = CliRunner().invoke(app, ["channels", *args], input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_add_set_enable_disable_list(cli_env: None, database: Database) -> None:
    _run("add", "reverb", "--config", "shipping_profile_id=77", "--secret", "token", input=f"{SECRET}\n")
    rows = json.loads(_run("list", "--json"))
    assert len(rows) == 1
    account_id = rows[0]["id"]
    assert rows[0]["config"] == {"shipping_profile_id": "77"}
    assert rows[0]["secret_keys"] == ["token"]
    _run("set", str(account_id), "--config", 'shipping_profile_id="77"', "--config", "currency=EUR")
    _run("disable", str(account_id))
    row = json.loads(_run("list", "--json"))[0]
    assert row["enabled"] is False
    assert row["config"] == {"shipping_profile_id": "77", "currency": "EUR"}
    _run("enable", str(account_id))
    assert json.loads(_run("list", "--json"))[0]["enabled"] is True
    path = _run("webhook-token", str(account_id)).strip().splitlines()[-1]
    assert path.startswith("/webhooks/reverb/")
    table = _run("list")
    for text in (table, json.dumps(rows)):
        assert SECRET not in text
        assert path.rsplit("/", 1)[1] not in text
    with database.engine.connect() as conn:
        raw = repr(conn.execute(sa.text("SELECT * FROM channel_accounts")).all())
    assert SECRET not in raw


def test_errors_exit_non_zero(cli_env: None) -> None:
    result = CliRunner().invoke(app, ["channels", "add", "reverb"])
    assert result.exit_code == 1
    assert "secrets.token" in result.output
    assert CliRunner().invoke(app, ["channels", "enable", "42"]).exit_code == 1
