"""``riff import csv``, ``riff export csv``, ``riff products list``.

Progress bars and tables go to stderr/stdout through Rich; ``--json`` prints machine-readable output
only (on stdout). Stock movements written from here carry the actor "cli".
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from riff.catalog import importer, queries
from riff.catalog.consts import CLI_ACTOR, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from riff.catalog.schemas import ImportReport
from riff.cli.common import console, err_console, fail, fail_from, open_database, print_json
from riff.core.errors import RiffError

import_app = typer.Typer(no_args_is_help=True)
export_app = typer.Typer(no_args_is_help=True)
products_app = typer.Typer(no_args_is_help=True)

PHASE_LABELS = {"validate": "Validating rows", "write": "Writing products"}


def _diagnostics_to_stderr() -> contextlib.redirect_stdout[Any]:
    # structlog's default PrintLogger writes to whatever sys.stdout is when a line is logged; while a
    # command works, point that at stderr so stdout carries only the table, the CSV or the JSON.
    return contextlib.redirect_stdout(sys.stderr)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        yield progress


def _phase_callback(progress: Progress | None) -> Callable[[str, int, int], None] | None:
    if progress is None:
        return None
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = progress.add_task(PHASE_LABELS.get(phase, phase), total=total)
        progress.update(tasks[phase], completed=done, total=total)

    return update


@import_app.command("csv")
def import_csv(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="RIFF product CSV"),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate and show what would change; write nothing"
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the good rows, list the bad ones"
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Import products from a CSV file (idempotent by SKU).

    Columns: sku,title,brand,model,year,decade,finish,condition,category,description,price,currency,
    cost,quantity,is_stocked_item,status and attr.<name> per attribute. Rows are numbered as a
    spreadsheet shows them: the header is row 1, the first product row 2. Any bad row means nothing is
    written (exit 1) unless --skip-invalid.
    """
    data = file.read_bytes()
    database = open_database()
    try:
        with _diagnostics_to_stderr(), _progress(not json_output) as progress, database.session() as session:
            report = importer.import_products(
                session,
                data,
                actor=CLI_ACTOR,
                source=file.name,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                progress=_phase_callback(progress),
            )
    except RiffError as error:
        if json_output:
            print_json(error.to_body())
            raise typer.Exit(1) from None
        _print_detail_errors(error.details)
        fail_from(error)
    finally:
        database.dispose()

    if json_output:
        print_json(report.model_dump(mode="json"))
    else:
        _print_report(report)
    if report.errors and not skip_invalid:
        raise typer.Exit(1)


def _print_detail_errors(details: Any) -> None:
    if not isinstance(details, list) or not details:
        return
    table = Table("row", "column", "reason", title="Problems", title_justify="left")
    for item in details:
        if isinstance(item, dict):
            table.add_row(
                str(item.get("row", "")), str(item.get("column") or ""), str(item.get("reason", ""))
            )
    err_console.print(table)


def _print_report(report: ImportReport) -> None:
    if report.errors:
        table = Table("row", "sku", "column", "reason", title="Invalid rows", title_justify="left")
        for error in report.errors:
            table.add_row(str(error.row), error.sku or "", error.column or "", error.reason)
        err_console.print(table)
    if report.dry_run:
        verdict = "[yellow]dry run: nothing written[/]"
    elif report.written:
        verdict = "[green]imported[/]"
    else:
        verdict = "[red]nothing imported: fix the rows above or use --skip-invalid[/]"
    console.print(
        f"{verdict}  created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
        + (f", skipped {report.skipped}" if report.skipped else "")
    )


@export_app.command("csv")
def export_csv(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of standard output"),
    status: str | None = typer.Option(None, help="Comma-separated statuses (default: all but archived)"),
    brand: str | None = typer.Option(None, help="Exact brand, any case"),
    category: str | None = typer.Option(None, help="Category slug (with its sub-categories)"),
    q: str | None = typer.Option(None, "--q", help="Search words"),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary (needs --output)"),
) -> None:
    """Export products as a RIFF CSV; importing it back changes nothing."""
    if json_output and output is None:
        fail("--json prints a summary, so the CSV needs --output FILE")
    database = open_database()
    rows = 0
    stdout = sys.stdout
    try:
        with _diagnostics_to_stderr(), database.read_session() as session:
            filters = queries.parse_filters(session, status=status, brand=brand, category=category, q=q)
            total = queries.count_products(session, filters)
            with (
                _progress(output is not None and not json_output) as progress,
                _open_output(output, stdout) as handle,
            ):
                task = progress.add_task("Exporting products", total=total) if progress is not None else None

                def advance(count: int) -> None:
                    nonlocal rows
                    rows += count
                    if progress is not None and task is not None:
                        progress.update(task, completed=rows)

                for chunk in queries.export_csv(session, filters, progress=advance):
                    handle.write(chunk)
    except RiffError as error:
        fail_from(error)
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
    finally:
        database.dispose()
    if json_output:
        print_json({"rows": rows, "output": str(output)})
    elif output is not None:
        console.print(f"[green]exported {rows} products to {output}[/]")


@contextlib.contextmanager
def _open_output(output: Path | None, stdout: Any) -> Iterator[Any]:
    if output is None:
        yield stdout
        stdout.flush()
        return
    # newline="": the csv module already writes CRLF row ends; let nothing translate them again.
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


@products_app.command("list")
def list_products(
    status: str | None = typer.Option(None, help="Comma-separated statuses (default: all but archived)"),
    q: str | None = typer.Option(None, "--q", help="Search words (each must start a word)"),
    brand: str | None = typer.Option(None, help="Exact brand, any case"),
    category: str | None = typer.Option(None, help="Category slug"),
    sort: str | None = typer.Option(None, help="e.g. price, -updated_at"),
    limit: int = typer.Option(DEFAULT_PAGE_LIMIT, min=1, max=MAX_PAGE_LIMIT),
    offset: int = typer.Option(0, min=0),
    json_output: bool = typer.Option(False, "--json", help="Print the page as JSON"),
) -> None:
    """List products as a table (or JSON)."""
    database = open_database()
    try:
        with _diagnostics_to_stderr(), database.read_session() as session:
            filters = queries.parse_filters(
                session,
                status=status,
                q=q,
                brand=brand,
                category=category,
                sort=sort,
                limit=limit,
                offset=offset,
            )
            page = queries.list_products(session, filters)
    except RiffError as error:
        fail_from(error)
    finally:
        database.dispose()
    if json_output:
        print_json(page.model_dump(mode="json"))
        return
    table = Table()
    table.add_column("SKU", no_wrap=True)
    table.add_column("Title")
    table.add_column("Brand")
    table.add_column("Price", justify="right", no_wrap=True)
    table.add_column("Qty", justify="right")
    table.add_column("Status", no_wrap=True)
    table.add_column("Updated", no_wrap=True)
    for item in page.items:
        table.add_row(
            item.sku,
            item.title,
            item.brand or "",
            f"{item.price} {item.currency}",
            str(item.quantity),
            item.status.value,
            item.updated_at.strftime("%Y-%m-%d"),
        )
    console.print(table)
    shown = f"{page.offset + 1}-{page.offset + len(page.items)}" if page.items else "0"
    console.print(f"{shown} of {page.total}")
