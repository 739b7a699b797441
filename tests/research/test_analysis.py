"""The offline analysis on a labelled set of 100 listings, and the OpenAI-compatible path against a tiny
local server started here."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from riff.research.analysis import ListingText, analyze, analyze_offline, category_model
from riff.research.config import ResearchSettings

LABELLED = Path(__file__).parent / "data" / "labelled_listings.json"
REQUIRED_ACCURACY = 0.80


def labelled() -> list[dict[str, Any]]:
    return json.loads(LABELLED.read_text(encoding="utf-8"))["listings"]  # type: ignore[no-any-return]


def test_offline_analysis_gets_brand_and_era_right_on_the_labelled_set() -> None:
    listings = labelled()
    assert len(listings) == 100
    brand_ok = era_ok = both_ok = 0
    misses = []
    for item in listings:
        result = analyze_offline(ListingText(item["title"], item["description"]))
        brand_hit, era_hit = result.brand == item["brand"], result.era == item["era"]
        brand_ok += brand_hit
        era_ok += era_hit
        both_ok += brand_hit and era_hit
        if not (brand_hit and era_hit):
            misses.append((item["title"], result.brand, result.era, item["brand"], item["era"]))
        assert result.method == "rules+nb" and result.summary and result.category
    print(f"\nlabelled set: brand {brand_ok}%, era {era_ok}%, both {both_ok}%; misses: {misses}")
    assert brand_ok / len(listings) >= REQUIRED_ACCURACY
    assert era_ok / len(listings) >= REQUIRED_ACCURACY
    assert both_ok / len(listings) >= REQUIRED_ACCURACY


def test_offline_analysis_fields_and_category_model() -> None:
    result = analyze_offline(
        ListingText(
            "[WTS] Levi's 501XX Big E 1960s W32 L30 raw selvedge - $450 shipped",
            "Great condition, hidden rivets, single stitch.",
        )
    )
    assert (result.brand, result.era, result.size, result.category) == ("Levi's", "1960s", "W32 L30", "denim")
    assert result.condition == "very_good" and result.wash == "raw"
    assert "selvedge" in (result.style or "") and "levi's" in result.tags
    assert result.price == {"amount": "450.00", "currency": "USD", "shipped": True}
    assert "1960s Levi's denim" in result.summary
    posteriors = category_model().posteriors("tube combo amp with reverb and two 12 inch speakers")
    assert max(posteriors, key=lambda k: posteriors[k]) == "amp"


class FakeLLM:
    """A minimal OpenAI-compatible ``/v1/chat/completions`` on loopback."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.reply: Any = {}
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                fake.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                content = json.dumps(fake.reply) if not isinstance(fake.reply, str) else fake.reply
                payload = json.dumps({
                    "id": "chatcmpl-1", "object": "chat.completion", "model": body.get("model"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                }).encode()  # fmt: skip
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.stop()


def test_llm_endpoint_is_used_when_configured(llm: FakeLLM) -> None:
    llm.reply = {"brand": "Gibson", "size": None, "style": ["semi-hollow", "dot inlays"], "condition": "Very Good",
                 "era": 1981, "wash": "cherry", "category": "guitar", "tags": ["gibson", "es-335"],
                 "summary": "1981 Gibson ES-335 Dot in cherry"}  # fmt: skip
    settings = ResearchSettings(
        _env_file=None, llm_url=llm.url, llm_api_key="sk-test", llm_model="tiny-local"
    )  # type: ignore[call-arg]
    result = asyncio.run(
        analyze(ListingText("[FS] Gibson ES-335 Dot 1981 Cherry - $5,500", "All original."), settings)
    )
    assert result.method == "llm:tiny-local"
    assert (result.brand, result.era, result.condition, result.style) == (
        "Gibson",
        "1980s",
        "very_good",
        "semi-hollow, dot inlays",
    )
    assert result.summary == "1981 Gibson ES-335 Dot in cherry"
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["body"]["model"] == "tiny-local" and request["body"]["messages"][0]["role"] == "system"
    assert "ES-335" in request["body"]["messages"][1]["content"]


@pytest.mark.parametrize(("status", "reply"), [(500, {}), (200, "I think it's a Gibson!")])
def test_llm_failure_falls_back_to_the_rules(llm: FakeLLM, status: int, reply: Any) -> None:
    llm.status, llm.reply = status, reply
    settings = ResearchSettings(_env_file=None, llm_url=llm.url)  # type: ignore[call-arg]
    result = asyncio.run(analyze(ListingText("1965 Fender Stratocaster sunburst", ""), settings))
    assert result.method == "rules+nb" and result.error and result.brand == "Fender" and result.era == "1960s"
