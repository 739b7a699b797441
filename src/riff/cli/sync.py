"""``riff sync CHANNEL`` (pull now, with progress) and ``riff reconcile [CHANNEL]`` (the mismatch report)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from riff.cli.common import console, fail, fail_from, load_settings, open_database, print_json
from riff.core.db import Database
from riff.core.errors import RiffError
from riff.core.settings import Settings


@dataclasses.dataclass
class _CliContext:
    """What a pull needs of a job context, for a pull run in this process."""

    database: Database
    settings: Settings
    payload: dict[str, Any]
    channel: str
    product_id: int | None = None
    listing_id: int | None = None

    def heartbeat(self) -> None:
        return None

    @property
    def rate_limiter(self) -> Any:
        from riff.jobs import get_rate_limiter

        return get_rate_limiter(self.database, self.settings)


def sync(
    channel: Annotated[str, typer.Argument(help="reverb, ebay, shopify, vintage_and_rare, discogs")],
    full: Annotated[bool, typer.Option("--full", help="Read every listing, not only recent changes")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Pull CHANNEL's listings now and apply them (the same run as the hourly job)."""
    from riff.channels.errors import ChannelError
    from riff.jobs.errors import JobError
    from riff.sync.pull import PullStats, run_pull

    settings = load_settings()
    database = open_database(settings)
    context = _CliContext(database=database, settings=settings, payload={"full": full}, channel=channel)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=as_json,
            disable=as_json,
        ) as progress:
            task = progress.add_task(f"pulling {channel}", total=None, detail="")

            def show(stats: PullStats) -> None:
                progress.update(
                    task,
                    detail=f"{stats.seen} seen, {stats.decided} decided, {stats.refreshed} refreshed, "
                    f"{stats.unknown_new} new unmatched",
                )

            result = asyncio.run(run_pull(context, channel, progress=show))
    except RiffError as exc:
        fail_from(exc)
    except (ChannelError, JobError) as exc:
        fail(str(exc))
    finally:
        database.dispose()
    if as_json:
        print_json(result)
        return
    console.print(
        f"[green]{'full' if result['full'] else 'incremental'} pull of {channel}[/]: {result['seen']} listings, "
        f"{result['decided']} decisions, {result['refreshed']} refreshed, {result['unknown_new']} new unmatched, "
        f"{result['missing']} missing ({result['fetch_seconds']} s fetching, {result['diff_seconds']} s diffing)"
    )
    for decision, count in sorted(result["decisions"].items()):
        console.print(f"  {decision}: {count}")
    if result.get("note"):
        console.print(f"[yellow]{result['note']}[/]")


def reconcile(
    channel: Annotated[
        str | None, typer.Argument(help="One channel (default: every channel with an account)")
    ] = None,
    pull: Annotated[bool, typer.Option("--pull", help="Run a full pull first")] = False,
    limit: Annotated[int, typer.Option(help="Mismatches shown per channel")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """RIFF against each channel: price, quantity and state mismatches with their likely cause and fix."""
    from riff.sync import reconcile as reconciliation

    if pull and channel:
        sync(channel, full=True, as_json=as_json)
    settings = load_settings()
    database = open_database(settings)
    try:
        with database.read_session() as session:
            reports = reconciliation.report(session, channel, limit=limit)
    except RiffError as exc:
        fail_from(exc)
    finally:
        database.dispose()
    if as_json:
        print_json({"channels": [r.as_json() for r in reports]})
        return
    for report in reports:
        counts = ", ".join(f"{field} {count}" for field, count in report.counts.items())
        console.print(
            f"[bold]{report.channel}[/]: {report.listings} listings ({report.live} live); mismatches: {counts}"
        )
        if not report.mismatches:
            continue
        table = Table("listing", "remote id", "field", "RIFF", "channel", "likely cause", "fix")
        for m in report.mismatches:
            table.add_row(
                str(m.listing_id),
                m.remote_id,
                m.field,
                str(m.local),
                str(m.remote),
                m.cause,
                " | ".join(m.fixes),
            )
        console.print(table)
        if report.truncated:
            console.print(f"(first {limit} shown; --limit for more)")
    console.print("Fix one: POST /api/reconciliation/fix {listing_id, action: push_local|accept_remote}")


def register(app: typer.Typer) -> None:
    """Add ``riff sync`` and ``riff reconcile`` to the top-level app."""
    app.command("sync")(sync)
    app.command("reconcile")(reconcile)
