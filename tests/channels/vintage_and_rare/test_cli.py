"""``riff vr ...`` against the sandbox and a real database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riff.channels.vintage_and_rare.settings import VintageAndRareSettings, reset_vr_settings_cache
from riff.cli.main import app
from riff.core.db import Database
from riff.core.logging import configure_logging
from riff.core.settings import Settings, reset_settings_cache
from riff_sandbox.runner import RunningSandbox

from .conftest import clearance_cookie


@pytest.fixture
def cli_env(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, vr_env: VintageAndRareSettings
) -> Iterator[None]:
    monkeypatch.setenv("RIFF_DATABASE_URL", database.url)
    monkeypatch.setenv(
        "RIFF_SECRET_KEY", settings.secret_key.get_secret_value() if settings.secret_key else ""
    )
    monkeypatch.setenv("RIFF_DATA_DIR", str(settings.data_dir))
    reset_settings_cache()
    yield
    reset_settings_cache()


def _run(*args: str) -> str:
    try:
        result = CliRunner().invoke(app, ["vr", *args])
    finally:
        configure_logging("INFO", False)  # the CLI bound logging to the runner's stream, closed by now
    assert result.exit_code == 0, result.output
    return result.stdout


def test_cookies_status_export_and_the_env_round_trip(
    cli_env: None, sandbox: RunningSandbox, vr_env: VintageAndRareSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path(vr_env.cookie_store_path()).write_text(
        json.dumps([clearance_cookie(sandbox, ttl_seconds=5 * 86400)])
    )
    status = json.loads(_run("cookies-status", "--json"))
    assert [c["name"] for c in status["cookies"]] == ["cf_clearance"]
    assert "expires in 5.0 days" in status["warnings"][0]
    table = _run("cookies-status")
    assert "cf_clearance" in table and "warning" in table
    encoded = _run("export-cookies").strip()
    assert json.loads(base64.b64decode(encoded))[0]["name"] == "cf_clearance"
    # What a host without a browser does: the base64 in VR_COOKIES_BASE64, no cookie file.
    Path(vr_env.cookie_store_path()).unlink()
    monkeypatch.setenv("VR_COOKIES_BASE64", encoded)
    reset_vr_settings_cache()
    assert json.loads(_run("cookies-status", "--json"))["cookies"][0]["name"] == "cf_clearance"


def test_validate_brand_and_resolution_commands(
    cli_env: None, sandbox: RunningSandbox, account_id: int
) -> None:
    assert json.loads(_run("validate-brand", "Marshall"))["valid"] is True
    assert json.loads(_run("resolution-status"))["pending_count"] == 0
    assert json.loads(_run("resolve-pending")) == {"resolved": 0, "failed": 0, "errors": [], "pending": 0,
                                                   "downloads": 0}  # fmt: skip


def test_known_brands_refresh(
    cli_env: None, sandbox: RunningSandbox, account_id: int, tmp_path: Path
) -> None:
    target = tmp_path / "known.json"
    _run("known-brands", "--output", str(target))
    names = json.loads(target.read_text())["brands"]
    assert "Fender" in names and len(names) >= 3


@pytest.mark.browser
def test_harvest_cookies_with_a_real_browser(
    cli_env: None, sandbox: RunningSandbox, account_id: int, browser_env: VintageAndRareSettings
) -> None:
    Path(browser_env.cookie_store_path()).write_text("[]")
    status = json.loads(_run("harvest-cookies", "--json"))
    assert {c["name"] for c in status["cookies"]} == {"cf_clearance", "PHPSESSID"}
    assert status["warnings"] == []
    assert len(sandbox.control.requests(path_prefix="/do_login")) == 1  # logged in through the browser's form
