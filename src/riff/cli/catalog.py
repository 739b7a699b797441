"""``riff import``, ``riff export``, ``riff products`` (filled in by the catalog work)."""

from __future__ import annotations

import typer

import_app = typer.Typer(no_args_is_help=True)
export_app = typer.Typer(no_args_is_help=True)
products_app = typer.Typer(no_args_is_help=True)
