"""`riff serve --workers N`: N processes, each listening on the port with its own socket, all serving,
and a SIGTERM to the parent stops every one of them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from riff.cli.web_processes import reuse_port_socket
from riff.core.db import Database

pytestmark = pytest.mark.xdist_group("processes")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> int:
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "0A":
            count += 1
    return count


def test_workers_each_listen_serve_and_stop_on_sigterm(database: Database, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RIFF_DATABASE_URL": database.url,
        "RIFF_DATA_DIR": str(tmp_path / "data"),
        "RIFF_SECRET_KEY": "test-secret-key-not-for-prod",
        "RIFF_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "riff.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", "2"], env=env)
    try:
        deadline = time.monotonic() + 60
        while listening(port) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "riff serve exited early"
            time.sleep(0.2)
        assert listening(port) == 2  # one socket per process, not one shared socket
        # Many fresh connections: every one is answered, whichever process the kernel gave it to.
        for _ in range(20):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                assert client.get("/version").json()["database"] == database.dialect
                assert client.get("/api/products").status_code == 401  # the full app, auth and all
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert listening(port) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_a_port_in_use_fails_at_once_with_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            reuse_port_socket("127.0.0.1", port)
