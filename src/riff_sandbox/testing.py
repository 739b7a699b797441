"""Helpers for tests that talk to sandboxes over loopback HTTP.

    with running("reverb", tmp_path) as sandbox:
        client = httpx.Client(base_url=sandbox.api_base_url,
                              headers={"Authorization": f"Bearer {sandbox.token}", "Accept-Version": "3.0"})
        sandbox.control.faults(rate_limit={"every_nth": 2, "retry_after_seconds": 7})
        ...
        assert len(sandbox.control.requests(path_prefix="/api/my/listings")) == 3

``WebhookReceiver`` is a tiny HTTP server that records the webhooks a sandbox delivers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from riff_sandbox.runner import RunningSandbox, start


@contextmanager
def running(name: str, tmp_path: Path, **options: Any) -> Iterator[RunningSandbox]:
    """A sandbox on a free loopback port with its state under ``tmp_path``; stopped on exit.
    ``options``: ``seed_size``, ``seed`` and the platform's own options."""
    sandbox = start(name, data_dir=tmp_path, **options)
    try:
        yield sandbox
    finally:
        sandbox.stop()


@dataclass(frozen=True)
class ReceivedWebhook:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Records every request on ``http://127.0.0.1:PORT/...``; answers with ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[ReceivedWebhook] = []
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._condition:
                    receiver.received.append(
                        ReceivedWebhook(
                            "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                        )
                    )
                    receiver._condition.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="webhook-receiver",
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        """Block until ``count`` requests arrived (or the timeout passed); returns all received."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return list(self.received)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
