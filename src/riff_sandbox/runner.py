"""Start sandboxes as uvicorn servers on background threads.

``start("reverb", data_dir=path)`` picks a free port (port 0), waits until the server accepts requests and
returns a :class:`RunningSandbox`. While it runs, ``<data_dir>/sandboxes/<name>.json`` says where it
listens, so ``riff sandbox reset NAME`` can find it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from riff_sandbox.registry import SANDBOXES, port_for
from riff_sandbox.toolkit.app import Sandbox, create_sandbox_app
from riff_sandbox.toolkit.control import ControlClient
from riff_sandbox.toolkit.platform import SandboxConfig

STARTUP_TIMEOUT_SECONDS = 15.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0
RESET_TIMEOUT = httpx.Timeout(30.0, connect=2.0)


@dataclass
class RunningSandbox:
    name: str
    host: str
    port: int
    data_dir: Path
    api_base_path: str
    token: str | None
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _control: ControlClient | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """What a client uses as its base URL (for Reverb ``http://127.0.0.1:PORT/api``)."""
        return self.base_url + self.api_base_path

    @property
    def control(self) -> ControlClient:
        if self._control is None:
            self._control = ControlClient(self.base_url)
        return self._control

    @property
    def is_running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
        self._server.should_exit = True
        self._thread.join(SHUTDOWN_TIMEOUT_SECONDS)
        _state_file(self.data_dir, self.name).unlink(missing_ok=True)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _check_port_free(host: str, port: int) -> None:
    """Raise ``OSError`` now rather than let uvicorn exit its thread on a taken port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def _state_file(data_dir: Path, name: str) -> Path:
    return data_dir / "sandboxes" / f"{name}.json"


def _config(
    name: str, data_dir: Path, seed: int | None, seed_size: int | None, options: dict[str, Any]
) -> SandboxConfig:
    if name not in SANDBOXES:
        raise KeyError(f"unknown sandbox {name!r}; known: {', '.join(SANDBOXES)}")
    return SandboxConfig(
        name=name,
        data_dir=Path(data_dir),
        seed=1 if seed is None else seed,
        seed_size=seed_size,
        options=options,
    )


def start(
    name: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path,
    seed_size: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> RunningSandbox:
    """Start sandbox ``name`` on ``host:port`` (0 = a free port) with state under ``data_dir``.
    ``options`` are the platform's own settings (for Reverb e.g. ``publish_delay_seconds``)."""
    config = _config(name, data_dir, seed, seed_size, options)
    platform_cls = SANDBOXES[name]
    if port:
        _check_port_free(host, port)
    app = create_sandbox_app(platform_cls, config)
    # uvicorn binds the socket itself: a socket handed in through ``sockets=`` lacks TCP_NODELAY and small
    # responses then wait ~40 ms for a delayed ACK.
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            loop="asyncio",
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    thread = threading.Thread(target=server.run, name=f"sandbox-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT_SECONDS)
            app.state.sandbox.close()
            raise RuntimeError(f"sandbox {name} did not start on {host}:{port}")
        time.sleep(0.005)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    running = RunningSandbox(
        name=name,
        host=host,
        port=bound_port,
        data_dir=Path(data_dir),
        api_base_path=platform_cls.api_base_path,
        token=platform_cls.default_token,
        _server=server,
        _thread=thread,
    )
    state = {"base_url": running.base_url, "api_base_url": running.api_base_url, "pid": os.getpid()}
    _state_file(running.data_dir, name).write_text(json.dumps(state))
    return running


def start_many(
    names: Iterable[str] | None = None,
    *,
    host: str = "127.0.0.1",
    port_base: int | None = None,
    data_dir: Path,
    seed_size: int | None = None,
    **options: Any,
) -> list[RunningSandbox]:
    """Start several sandboxes (default: all). With ``port_base`` each listens on
    ``port_base + its index in SANDBOXES``; without, on free ports."""
    names = list(names) if names else list(SANDBOXES)
    started: list[RunningSandbox] = []
    try:
        for name in names:
            port = 0 if port_base is None else port_for(name, port_base)
            started.append(
                start(name, host=host, port=port, data_dir=data_dir, seed_size=seed_size, **options)
            )
    except BaseException:
        for sandbox in started:
            sandbox.stop()
        raise
    return started


def running_base_url(name: str, data_dir: Path) -> str | None:
    """Where a sandbox started with this data_dir listens, if one said so."""
    state_file = _state_file(Path(data_dir), name)
    try:
        return str(json.loads(state_file.read_text())["base_url"])
    except (OSError, ValueError, KeyError):
        return None


def reset(name: str, *, data_dir: Path, seed: int | None = None, seed_size: int | None = None) -> str:
    """Reset sandbox ``name``: through its control API when it is running, else directly in its data file.
    Returns ``"running"`` or ``"offline"``."""
    base_url = running_base_url(name, data_dir)
    if base_url:
        body = {k: v for k, v in {"seed": seed, "seed_size": seed_size}.items() if v is not None}
        with contextlib.suppress(httpx.ConnectError):
            response = httpx.post(
                f"{base_url}/_sandbox/reset", json=body, timeout=RESET_TIMEOUT, trust_env=False
            )
            response.raise_for_status()
            return "running"
    config = _config(name, data_dir, seed, seed_size, {})
    sandbox = Sandbox(SANDBOXES[name], config)
    try:
        sandbox.reset(seed=seed, seed_size=seed_size)
    finally:
        sandbox.close()
    return "offline"
