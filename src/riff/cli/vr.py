"""``riff vr``: Vintage & Rare cookies, brand checks and the batched ID resolution.

The cookie refresh procedure (docs/channels/vintage_and_rare.md):

    riff vr harvest-cookies        # a real browser passes Cloudflare and logs in; cookies saved
    riff vr cookies-status         # each cookie with its expiry; warns before cf_clearance expires
    riff vr export-cookies         # base64 for VR_COOKIES_BASE64 on a host without a browser
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from riff.cli.common import console, fail, load_settings, open_database, print_json

vr_app = typer.Typer(help="Vintage & Rare: cookies, brands, ID resolution.", no_args_is_help=True)

BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="Site URL (default: the V&R account's, else vintageandrare.com)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def _channel(base_url: str | None) -> tuple[Any, int | None]:
    """The V&R adapter for the enabled account (credentials from its secrets or the environment)."""
    from riff.channels import service
    from riff.channels.registry import channel_class
    from riff.core.errors import RiffError
    from riff.core.security import SecretBox, load_secret_key

    settings = load_settings()
    database = open_database(settings)
    try:
        with database.read_session() as session:
            account = service.resolve_account(session, "vintage_and_rare")
            session.expunge(account)
    except RiffError:
        account = None
    finally:
        database.dispose()
    cls: Any = channel_class("vintage_and_rare")
    if account is None:
        return cls(config={}, secrets={}, base_url=base_url), None
    secrets = service.read_secrets(SecretBox(load_secret_key(settings)), account)
    url = base_url or account.base_url or cls.default_base_url
    return cls(config=account.config or {}, secrets=secrets, base_url=url), account.id


def _run(coroutine: Any) -> Any:
    from riff.channels.errors import ChannelError

    try:
        return asyncio.run(coroutine)
    except ChannelError as exc:
        fail(exc.message)


def _print_cookie_status(status: dict[str, Any]) -> None:
    table = Table("cookie", "domain", "expires (UTC)", "days left")
    for cookie in status["cookies"]:
        expires = cookie["expires_at"] or "session"
        days = "-" if cookie["days_left"] is None else f"{cookie['days_left']:.1f}"
        style = "red" if cookie["expired"] else None
        table.add_row(cookie["name"], cookie["domain"], expires, days, style=style)
    console.print(table)
    if status.get("store"):
        console.print(f"store: {status['store']}")
    for warning in status["warnings"]:
        console.print(f"[bold yellow]warning:[/] {warning}")


@vr_app.command("harvest-cookies")
def harvest_cookies(
    base_url: BaseUrlOption = None,
    log_in: Annotated[
        bool, typer.Option("--login/--no-login", help="Also log in through the browser")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Open a real browser (Chromium here, or SELENIUM_GRID_URL; VR_HEADLESS=false to watch it), pass the
    Cloudflare challenge, log in, and save every cookie to the cookie store."""
    channel, account_id = _channel(base_url)

    async def main() -> dict[str, Any]:
        try:
            return await channel.harvest_cookies(log_in=log_in)  # type: ignore[no-any-return]
        finally:
            await channel.aclose()

    status = _run(main())
    if account_id is not None:
        from riff.channels.vintage_and_rare.tasks import reset_attention

        database = open_database()
        try:
            reset_attention(database, account_id)
        finally:
            database.dispose()
    if as_json:
        print_json(status)
        return
    console.print(f"harvested {status['cookies']} cookies")
    _print_cookie_status(status)


@vr_app.command("cookies-status")
def cookies_status(as_json: JsonOption = False) -> None:
    """Every stored cookie with its expiry and days left; warns before cf_clearance expires."""
    from riff.channels.vintage_and_rare.cookies import CookieFormatError, CookieJar, cookie_status
    from riff.channels.vintage_and_rare.settings import get_vr_settings

    settings = get_vr_settings()
    try:
        jar = CookieJar.load(
            path=settings.cookie_store_path(),
            base64_text=settings.cookies_base64.get_secret_value() if settings.cookies_base64 else None,
        )
    except CookieFormatError as exc:
        fail(str(exc))
    status = cookie_status(jar.cookies(), warn_days=settings.cookie_warn_days)
    status["store"] = str(settings.cookie_store_path())
    if as_json:
        print_json(status)
        return
    _print_cookie_status(status)


@vr_app.command("export-cookies")
def export_cookies(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout")
    ] = None,
) -> None:
    """The stored cookies as base64, ready for VR_COOKIES_BASE64 (it contains a live session: keep it secret)."""
    from riff.channels.vintage_and_rare.cookies import CookieJar
    from riff.channels.vintage_and_rare.settings import get_vr_settings

    settings = get_vr_settings()
    jar = CookieJar.load(
        path=settings.cookie_store_path(),
        base64_text=settings.cookies_base64.get_secret_value() if settings.cookies_base64 else None,
    )
    if not jar.cookies():
        fail(f"no cookies stored in {settings.cookie_store_path()}: run `riff vr harvest-cookies` first")
    encoded = jar.to_base64()
    if output is not None:
        output.write_text(encoded + "\n")
        output.chmod(0o600)
        console.print(f"wrote {len(jar.cookies())} cookies to {output}")
        return
    typer.echo(encoded)


@vr_app.command("validate-brand")
def validate_brand(
    brand: Annotated[str, typer.Argument(help="Brand name")], base_url: BaseUrlOption = None
) -> None:
    """Does V&R accept this brand? (cache, the site's check, local products, the known-brands file)."""
    from riff.channels.vintage_and_rare import repository

    channel, _ = _channel(base_url)
    database = open_database()

    def local(name: str) -> bool:
        with database.read_session() as session:
            return repository.brand_listed(session, name)

    async def main() -> Any:
        try:
            return await channel.validate_brand(brand, local)
        finally:
            await channel.aclose()

    try:
        print_json(_run(main()).as_dict())
    finally:
        database.dispose()


@vr_app.command("resolve-pending")
def resolve_pending() -> None:
    """Find the V&R ids of every created-but-unresolved listing now, with one export download."""
    from riff.channels.vintage_and_rare import resolution

    settings = load_settings()
    database = open_database(settings)
    try:
        report = _run(resolution.resolve_pending(database, settings, trigger="cli"))
    finally:
        database.dispose()
    print_json(report.api())


@vr_app.command("resolution-status")
def resolution_status() -> None:
    """Pending count, oldest pending, last batch, and the pending jobs older than an hour."""
    from riff.channels.vintage_and_rare import resolution

    database = open_database()
    try:
        with database.read_session() as session:
            print_json(resolution.status(session))
    finally:
        database.dispose()


@vr_app.command("known-brands")
def known_brands(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: VR_KNOWN_BRANDS_FILE")
    ] = None,
    base_url: BaseUrlOption = None,
) -> None:
    """Refresh the known-brands file (the last fallback of brand validation) from the brands in the export."""
    import json

    from riff.channels.vintage_and_rare.settings import get_vr_settings

    target = output or get_vr_settings().known_brands_file
    if target is None:
        fail("set VR_KNOWN_BRANDS_FILE or pass --output")
    channel, _ = _channel(base_url)

    async def main() -> list[Any]:
        try:
            return await channel.inventory_rows()  # type: ignore[no-any-return]
        finally:
            await channel.aclose()

    names = sorted({row.brand for row in _run(main()) if row.brand})
    target.write_text(json.dumps({"brands": names}, indent=1) + "\n")
    console.print(f"wrote {len(names)} brands to {target}")
