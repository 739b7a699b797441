"""Sandbox state: seeding, reset, persistence across restarts, the store under concurrency, the runner."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from riff_sandbox.registry import SANDBOXES, port_for
from riff_sandbox.runner import reset, running_base_url, start, start_many
from riff_sandbox.testing import running
from riff_sandbox.toolkit.store import DocumentStore

from .conftest import api_client, first_listing


def all_listings(client: httpx.Client) -> list[dict]:  # type: ignore[type-arg]
    return client.get("/my/listings", params={"state": "all", "per_page": 100}).json()["listings"]  # type: ignore[no-any-return]


class TestSeed:
    def test_same_seed_same_shop(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path / "a") as one, running("reverb", tmp_path / "b") as two:
            with api_client(one) as first, api_client(two) as second:
                listings_one, listings_two = all_listings(first), all_listings(second)

        def fingerprint(listings: list[dict]) -> list[tuple]:  # type: ignore[type-arg]
            return [
                (item["id"], item["title"], item["price"]["amount"], item["state"]["slug"], item["sku"])
                for item in listings
            ]

        assert len(listings_one) == 60
        assert fingerprint(listings_one) == fingerprint(listings_two)

    def test_demo_mix_and_size(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path, seed_size=30, seed=7) as sandbox, api_client(sandbox) as client:
            listings = all_listings(client)
            orders = client.get("/my/orders/selling/all", params={"per_page": 100}).json()

        assert len(listings) == 30
        assert {"live", "sold", "draft"} <= {item["state"]["slug"] for item in listings}
        assert orders["total"] >= 1
        makes = {item["make"] for item in listings}
        assert makes <= {"Fender", "Gibson", "Gretsch", "Rickenbacker", "Vox", "Marshall", "Hiwatt", "Martin",
                         "Epiphone", "Danelectro"}  # fmt: skip
        assert all(1952 <= int(item["year"]) <= 1989 for item in listings)
        assert all(p["_links"]["full"]["href"].startswith("https://rvb-img.reverb.com/") for item in listings
                   for p in item["photos"])  # fmt: skip


class TestReset:
    def test_reset_restores_demo_data_and_clears_everything(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path) as sandbox, api_client(sandbox) as client:
            listing = first_listing(client)
            sandbox.control.purchase(listing["id"])
            sandbox.control.faults(error_5xx_ratio=0.0, latency_ms=1)
            sandbox.control.register_webhook("http://127.0.0.1:9/x", "orders/create")
            token = sandbox.control.create_token()

            sandbox.control.reset()

            assert sandbox.control.requests() == []
            assert client.get(f"/listings/{listing['id']}").json()["state"]["slug"] == "live"
            assert sandbox.control.webhooks() == []
            assert sandbox.control.get_faults()["config"]["latency_ms"] == 0
            with api_client(sandbox, token) as stranger:
                assert stranger.get("/listing_conditions").status_code == 401
            assert client.get("/listing_conditions").status_code == 200

    def test_reset_with_a_new_size(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path) as sandbox, api_client(sandbox) as client:
            sandbox.control.reset(seed_size=5)
            assert len(all_listings(client)) == 5


class TestPersistence:
    def test_state_survives_a_restart_with_the_same_data_dir(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path, publish_delay_seconds=0) as sandbox, api_client(sandbox) as client:
            created = client.post("/listings", json={"make": "Vox", "model": "AC30", "sku": "PERSIST-1"})
            assert created.status_code == 201
            listing = first_listing(client)
            order = sandbox.control.purchase(listing["id"])["order"]
            token = sandbox.control.create_token("kept-token")
            assert (tmp_path / "sandboxes" / "reverb.db").exists()

        with running("reverb", tmp_path) as again, api_client(again, token) as client:
            found = client.get("/my/listings", params={"state": "all", "sku": "PERSIST-1"}).json()
            assert found["total"] == 1
            assert client.get(f"/my/orders/selling/{order['order_number']}").status_code == 200
            assert client.get(f"/listings/{listing['id']}").json()["state"]["slug"] == "sold"
            assert len(all_listings(client)) == 61  # not reseeded


class TestStore:
    def test_counters_and_nested_transactions(self, tmp_path: Path) -> None:
        store = DocumentStore(tmp_path / "s.db")
        with store.transaction() as tx:
            assert tx.next_value("n", 10) == 10
            with store.transaction() as inner:
                assert inner is tx
                inner.put("things", 1, {"a": 1})
            assert tx.next_value("n") == 11
        with store.transaction() as tx:
            tx.put("things", 1, {"a": 2})
            assert tx.list("things") == [{"a": 2}]
            assert tx.count("things") == 1
        store.close()

    def test_rollback_on_error(self, tmp_path: Path) -> None:
        store = DocumentStore(tmp_path / "s.db")
        with pytest.raises(RuntimeError), store.transaction() as tx:
            tx.put("things", 1, {"a": 1})
            raise RuntimeError("boom")
        with store.transaction() as tx:
            assert tx.get("things", 1) is None
        store.close()

    def test_parallel_writers_do_not_lose_updates(self, tmp_path: Path) -> None:
        store = DocumentStore(tmp_path / "s.db")

        def bump() -> None:
            for _ in range(25):
                with store.transaction() as tx:
                    current = tx.get("c", "x") or {"n": 0}
                    tx.put("c", "x", {"n": current["n"] + 1})

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with store.transaction() as tx:
            assert tx.get("c", "x") == {"n": 100}
        store.close()


class TestRunner:
    def test_start_many_uses_registry_ports_and_records_where(self, tmp_path: Path) -> None:
        probe = start("reverb", data_dir=tmp_path / "probe")
        base = probe.port
        probe.stop()
        started = start_many(["reverb"], port_base=base, data_dir=tmp_path)
        try:
            (sandbox,) = started
            assert sandbox.port == port_for("reverb", base)
            assert running_base_url("reverb", tmp_path) == sandbox.base_url
            state = json.loads((tmp_path / "sandboxes" / "reverb.json").read_text())
            assert state["api_base_url"] == f"{sandbox.base_url}/api"
        finally:
            for sandbox in started:
                sandbox.stop()
        assert running_base_url("reverb", tmp_path) is None

    def test_reset_reaches_a_running_sandbox_or_the_data_file(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path) as sandbox:
            assert reset("reverb", data_dir=tmp_path, seed_size=3) == "running"
            assert sandbox.control.info()["meta"]["seed_size"] == 3
        assert reset("reverb", data_dir=tmp_path, seed_size=4) == "offline"
        with running("reverb", tmp_path) as sandbox:
            assert sandbox.control.info()["meta"]["seed_size"] == 4

    def test_unknown_name_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(KeyError):
            start("nope", data_dir=tmp_path)
        assert "reverb" in SANDBOXES

    def test_cli_reset_without_a_running_sandbox(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from riff.cli.main import app
        from riff.core.settings import get_settings

        monkeypatch.setenv("RIFF_DATA_DIR", str(tmp_path))
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["sandbox", "reset", "reverb", "--seed-size", "2"])
        finally:
            get_settings.cache_clear()

        assert result.exit_code == 0, result.output
        assert "data file" in result.output
        assert (tmp_path / "sandboxes" / "reverb.db").exists()
