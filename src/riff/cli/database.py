"""``riff db``: migrations."""

from __future__ import annotations

import typer

from riff.cli.common import console, load_settings
from riff.core import migrate

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    url = load_settings().resolved_database_url
    migrate.upgrade(url, revision)
    console.print(f"[green]database at {revision}[/]")


@app.command("downgrade")
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base")) -> None:
    """Revert migrations down to REVISION."""
    url = load_settings().resolved_database_url
    migrate.downgrade(url, revision)
    console.print(f"[yellow]database at {revision}[/]")
