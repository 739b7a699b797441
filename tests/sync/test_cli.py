"""``riff sync CHANNEL`` (a pull in the terminal) and ``riff reconcile`` against the test databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riff.channels import service as channels
from riff.channels.schemas import AccountCreate
from riff.cli.main import app
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings, reset_settings_cache

from .factories import create_product, list_on


@pytest.fixture
def cli(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("RIFF_DATABASE_URL", database.url)
    monkeypatch.setenv("RIFF_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RIFF_SECRET_KEY", "test-secret-key-not-for-prod")
    reset_settings_cache()
    yield CliRunner()
    reset_settings_cache()


def test_sync_pulls_a_channel_and_reconcile_reports(
    cli: CliRunner, database: Database, tmp_path: Path
) -> None:
    from riff_sandbox.testing import running

    settings = Settings(
        data_dir=tmp_path / "data", database_url=database.url, secret_key="test-secret-key-not-for-prod"
    )
    with running("reverb", tmp_path / "sandbox", seed_size=3) as sandbox:
        with database.session() as session:
            channels.create_account(
                session,
                SecretBox(load_secret_key(settings)),
                AccountCreate(channel="reverb", base_url=sandbox.api_base_url, is_sandbox=True,
                              config={"currency": "GBP", "shipping_profile_id": "15655"},
                              secrets={"token": sandbox.token or ""}),
            )  # fmt: skip
        pulled = cli.invoke(app, ["sync", "reverb", "--json"])
        assert pulled.exit_code == 0, pulled.output
        result = json.loads(pulled.stdout)
        assert result["full"] is True and result["seen"] >= 3 and result["unknown_new"] >= 1
    with database.session() as session:  # as the last pull left it: the channel shows 90, RIFF wants 100
        list_on(
            session,
            create_product(session, base_price=Decimal("100.00")),
            ["reverb"],
            remote_price=Decimal("90.00"),
        )
    report = cli.invoke(app, ["reconcile", "reverb", "--json"])
    assert report.exit_code == 0, report.output
    (channel,) = json.loads(report.stdout)["channels"]
    assert channel["mismatch_counts"]["price"] == 1
    human = cli.invoke(app, ["reconcile", "reverb"])
    assert human.exit_code == 0 and "mismatches: price 1" in human.stdout
    assert cli.invoke(app, ["sync", "nowhere"]).exit_code != 0
