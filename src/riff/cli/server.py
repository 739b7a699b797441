"""``riff serve`` (web/API only) and ``riff up`` (everything in one process).

This module is the composition root: the only product module allowed to start sandboxes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
import uvicorn
from rich.panel import Panel

from riff.cli.common import console, load_settings
from riff.core import migrate
from riff.core.db import Database
from riff.core.logging import configure_logging, get_logger
from riff.core.settings import Settings

log = get_logger(__name__)


def web_server(settings: Settings, database: Database, host: str, port: int) -> uvicorn.Server:
    from riff.app import create_app, freeze_startup_heap

    app = create_app(settings, database)
    freeze_startup_heap()
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    return uvicorn.Server(config)


def _announce_first_owner(database: Database) -> None:
    from riff.auth.service import ensure_first_owner

    password = ensure_first_owner(database)
    if password:
        console.print(
            Panel.fit(
                f"First start: created user [bold]owner[/] with one-time password [bold]{password}[/]\n"
                "Change it after logging in (`riff user set-password owner`).",
                title="RIFF",
            )
        )


@contextlib.contextmanager
def _sandboxes(settings: Settings, database: Database, enabled: bool, riff_url: str) -> Iterator[list[str]]:
    if not enabled:
        yield []
        return
    from riff.cli.sandbox_wiring import start_sandboxes_for_unconfigured_channels

    running = start_sandboxes_for_unconfigured_channels(settings, database, riff_url)
    try:
        yield [sandbox.name for sandbox in running]
    finally:
        for sandbox in running:
            sandbox.stop()


@contextlib.contextmanager
def _worker(settings: Settings, database: Database, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from riff.jobs import Worker

    worker = Worker(database, settings, with_scheduler=True)
    worker.start_in_thread()
    try:
        yield
    finally:
        worker.stop()


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option(None, help="Bind address (default RIFF_HOST)"),
        port: int = typer.Option(None, help="Port (default RIFF_PORT)"),
        workers: int = typer.Option(
            1, min=1, max=64, help="Web processes on this port (one per core is a good start)"
        ),
    ) -> None:
        """Run the web UI and JSON API only (no worker, no sandboxes)."""
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_json)
        host, port = host or settings.host, port or settings.port
        if workers > 1:
            from riff.cli.web_processes import serve_processes

            raise typer.Exit(serve_processes(host, port, workers))
        database = Database(settings.resolved_database_url)
        web_server(settings, database, host, port).run()

    @app.command("up")
    def up(
        host: str = typer.Option(None, help="Bind address (default RIFF_HOST)"),
        port: int = typer.Option(None, help="Port (default RIFF_PORT)"),
        sandboxes: bool = typer.Option(True, help="Start sandboxes for channels without real credentials"),
        worker: bool = typer.Option(True, help="Run a job worker and the scheduler in this process"),
    ) -> None:
        """Run everything: migrations, web UI + API, a worker, the scheduler and sandboxes. Ctrl-C stops cleanly."""
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_json)
        url = settings.resolved_database_url
        migrate.upgrade(url)
        database = Database(url)
        _announce_first_owner(database)
        host = host or settings.host
        port = port or settings.port
        with (
            _sandboxes(
                settings, database, sandboxes and settings.sandboxes, f"http://{host}:{port}"
            ) as sandbox_names,
            _worker(settings, database, worker),
        ):
            if sandbox_names:
                console.print(
                    f"[yellow]SANDBOX[/] channels running against local sandboxes: {', '.join(sandbox_names)}"
                )
            console.print(f"RIFF at [bold]http://{host}:{port}[/] (API docs at /docs). Ctrl-C to stop.")
            # uvicorn re-raises the Ctrl-C it handled once the server has stopped; that is our cue to
            # stop the worker (finishing its job) and the sandboxes, which the with-blocks do.
            with contextlib.suppress(KeyboardInterrupt):
                web_server(settings, database, host, port).run()
        database.dispose()
        console.print("RIFF stopped.")
