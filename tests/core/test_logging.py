"""Logs are structured, go to stderr, and never carry secrets."""

from __future__ import annotations

import io
import sys

import pytest

from riff.core.logging import configure_logging, get_logger, redact, redact_text


def test_secret_fields_and_bearer_tokens_are_redacted() -> None:
    assert redact({"password": "hunter22", "nested": {"api_key": "k"}, "ok": 1}) == {
        "password": "***",
        "nested": {"api_key": "***"},
        "ok": 1,
    }
    assert "abc.def" not in redact_text("Authorization: Bearer abc.def")
    assert "s3cret" not in redact_text("https://x/?token=s3cret&page=2")


def test_logs_follow_the_current_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    configure_logging("INFO")
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    get_logger("t").info("core.test.first", password="hunter22")
    first.close()  # as CliRunner does with its captured stream
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    get_logger("t").info("core.test.second", token="abc")
    assert "core.test.second" in second.getvalue()
    assert "abc" not in second.getvalue().replace("core.test", "")
