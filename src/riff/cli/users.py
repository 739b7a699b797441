"""``riff user`` and ``riff token`` (filled in by the auth work)."""

from __future__ import annotations

import typer

user_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)
