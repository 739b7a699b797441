"""``riff jobs ...`` (inspect and steer the queue) and ``riff worker`` (run a worker process)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import typer
from rich.table import Table

from riff.cli.common import console, err_console, fail_from, load_settings, open_database, print_json
from riff.core.clock import utcnow
from riff.core.errors import RiffError
from riff.jobs import service
from riff.jobs.consts import JobStatus, Priority
from riff.jobs.models import Job
from riff.jobs.scheduler import Scheduler
from riff.jobs.schemas import JobRead, ScheduleRead

jobs_app = typer.Typer(no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _job_dict(job: Job) -> dict[str, Any]:
    return JobRead.model_validate(job).model_dump(mode="json")


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _age(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    seconds = (utcnow() - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    text = (
        f"{seconds:.0f}s"
        if seconds < 120
        else f"{seconds / 60:.0f}m"
        if seconds < 7200
        else f"{seconds / 3600:.1f}h"
    )
    return f"in {text}" if future else f"{text} ago"


@jobs_app.command("list")
def list_jobs(
    status: Annotated[
        list[JobStatus] | None, typer.Option("--status", "-s", help="Repeat for several")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind")] = None,
    product_id: Annotated[int | None, typer.Option("--product", help="Only jobs of this product id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonOption = False,
) -> None:
    """List jobs, newest first."""
    database = open_database()
    with database.read_session() as session:
        jobs, total = service.list_jobs(
            session,
            statuses=[s.value for s in status] if status else None,
            channel=channel,
            kind=kind,
            product_id=product_id,
            limit=limit,
            offset=offset,
        )
        rows = [_job_dict(job) for job in jobs]
    if as_json:
        print_json({"items": rows, "total": total, "limit": limit, "offset": offset})
        return
    table = Table(title=f"Jobs ({len(rows)} of {total})")
    for column in (
        "id",
        "kind",
        "channel",
        "status",
        "prio",
        "attempts",
        "run after",
        "created",
        "last error",
    ):
        table.add_column(column)
    for job in rows:
        table.add_row(
            str(job["id"]),
            job["kind"],
            job["channel"] or "",
            job["status"],
            str(job["priority"]),
            f"{job['attempts']}/{job['max_attempts']}",
            _age(_parse(job["run_after"])) if job["status"] == JobStatus.QUEUED else "",
            _age(_parse(job["created_at"])),
            (job["last_error_message"] or "")[:60],
        )
    console.print(table)


@jobs_app.command("show")
def show_job(job_id: Annotated[int, typer.Argument(help="Job id")], as_json: JsonOption = False) -> None:
    """Everything about one job."""
    database = open_database()
    try:
        with database.read_session() as session:
            data = _job_dict(service.get_job(session, job_id))
    except RiffError as error:
        fail_from(error)
    if as_json:
        print_json(data)
        return
    table = Table(title=f"Job {job_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        table.add_row(
            key, json.dumps(value) if isinstance(value, dict) else ("" if value is None else str(value))
        )
    console.print(table)


@jobs_app.command("retry")
def retry_job(job_id: Annotated[int, typer.Argument(help="Job id")], as_json: JsonOption = False) -> None:
    """Run a failed or cancelled job again (attempts start over), or a queued one right away."""
    _transition(service.retry_job, job_id, "queued again", as_json)


@jobs_app.command("cancel")
def cancel_job(job_id: Annotated[int, typer.Argument(help="Job id")], as_json: JsonOption = False) -> None:
    """Cancel a queued job, or acknowledge a failed one. Running jobs cannot be cancelled."""
    _transition(service.cancel_job, job_id, "cancelled", as_json)


def _transition(action: Any, job_id: int, done: str, as_json: bool) -> None:
    database = open_database()
    try:
        with database.session() as session:
            data = _job_dict(action(session, job_id))
    except RiffError as error:
        fail_from(error)
    if as_json:
        print_json(data)
    else:
        console.print(f"[green]job {job_id} {done}[/] (status {data['status']})")


@jobs_app.command("stats")
def stats(as_json: JsonOption = False) -> None:
    """Queue depth by status and channel, the longest wait, failures in the last hour."""
    database = open_database()
    with database.read_session() as session:
        data = service.queue_stats(session).as_dict()
    if as_json:
        print_json(data)
        return
    statuses = [s.value for s in JobStatus]
    table = Table(title="Jobs by channel")
    table.add_column("channel")
    for status in statuses:
        table.add_column(status, justify="right")
    for channel, counts in sorted(data["by_channel"].items()):
        table.add_row(channel, *(str(counts.get(status, 0)) for status in statuses))
    table.add_row("[bold]total[/]", *(f"[bold]{data['by_status'].get(status, 0)}[/]" for status in statuses))
    console.print(table)
    oldest = data["oldest_queued_age_seconds"]
    console.print(f"longest wait of a runnable job: {'-' if oldest is None else f'{oldest:.1f}s'}")
    console.print(
        f"failed in the last hour: {data['failed_last_hour']}  (attempt errors: {data['errors_last_hour']})"
    )
    if data["expired_leases"]:
        console.print(f"[yellow]running jobs with an expired lease: {data['expired_leases']}[/]")


@jobs_app.command("schedules")
def schedules(as_json: JsonOption = False) -> None:
    """Periodic schedules with their last and next fire times (UTC)."""
    from riff.jobs.registry import import_handler_modules

    try:
        import_handler_modules()  # to tell which schedules have a handler in this installation
    except ImportError as exc:
        err_console.print(f"[yellow]warning:[/] could not import every handler module ({exc})")
    database = open_database()
    infos = [
        ScheduleRead.model_validate(info).model_dump(mode="json") for info in Scheduler(database).describe()
    ]
    if as_json:
        print_json(infos)
        return
    table = Table(title="Schedules (UTC)")
    for column in ("name", "cron", "kind", "last fire", "next fire", "handler"):
        table.add_column(column)
    for info in infos:
        table.add_row(
            info["name"],
            info["cron"],
            info["kind"],
            info["last_fire_at"] or "",
            info["next_fire_at"],
            "yes" if info["handler_registered"] else "[yellow]missing[/]",
        )
    console.print(table)


@jobs_app.command("enqueue")
def enqueue_job(
    kind: Annotated[str, typer.Argument(help="Job kind, e.g. reverb.pull_sync")],
    payload: Annotated[str, typer.Option(help="JSON object")] = "{}",
    channel: Annotated[str | None, typer.Option()] = None,
    product_id: Annotated[int | None, typer.Option("--product")] = None,
    priority: Annotated[int, typer.Option(help="Lower runs first (0 urgent .. 200 bulk)")] = int(
        Priority.NORMAL
    ),
    coalesce_key: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOption = False,
) -> None:
    """Enqueue a job by hand (for example a pull sync outside its schedule)."""
    try:
        body = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"payload is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise typer.BadParameter("payload must be a JSON object")
    database = open_database()
    with database.session() as session:
        job = service.enqueue(
            session,
            kind,
            payload=body,
            channel=channel,
            product_id=product_id,
            priority=priority,
            coalesce_key=coalesce_key,
        )
        data = _job_dict(job) if job is not None else None
    if as_json:
        print_json(data)
    elif data is None:
        console.print("[yellow]an equivalent job is already queued; nothing added[/]")
    else:
        console.print(f"[green]job {data['id']} queued[/]")


def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default RIFF_WORKER_CONCURRENCY)")
    ] = None,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Do not fire periodic schedules")
    ] = False,
    imports: Annotated[
        list[str] | None, typer.Option("--import", help="Extra module registering handlers (repeatable)")
    ] = None,
    kinds: Annotated[
        list[str] | None, typer.Option("--kind", help="Only claim these kinds (repeatable)")
    ] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Serve Prometheus metrics on this port")] = None,
) -> None:
    """Run a job worker (and the scheduler) until SIGTERM/SIGINT. Start more, on any host sharing the
    PostgreSQL database, to scale out."""
    from riff.jobs.worker_main import run_worker

    run_worker(
        concurrency=concurrency,
        scheduler=not no_scheduler,
        import_modules=imports or [],
        kinds=kinds,
        metrics_port=metrics_port,
        settings=load_settings(),
    )


def register(app: typer.Typer) -> None:
    """Add ``riff worker`` to the top-level app (``riff jobs`` is added with ``add_typer``)."""
    app.command("worker")(worker)
