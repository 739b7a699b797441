"""Helpers every CLI module shares: settings, the database, and error output with a non-zero exit."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console

from riff.core.db import Database
from riff.core.errors import RiffError
from riff.core.settings import Settings, get_settings

console = Console()
err_console = Console(stderr=True)


def load_settings() -> Settings:
    return get_settings()


def open_database(settings: Settings | None = None) -> Database:
    settings = settings or load_settings()
    return Database(settings.resolved_database_url)


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def fail_from(error: RiffError) -> NoReturn:
    where = f" (field: {error.field})" if error.field else ""
    fail(f"{error.message}{where}")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, default=str, indent=2))
