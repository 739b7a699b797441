"""The moving-window rate limit: headers on every response, 429 when full, recovery, the anonymous limit.
The sandbox runs with a one-second window (60 per second) so these take a moment, not minutes."""

from __future__ import annotations

import time

import httpx

from riff_sandbox.runner import RunningSandbox

from .conftest import client_for
from .shapes import sample


def test_headers_count_down_and_a_full_window_is_a_429(http: httpx.Client) -> None:
    documented = sample("rate_limit.json")
    first = http.get("/releases/1900001")
    assert all(name in first.headers for name in documented["normal_response_headers"])
    assert first.headers["X-Discogs-Ratelimit"] == "60"
    used = int(first.headers["X-Discogs-Ratelimit-Used"])
    assert int(first.headers["X-Discogs-Ratelimit-Remaining"]) == 60 - used

    statuses = [http.get("/releases/1900001").status_code for _ in range(70 - used)]
    assert statuses.count(429) >= 9
    refused = http.get("/releases/1900001")
    assert refused.status_code == 429
    assert refused.json() == documented["throttled"]["body"]
    assert refused.headers["X-Discogs-Ratelimit-Remaining"] == "0"
    assert "Retry-After" not in refused.headers  # Discogs documents none

    time.sleep(1.05)  # the window moves on
    assert http.get("/releases/1900001").status_code == 200


def test_unauthenticated_requests_get_25(discogs: RunningSandbox) -> None:
    with client_for(discogs, auth=False) as anonymous:
        response = anonymous.get("/releases/1900001")

    assert response.headers["X-Discogs-Ratelimit"] == "25"


def test_an_injected_429_looks_like_a_real_one(http: httpx.Client, discogs: RunningSandbox) -> None:
    discogs.control.faults(rate_limit={"every_nth": 2})
    http.get("/releases/1900001")
    refused = http.get("/releases/1900001")

    assert refused.status_code == 429
    assert refused.headers["X-Discogs-Ratelimit-Remaining"] == "0"
    assert refused.json() == {"message": "You are making requests too quickly."}
