"""The ``riff`` command. Each area registers its own Typer sub-app from a module in this package."""

from __future__ import annotations

import typer

from riff.cli import catalog, channels, database, jobs, sandbox, server, users
from riff.cli import sync as sync_cli
from riff.cli.common import load_settings
from riff.cli.vr import vr_app
from riff.core.logging import configure_logging

app = typer.Typer(name="riff", help="RIFF: one catalog, many marketplaces, sold once.", no_args_is_help=True)


@app.callback()
def _configure() -> None:
    # Logs go to stderr as structured events, so stdout carries only a command's own (--json) output.
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)


app.add_typer(database.app, name="db", help="Database migrations.")
app.add_typer(catalog.import_app, name="import", help="Import products.")
app.add_typer(catalog.export_app, name="export", help="Export products.")
app.add_typer(catalog.products_app, name="products", help="Browse products.")
app.add_typer(users.user_app, name="user", help="Manage users.")
app.add_typer(users.token_app, name="token", help="Manage API tokens.")
app.add_typer(sandbox.sandbox_app, name="sandbox")
app.add_typer(channels.channels_app, name="channels", help="Channel accounts (Reverb, eBay, ...).")
app.add_typer(jobs.jobs_app, name="jobs", help="Inspect and manage background jobs.")
app.add_typer(vr_app, name="vr", help="Vintage & Rare: cookies, brands, ID resolution.")
jobs.register(app)
server.register(app)
sync_cli.register(app)  # riff sync CHANNEL, riff reconcile [CHANNEL]


if __name__ == "__main__":
    app()
