"""``riff channels``: list, add and configure channel accounts. Secrets are write-only and encrypted.

Pass a secret as ``--secret token`` (prompted, hidden) rather than ``--secret token=...`` so it stays out
of shell history.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from riff.channels import service
from riff.channels.schemas import AccountCreate, AccountUpdate
from riff.cli.common import console, fail, fail_from, load_settings, open_database, print_json
from riff.core.errors import RiffError
from riff.core.security import SecretBox, load_secret_key

channels_app = typer.Typer(no_args_is_help=True)

ConfigOption = Annotated[
    list[str] | None, typer.Option("--config", "-c", help="KEY=VALUE (VALUE parsed as JSON when it can be)")
]
SecretOption = Annotated[
    list[str] | None, typer.Option("--secret", "-s", help="KEY=VALUE, or KEY alone to be prompted (hidden)")
]


def _parse_config(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            fail(f"--config expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def _parse_secrets(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not key:
            fail("--secret expects KEY or KEY=VALUE")
        out[key] = value if sep else typer.prompt(f"{key}", hide_input=True)
    return out


def _box() -> SecretBox:
    return SecretBox(load_secret_key(load_settings()))


@channels_app.command("list")
def list_accounts(
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show channel accounts (never their secrets, only which are set)."""
    box = _box()
    database = open_database()
    with database.read_session() as session:
        rows = [
            service.account_read(box, a).model_dump(mode="json")
            for a in service.list_accounts(session, channel)
        ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "channel", "name", "enabled", "sandbox", "base url", "status", "secrets", "config")
    for row in rows:
        status = row["status"] + (f": {row['status_message']}" if row["status_message"] else "")
        table.add_row(
            str(row["id"]),
            row["channel"],
            row["name"],
            "yes" if row["enabled"] else "no",
            "yes" if row["is_sandbox"] else "no",
            row["base_url"] or "-",
            status,
            ", ".join(row["secret_keys"]) or "-",
            json.dumps(row["config"], sort_keys=True),
        )
    console.print(table)


@channels_app.command("add")
def add_account(
    channel: Annotated[str, typer.Argument(help="reverb, ebay, shopify, vintage_and_rare, discogs")],
    name: Annotated[str, typer.Option(help="Account name (unique per channel)")] = "default",
    base_url: Annotated[str | None, typer.Option(help="API base URL (a sandbox)")] = None,
    sandbox: Annotated[bool, typer.Option("--sandbox/--live", help="Mark as a sandbox account")] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled")] = False,
    config: ConfigOption = None,
    secret: SecretOption = None,
) -> None:
    """Add a channel account."""
    box = _box()
    try:
        data = AccountCreate(
            channel=channel,
            name=name,
            enabled=not disabled,
            is_sandbox=sandbox,
            base_url=base_url,
            config=_parse_config(config),
            secrets=_parse_secrets(secret),
        )
    except ValidationError as exc:
        fail(str(exc.errors()[0]["msg"]))
    database = open_database()
    try:
        with database.session() as session:
            account = service.create_account(session, box, data)
            account_id = account.id
    except RiffError as error:
        fail_from(error)
    console.print(f"added {channel} account {name!r} (id {account_id})")


def _update(account_id: int, data: AccountUpdate) -> None:
    box = _box()
    database = open_database()
    try:
        with database.session() as session:
            service.update_account(session, box, service.get_account(session, account_id), data)
    except RiffError as error:
        fail_from(error)


@channels_app.command("set")
def set_account(
    account_id: Annotated[int, typer.Argument(help="Account id (see `riff channels list`)")],
    name: Annotated[str | None, typer.Option(help="New name")] = None,
    base_url: Annotated[str | None, typer.Option(help="API base URL; empty string for the default")] = None,
    config: ConfigOption = None,
    secret: SecretOption = None,
    unset_config: Annotated[
        list[str] | None, typer.Option("--unset-config", help="Remove a config key")
    ] = None,
) -> None:
    """Change an account's config or secrets (new secrets clear a needs-attention status)."""
    fields: dict[str, Any] = {}
    if name is not None:
        fields["name"] = name
    if base_url is not None:
        fields["base_url"] = base_url or None
    config_values: dict[str, Any] = _parse_config(config)
    for key in unset_config or []:
        config_values[key] = None
    if config_values:
        fields["config"] = config_values
    secrets = _parse_secrets(secret)
    if secrets:
        fields["secrets"] = secrets
    if not fields:
        fail("nothing to change: pass --config, --secret, --name or --base-url")
    _update(account_id, AccountUpdate(**fields))
    console.print(f"updated account {account_id}")


@channels_app.command("enable")
def enable_account(account_id: Annotated[int, typer.Argument()]) -> None:
    """Enable an account."""
    _update(account_id, AccountUpdate(enabled=True))
    console.print(f"enabled account {account_id}")


@channels_app.command("disable")
def disable_account(account_id: Annotated[int, typer.Argument()]) -> None:
    """Disable an account (its jobs fail at once until it is enabled again)."""
    _update(account_id, AccountUpdate(enabled=False))
    console.print(f"disabled account {account_id}")


@channels_app.command("webhook-token")
def webhook_token(account_id: Annotated[int, typer.Argument()]) -> None:
    """Generate a new secret webhook path token and print the webhook path once."""
    box = _box()
    database = open_database()
    try:
        with database.session() as session:
            account = service.get_account(session, account_id)
            token = service.rotate_webhook_token(session, box, account)
            channel = account.channel
    except RiffError as error:
        fail_from(error)
    console.print("Register this path (after your public base URL) with the platform; it is not shown again:")
    typer.echo(f"/webhooks/{channel}/{token}")
