"""``riff jobs ...`` and ``riff worker`` wiring."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner

from riff.cli.main import app
from riff.core.db import Database
from riff.core.settings import reset_settings_cache
from riff.jobs import service

runner = CliRunner()


def _json(output: str) -> Any:
    # Logs go to stderr, which CliRunner mixes into ``output``; the JSON document is what follows them.
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line in ("{", "[", "[]", "null"))
    return json.loads("\n".join(lines[start:]))


@pytest.fixture
def cli_env(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("RIFF_DATABASE_URL", database.url)
    monkeypatch.setenv("RIFF_DATA_DIR", str(tmp_path))
    reset_settings_cache()
    # The root command configures logging onto the stderr CliRunner swaps in (and closes afterwards);
    # put the previous configuration back so later tests do not log into a closed file.
    structlog_config = structlog.get_config()
    root_handlers = list(logging.getLogger().handlers)
    yield database
    structlog.configure(**structlog_config)
    logging.getLogger().handlers[:] = root_handlers
    reset_settings_cache()


def test_enqueue_list_show_cancel_retry_stats(cli_env: Database) -> None:
    result = runner.invoke(
        app,
        [
            "jobs",
            "enqueue",
            "reverb.pull_sync",
            "--channel",
            "reverb",
            "--payload",
            '{"full": true}',
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    job_id = _json(result.output)["id"]

    listed = _json(runner.invoke(app, ["jobs", "list", "--status", "queued", "--json"]).output)
    assert [item["id"] for item in listed["items"]] == [job_id]
    table = runner.invoke(app, ["jobs", "list"])
    assert table.exit_code == 0 and "Jobs (1 of 1)" in table.output

    shown = _json(runner.invoke(app, ["jobs", "show", str(job_id), "--json"]).output)
    assert (shown["payload"], shown["channel"]) == ({"full": True}, "reverb")

    assert runner.invoke(app, ["jobs", "cancel", str(job_id)]).exit_code == 0
    retried = _json(runner.invoke(app, ["jobs", "retry", str(job_id), "--json"]).output)
    assert retried["status"] == "queued"

    stats = _json(runner.invoke(app, ["jobs", "stats", "--json"]).output)
    assert stats["by_channel"] == {"reverb": {"queued": 1}}
    assert runner.invoke(app, ["jobs", "stats"]).exit_code == 0


def test_errors_exit_non_zero(cli_env: Database) -> None:
    missing = runner.invoke(app, ["jobs", "show", "424242"])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    with cli_env.session() as session:
        job = service.enqueue(session, "a.b")
        service.claim_jobs(session, owner="w", limit=1, lease_seconds=60)
    refused = runner.invoke(app, ["jobs", "cancel", str(job.id)])  # type: ignore[union-attr]
    assert refused.exit_code == 1 and "in_progress" in refused.output


def test_schedules_and_worker_commands_exist(cli_env: Database) -> None:
    result = runner.invoke(app, ["jobs", "schedules", "--json"])
    assert result.exit_code == 0, result.output
    names = {s["name"] for s in _json(result.output)}
    assert {"jobs.prune", "reverb.pull_listings", "catalog.check_images"} <= names
    help_text = runner.invoke(app, ["worker", "--help"]).output
    assert "--concurrency" in help_text and "--no-scheduler" in help_text
