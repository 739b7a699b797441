"""Reverb's asynchronous behaviour as the sandbox emulates it: publish delay and /my/listings index lag,
and the ``python -m riff_sandbox`` entry point."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from riff_sandbox.testing import running

from .conftest import api_client, first_listing


class TestIndexLag:
    def test_my_listings_lags_behind_writes(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path, index_lag_seconds=0.4, publish_delay_seconds=0) as sandbox:
            with api_client(sandbox) as client:
                live = first_listing(client)
                created = client.post(
                    "/listings", json={"make": "Gibson", "model": "ES-335TD", "sku": "LAG-1"}
                )
                client.put(f"/my/listings/{live['id']}/state/end", json={"reason": "not_sold"})

                listing_id = created.json()["listing"]["id"]
                assert client.get(f"/listings/{listing_id}").status_code == 200  # the listing itself: at once
                assert (
                    client.get("/my/listings", params={"sku": "LAG-1", "state": "all"}).json()["total"] == 0
                )
                stale = client.get("/my/listings", params={"sku": live["sku"]}).json()["listings"]
                assert stale[0]["state"]["slug"] == "live"

                time.sleep(0.5)
                assert (
                    client.get("/my/listings", params={"sku": "LAG-1", "state": "all"}).json()["total"] == 1
                )
                assert client.get("/my/listings", params={"sku": live["sku"]}).json()["total"] == 0


class TestPublishDelay:
    def test_listing_goes_live_after_the_delay(self, tmp_path: Path) -> None:
        with running("reverb", tmp_path, publish_delay_seconds=0.3) as sandbox, api_client(sandbox) as client:
            draft = first_listing(client, "draft")
            client.put(f"/listings/{draft['id']}", json={"publish": True})

            assert client.get(f"/listings/{draft['id']}").json()["state"]["slug"] == "draft"
            time.sleep(0.35)
            assert client.get(f"/listings/{draft['id']}").json()["state"]["slug"] == "live"


def test_module_entry_point_serves_a_sandbox(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "riff_sandbox",
        "reverb",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/_sandbox", trust_env=False).json()
                break
            except httpx.ConnectError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        assert info["api_base_url"] == f"http://127.0.0.1:{port}/api"
        assert (tmp_path / "sandboxes" / "reverb.db").exists()
    finally:
        process.terminate()
        process.wait(10)
