"""Pure parts of the shared HTTP layer (the network parts run against the sandbox in tests/channels/reverb)."""

from __future__ import annotations

import asyncio

import pytest

from riff.channels.errors import ChannelError
from riff.channels.http import ChannelHttpClient, RequestCounters


def _client() -> ChannelHttpClient:
    return ChannelHttpClient("reverb", "http://127.0.0.1:9/api")


def test_links_are_followed_only_on_our_own_host() -> None:
    client = _client()
    try:
        assert client.relative_path("http://127.0.0.1:9/api/my/listings?page=2&per_page=50") == (
            "/my/listings?page=2&per_page=50"
        )
        assert client.relative_path("/api/my/listings?page=3") == "/my/listings?page=3"
        with pytest.raises(ChannelError, match="another host"):
            client.relative_path("https://evil.example.com/api/my/listings?page=2")
    finally:
        asyncio.run(client.aclose())


def test_counters_are_keyed_by_template_and_outcome() -> None:
    counters = RequestCounters()
    counters.increment("reverb", "PUT", "/listings/{id}", "ok")
    counters.increment("reverb", "PUT", "/listings/{id}", "ok")
    counters.increment("reverb", "GET", "/my/listings", "retry")
    counters.increment("ebay", "GET", "/x", "ok")
    assert counters.total("reverb") == 3
    assert counters.total("reverb", "PUT", "/listings/{id}") == 2
    assert counters.snapshot("ebay") == [
        {"channel": "ebay", "method": "GET", "path": "/x", "outcome": "ok", "count": 1}
    ]
    counters.reset()
    assert counters.total() == 0
