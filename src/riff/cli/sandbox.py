"""``riff sandbox up [NAMES]`` and ``riff sandbox reset NAME``: run and reset the marketplace sandboxes.

Part of the composition root: the only product package allowed to import ``riff_sandbox`` (lazily, so the
rest of the CLI starts without it).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from riff.cli.common import console, fail, load_settings

sandbox_app = typer.Typer(
    help="Local sandboxes that speak each marketplace's API, with demo data.", no_args_is_help=True
)


def _known(names: list[str]) -> list[str]:
    from riff_sandbox.registry import SANDBOXES

    unknown = [name for name in names if name not in SANDBOXES]
    if unknown:
        fail(f"unknown sandbox(es): {', '.join(unknown)}; known: {', '.join(SANDBOXES)}")
    return names or list(SANDBOXES)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@sandbox_app.command("up")
def up(
    names: list[str] = typer.Argument(None, help="Sandboxes to start (default: all)", show_default=False),
    port_base: int = typer.Option(
        None, "--port-base", help="Port of the first sandbox in the registry (default RIFF_SANDBOX_BASE_PORT)"
    ),
    host: str = typer.Option("127.0.0.1", help="Bind address"),
    seed_size: int = typer.Option(None, help="Demo listings to seed into a new or reset sandbox"),
) -> None:
    """Run sandboxes in the foreground until Ctrl-C. State lives in RIFF_DATA_DIR/sandboxes/."""
    from riff_sandbox.runner import start_many

    settings = load_settings()
    selected = _known(names or [])
    base = settings.sandbox_base_port if port_base is None else port_base
    try:
        running = start_many(
            selected, host=host, port_base=base, data_dir=settings.data_dir, seed_size=seed_size
        )
    except OSError as error:
        fail(f"could not start sandboxes: {error}")
    for sandbox in running:
        console.print(
            f"[bold]{sandbox.name}[/]  API {sandbox.api_base_url}  token {sandbox.token or '-'}"
            f"  control {sandbox.base_url}/_sandbox",
            soft_wrap=True,
        )
    console.print("Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for sandbox in running:
            sandbox.stop()
    console.print("Sandboxes stopped.")


@sandbox_app.command("reset")
def reset(
    name: str = typer.Argument(..., help="Sandbox to reset"),
    seed_size: int = typer.Option(None, help="Demo listings to seed"),
    seed: int = typer.Option(None, help="Demo-data seed"),
) -> None:
    """Back to fresh demo data: through the running sandbox if there is one, else in its data file."""
    from riff_sandbox.runner import reset as reset_sandbox

    _known([name])
    settings = load_settings()
    where = reset_sandbox(name, data_dir=settings.data_dir, seed=seed, seed_size=seed_size)
    console.print(f"Sandbox {name} reset ({'running server' if where == 'running' else 'data file'}).")
