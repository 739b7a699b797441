"""The classification table and error construction (no network: responses are plain data)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from riff.channels import errors
from riff.channels.errors import (
    DEFAULT_ERROR_MAPPING,
    IGNORE,
    AuthExpired,
    NotFound,
    RateLimited,
    Rejected,
    ResponseAction,
    Transient,
    parse_retry_after,
    resolve,
)
from riff.channels.reverb import consts as reverb_consts
from riff.core.clock import FrozenClock

SAMPLES = Path(__file__).parent / "reverb" / "data"  # copies of shared/reference/api_samples/reverb


def _response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


class TestResolve:
    @pytest.mark.parametrize(
        ("status", "error"),
        [
            (400, Rejected),
            (401, AuthExpired),
            (403, AuthExpired),
            (404, NotFound),
            (412, Rejected),
            (422, Rejected),
            (429, RateLimited),
            (500, Transient),
            (503, Transient),
            (599, Transient),  # unlisted 5xx falls back to retry
            (418, Rejected),  # unlisted 4xx falls back to fail
        ],
    )
    def test_status_maps_to_error_class(self, status: int, error: type[errors.ChannelError]) -> None:
        assert resolve(DEFAULT_ERROR_MAPPING, _response(status)).error is error

    def test_success_and_exceptions(self) -> None:
        assert resolve(DEFAULT_ERROR_MAPPING, _response(201)).action == ResponseAction.SUCCESS
        assert resolve(DEFAULT_ERROR_MAPPING, httpx.ConnectError("refused")).error is Transient
        assert resolve(DEFAULT_ERROR_MAPPING, httpx.ReadTimeout("slow")).error is Transient

    def test_a_channel_extends_the_default(self) -> None:
        assert resolve(reverb_consts.ERROR_MAPPING, _response(406)).error is Rejected
        assert resolve(DEFAULT_ERROR_MAPPING | {422: IGNORE}, _response(422)).action == ResponseAction.IGNORE
        assert resolve(DEFAULT_ERROR_MAPPING, _response(406)).error is Rejected  # the default is untouched


class TestErrorAttributes:
    def test_retryable_and_retry_after_are_the_contract(self) -> None:
        limited = RateLimited.from_response(
            _response(429, {"message": "Slow down."}, {"Retry-After": "30"}), channel="reverb"
        )
        assert limited.retryable is True
        assert limited.retry_after == 30.0
        assert Transient("x").retryable is True
        for permanent in (AuthExpired("x"), Rejected("x"), NotFound("x")):
            assert permanent.retryable is False
            assert permanent.retry_after is None

    def test_rejected_carries_the_platform_message_verbatim(self) -> None:
        sample = next(
            e for e in json.loads((SAMPLES / "errors.json").read_text())["examples"] if e["status"] == 412
        )
        error = Rejected.from_response(_response(412, sample["body"]), channel="reverb")
        assert "Validation failed." in error.message
        assert "price: must be greater than 0" in error.message
        assert error.field == "price"
        assert error.status_code == 412

    def test_non_json_body(self) -> None:
        error = Transient.from_response(
            httpx.Response(502, text="<html>Bad gateway</html>"), channel="reverb"
        )
        assert "Bad gateway" in error.message


class TestRetryAfter:
    def test_seconds_and_http_dates(self, frozen_clock: FrozenClock) -> None:
        assert parse_retry_after("7") == 7.0
        assert parse_retry_after(" 0 ") == 0.0
        assert parse_retry_after(None) is None
        assert parse_retry_after("soon") is None
        # frozen clock: 2026-01-01 12:00:00 UTC
        assert parse_retry_after("Thu, 01 Jan 2026 12:00:45 GMT") == 45.0
        assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT") == 0.0
