"""Fault injection: POST/GET/DELETE /_sandbox/faults, applied to platform routes only."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from riff_sandbox.runner import RunningSandbox
from riff_sandbox.toolkit.faults import FaultConfig, FaultInjector, TokenBucket


class TestRateLimit:
    def test_every_nth_request_gets_429_with_retry_after(
        self, reverb: RunningSandbox, api: httpx.Client
    ) -> None:
        reverb.control.faults(rate_limit={"every_nth": 3, "retry_after_seconds": 7})

        statuses = [api.get("/my/listings").status_code for _ in range(6)]

        assert statuses == [200, 200, 429, 200, 200, 429]
        limited = api.get("/my/listings"), api.get("/my/listings"), api.get("/my/listings")
        assert limited[2].status_code == 429
        assert limited[2].headers["Retry-After"] == "7"
        assert limited[2].json() == {"message": "Slow down."}
        assert limited[2].headers["content-type"].startswith("application/hal+json")

    def test_token_bucket_allows_a_burst_then_limits(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(rate_limit={"bucket": {"rate_per_second": 0.5, "burst": 2}})

        statuses = [api.get("/my/listings", params={"per_page": 1}).status_code for _ in range(3)]

        assert statuses == [200, 200, 429]
        assert int(api.get("/my/listings").headers["Retry-After"]) >= 1

    def test_bucket_refills_with_time(self) -> None:
        bucket = TokenBucket(rate_per_second=2.0, burst=1, now=100.0)

        assert bucket.take(100.0) == 0.0
        assert bucket.take(100.1) == pytest.approx(0.4)
        assert bucket.take(100.5) == 0.0


class TestServerErrors:
    def test_burst_fails_exactly_the_next_n_requests(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(error_5xx_burst=2, error_5xx_status=500)

        responses = [api.get("/my/listings", params={"per_page": 1}) for _ in range(3)]

        assert [r.status_code for r in responses] == [500, 500, 200]
        assert responses[0].json() == {"message": "Internal Server Error"}
        assert reverb.control.get_faults()["state"]["error_5xx_burst_remaining"] == 0

    def test_ratio_is_deterministic_for_a_seed(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        def run() -> list[int]:
            reverb.control.faults(error_5xx_ratio=0.5, seed=42)
            return [api.get("/listing_conditions").status_code for _ in range(12)]

        first, second = run(), run()

        assert first == second
        assert set(first) == {200, 503}

    def test_faults_can_target_a_path_and_method(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(error_5xx_burst=5, path_prefix="/api/my/orders", methods=["GET"])

        assert api.get("/my/listings").status_code == 200
        assert api.get("/my/orders/selling/all").status_code == 503


class TestOtherFaults:
    def test_latency_is_added(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(latency_ms=250)

        started = time.monotonic()
        response = api.get("/listing_conditions")

        assert response.status_code == 200
        assert time.monotonic() - started >= 0.25

    def test_token_expired_fails_auth_like_reverb(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(token_expired=True)

        response = api.get("/my/listings")

        assert response.status_code == 401
        assert set(response.json()) == {"message"}

    def test_malformed_body_is_truncated_json(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(malformed_body_ratio=1.0)

        response = api.get("/my/listings", params={"per_page": 2})

        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
        assert reverb.control.requests()[-1]["fault"] == "malformed_body"

    def test_faults_never_touch_the_control_api(self, reverb: RunningSandbox) -> None:
        reverb.control.faults(error_5xx_burst=10, token_expired=True, latency_ms=0)

        assert reverb.control.info()["name"] == "reverb"
        assert reverb.control.get_faults()["state"]["error_5xx_burst_remaining"] == 10

    def test_delete_clears_faults(self, reverb: RunningSandbox, api: httpx.Client) -> None:
        reverb.control.faults(error_5xx_burst=10)

        reverb.control.clear_faults()

        assert api.get("/my/listings").status_code == 200
        assert reverb.control.get_faults()["config"] == FaultConfig().model_dump()

    def test_invalid_configuration_is_refused(self, reverb: RunningSandbox) -> None:
        response = httpx.post(
            f"{reverb.base_url}/_sandbox/faults", json={"error_5xx_ratio": 2}, trust_env=False
        )

        assert response.status_code == 422


class TestInjectorOrdering:
    def test_rate_limit_wins_over_server_errors(self) -> None:
        injector = FaultInjector()
        injector.configure(
            FaultConfig.model_validate({"rate_limit": {"every_nth": 1}, "error_5xx_burst": 1}), 0.0
        )

        decision = injector.decide("GET", "/api/x", 0.0)

        assert (decision.kind, decision.status) == ("rate_limited", 429)
