"""``riff user`` and ``riff token``: manage accounts and API tokens from the shell.

Secrets (generated passwords, new tokens) are printed once, on stdout, with nothing else on the
line so they can be piped; everything else goes through the rich console.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from riff.auth import service
from riff.auth.models import Role
from riff.cli.common import console, fail, fail_from, open_database, print_json
from riff.core.errors import RiffError

user_app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True)

RoleOption = Annotated[
    Role, typer.Option("--role", "-r", help="owner, staff or read_only", case_sensitive=False)
]
PasswordOption = Annotated[
    str | None,
    typer.Option("--password", "-p", help="Set this password (visible in shell history; prefer the prompt)"),
]
GenerateOption = Annotated[bool, typer.Option("--generate", help="Generate a password and print it once")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextlib.contextmanager
def _unit_of_work() -> Iterator[Session]:
    """One committed transaction; RiffErrors become a red message and exit code 1."""
    database = open_database()
    try:
        with database.session() as session:
            yield session
    except RiffError as error:
        fail_from(error)
    finally:
        database.dispose()


def _choose_password(password: str | None, generate: bool) -> tuple[str, bool]:
    """(password, was generated). Neither flag → prompt twice, hidden."""
    if password is not None and generate:
        fail("use --password or --generate, not both")
    if generate:
        return service.generate_password(), True
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password, False


def _fmt(value: object) -> str:
    return "-" if value is None else str(value)


# ---- riff user ----------------------------------------------------------------------------------


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name")],
    role: RoleOption = Role.STAFF,
    password: PasswordOption = None,
    generate: GenerateOption = False,
    email: Annotated[str | None, typer.Option(help="Contact e-mail")] = None,
) -> None:
    """Create a user. Without --password or --generate you are asked for the password."""
    chosen, generated = _choose_password(password, generate)
    with _unit_of_work() as session:
        user = service.create_user(session, username=username, password=chosen, role=role, email=email)
        user_id = user.id
    console.print(f"Created user [bold]{username}[/] (id {user_id}, role {role.value}).")
    if generated:
        console.print("One-time password (shown once; ask the user to change it):")
        typer.echo(chosen)


@user_app.command("list")
def user_list(as_json: JsonOption = False) -> None:
    """List users."""
    with _unit_of_work() as session:
        rows = [
            {
                "id": user.id,
                "username": user.username,
                "role": user.role.value,
                "active": user.is_active,
                "email": user.email,
                "created_at": user.created_at.isoformat(),
                "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
            }
            for user in service.list_users(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No users yet. Create one with [bold]riff user create USERNAME --role owner[/].")
        return
    table = Table("ID", "Username", "Role", "Active", "E-mail", "Last login")
    for row in rows:
        table.add_row(
            str(row["id"]),
            str(row["username"]),
            str(row["role"]),
            "yes" if row["active"] else "no",
            _fmt(row["email"]),
            _fmt(row["last_login_at"]),
        )
    console.print(table)


@user_app.command("set-password")
def user_set_password(
    username: Annotated[str, typer.Argument(help="Whose password to set")],
    password: PasswordOption = None,
    generate: GenerateOption = False,
) -> None:
    """Set a user's password (ends their browser sessions)."""
    chosen, generated = _choose_password(password, generate)
    with _unit_of_work() as session:
        service.set_password(session, service.get_user_by_username(session, username), chosen)
    console.print(f"Password changed for [bold]{username}[/].")
    if generated:
        console.print("One-time password (shown once):")
        typer.echo(chosen)


# ---- riff token ---------------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", "-u", help="Username the token acts as")],
    name: Annotated[str, typer.Option("--name", "-n", help="What the token is for, e.g. 'stock script'")],
    expires_days: Annotated[
        int | None, typer.Option("--expires-days", help="Expire after this many days (default: never)")
    ] = None,
) -> None:
    """Create an API token and print it once. Use it as ``Authorization: Bearer <token>``."""
    with _unit_of_work() as session:
        owner = service.get_user_by_username(session, user)
        token, plaintext = service.create_api_token(
            session, owner, name=name, expires_at=service.token_expiry(expires_days)
        )
        token_id, expires_at = token.id, token.expires_at
    expiry = f", expires {expires_at.isoformat()}" if expires_at else ", never expires"
    console.print(f"Created token {token_id} for [bold]{user}[/]{expiry}. It is shown once; store it now:")
    typer.echo(plaintext)


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's tokens")] = None,
    as_json: JsonOption = False,
) -> None:
    """List API tokens (their prefix, never the secret)."""
    with _unit_of_work() as session:
        pairs = service.list_all_api_tokens(session)
        rows = [
            {
                "id": token.id,
                "user": owner.username,
                "name": token.name,
                "prefix": token.prefix,
                "created_at": token.created_at.isoformat(),
                "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
                "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            }
            for token, owner in pairs
            if user is None or owner.username == user
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No API tokens.")
        return
    table = Table("ID", "User", "Name", "Prefix", "Created", "Last used", "Expires", "Revoked")
    for row in rows:
        table.add_row(*(_fmt(row[key]) for key in row))
    console.print(table)


@token_app.command("revoke")
def token_revoke(token_id: Annotated[int, typer.Argument(help="Token id (see `riff token list`)")]) -> None:
    """Revoke an API token; scripts using it get 401 from then on."""
    with _unit_of_work() as session:
        service.revoke_api_token(session, token_id)
    console.print(f"Revoked token {token_id}.")
