"""``riff serve --workers N``: N web processes on one port, each with its own listening socket.

Why not uvicorn's own ``--workers``: those processes share one listening socket, and whichever is
awake first accepts every connection waiting in the backlog. Keep-alive clients (a reverse proxy's
pool, a script's session) then all land on one process while the others idle; on the 2-core bench
machine that halved throughput and quadrupled p99 in about half the runs. Here every process binds
its own socket with ``SO_REUSEPORT`` and the kernel spreads new connections across them.

Each process builds its own app (its own engine, pool and caches: see ``riff.core.generations``
for why the caches need no coordination). Ctrl-C reaches every process (one process group);
SIGTERM to the parent is passed on; the parent exits when the last child has.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
from types import FrameType

from riff.core.logging import get_logger

log = get_logger(__name__)

LISTEN_BACKLOG = 2048


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _serve_one(host: str, port: int) -> None:
    # In the child (spawned, so nothing of the parent's engine or threads is inherited).
    from riff.cli.common import load_settings
    from riff.cli.server import web_server
    from riff.core.db import Database
    from riff.core.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    database = Database(settings.resolved_database_url)
    sock = reuse_port_socket(host, port)
    try:
        # uvicorn re-raises the Ctrl-C it has already handled by stopping: nothing left to report.
        with contextlib.suppress(KeyboardInterrupt):
            web_server(settings, database, host, port).run(sockets=[sock])
    finally:
        database.dispose()


def serve_processes(host: str, port: int, workers: int) -> int:
    """Run ``workers`` web processes on host:port until they stop; returns the worst exit code."""
    # Bind once here first: a port in use fails now, with one clear error, not once per child.
    reuse_port_socket(host, port).close()
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_serve_one, args=(host, port), name=f"riff-web-{index}")
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    log.info("web.processes.started", workers=workers, pids=[p.pid for p in processes], port=port)

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                    os.kill(process.pid, signum)

    previous = signal.signal(signal.SIGTERM, pass_on)
    try:
        for process in processes:
            while process.is_alive():
                try:
                    process.join()
                except KeyboardInterrupt:  # the children got the same Ctrl-C and are stopping
                    continue
    finally:
        signal.signal(signal.SIGTERM, previous)
    codes = [process.exitcode or 0 for process in processes]
    log.info("web.processes.stopped", exit_codes=codes)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal, so a child that
    # stopped as asked ends "killed by" it: that is a clean stop.
    failures = [code for code in codes if code not in (0, -signal.SIGTERM, -signal.SIGINT)]
    if not failures:
        return 0
    return failures[0] if failures[0] > 0 else 1  # killed by another signal: a failure
