"""Job-engine benchmark: no-op throughput and enqueue->start latency, 1 and 4 worker processes.

    .venv/bin/python bench/jobs.py [--jobs 4000] [--samples 200]

SQLite always (a temporary file); PostgreSQL too when RIFF_TEST_POSTGRES_URL is set, on a dedicated
database ``riff_bench_jobs`` (dropped and recreated). A "worker" is one ``riff worker`` process
(``python -m riff.jobs.worker_main``) with its default concurrency of 4 threads.

- Throughput: N no-op jobs are queued, then the workers start; jobs/s is N divided by the span from the
  first claim to the last completion (as recorded in the jobs table), so process start-up is excluded.
- Latency: with the workers idle, one job is enqueued (and committed) at a time from this process; the
  latency is the job's ``started_at`` (set by the claiming worker) minus the moment the enqueue committed.
  Cross-process wake-ups only: PostgreSQL LISTEN/NOTIFY, the SQLite WAL watcher.

Prints one JSON line, then a human summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from riff.core.db import Database
from riff.jobs import JobContext, Priority, job_handler

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE = "riff_bench_jobs"
CONCURRENCY_PER_WORKER = 4


@job_handler("bench.noop")
def noop(ctx: JobContext) -> None:
    return None


def _postgres_url(base: str) -> str:
    from riff.core.settings import Settings

    url = sa.make_url(Settings(database_url=base).resolved_database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
    admin.dispose()
    return url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def _drop_postgres(base: str) -> None:
    from riff.core.settings import Settings

    url = sa.make_url(Settings(database_url=base).resolved_database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    admin.dispose()


def _start_workers(url: str, count: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "RIFF_DATABASE_URL": url,
        "RIFF_LOG_LEVEL": "WARNING",
        "RIFF_DATA_DIR": str(log_dir),
    }
    command = [
        sys.executable,
        "-m",
        "riff.jobs.worker_main",
        "--concurrency",
        str(CONCURRENCY_PER_WORKER),
        "--no-scheduler",
        "--no-discover",
        "--import",
        str(Path(__file__).resolve()),
    ]
    processes = []
    for index in range(count):
        log = (log_dir / f"worker-{count}-{index}.log").open("wb")
        processes.append(
            subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    return processes


def _stop_workers(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _reset(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM jobs")


def _count(database: Database, status: str) -> int:
    with database.engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT count(*) FROM jobs WHERE status = :s"), {"s": status}).scalar_one()
        )


def _wait(predicate: Any, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish in time")
        time.sleep(interval)


def _span(database: Database) -> float:
    from riff.jobs.models import Job

    with database.session() as session:
        first, last = session.execute(
            sa.select(sa.func.min(Job.started_at), sa.func.max(Job.finished_at))
        ).one()
    first = _aware(first)
    last = _aware(last)
    return (last - first).total_seconds()


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def bench_backend(url: str, workers: int, jobs: int, samples: int, log_dir: Path) -> dict[str, Any]:
    from riff.jobs import service
    from riff.jobs.models import Job

    database = Database(url)
    _reset(database)
    with database.session() as session:
        for _ in range(jobs):
            service.enqueue(session, "bench.noop", priority=Priority.BULK)
    processes = _start_workers(url, workers, log_dir)
    try:
        _wait(lambda: _count(database, "completed") == jobs, timeout=600, interval=0.1)
        throughput = jobs / _span(database)

        _reset(database)
        time.sleep(0.5)  # idle queue
        committed: dict[int, float] = {}
        for _ in range(samples):
            with database.session() as session:
                job = service.enqueue(session, "bench.noop")
                at = time.time()  # just before the commit: the latency includes the commit itself
            committed[job.id] = at  # type: ignore[union-attr]
            time.sleep(0.02)
        _wait(lambda: _count(database, "completed") == samples, timeout=60)
        with database.session() as session:
            started = {row.id: row.started_at for row in session.execute(sa.select(Job.id, Job.started_at))}
        latencies_ms = [(_aware(started[job_id]).timestamp() - at) * 1000 for job_id, at in committed.items()]
    finally:
        _stop_workers(processes)
        database.dispose()
    return {
        "workers": workers,
        "threads_per_worker": CONCURRENCY_PER_WORKER,
        "jobs": jobs,
        "throughput_jobs_per_s": round(throughput, 1),
        "latency_ms_p50": round(_percentile(latencies_ms, 0.50), 2),
        "latency_ms_p99": round(_percentile(latencies_ms, 0.99), 2),
        "latency_samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=4000, help="no-op jobs for the throughput run")
    parser.add_argument("--samples", type=int, default=200, help="jobs for the latency run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()

    from riff.core import migrate

    results: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="riff-bench-") as tmp:
        tmp_path = Path(tmp)
        backends = {"sqlite": f"sqlite:///{tmp_path / 'bench.db'}"}
        pg_base = os.environ.get("RIFF_TEST_POSTGRES_URL")
        if pg_base:
            backends["postgres"] = _postgres_url(pg_base)
        try:
            for name, url in backends.items():
                migrate.upgrade(url)
                results[name] = [
                    bench_backend(url, n, args.jobs, args.samples, tmp_path) for n in args.workers
                ]
        finally:
            if pg_base:
                _drop_postgres(pg_base)

    print(json.dumps({"benchmark": "jobs", "results": results}))
    print()
    print(f"{'backend':<10} {'workers':>7} {'jobs/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, rows in results.items():
        for row in rows:
            print(
                f"{name:<10} {row['workers']:>7} {row['throughput_jobs_per_s']:>9.1f} "
                f"{row['latency_ms_p50']:>8.2f} {row['latency_ms_p99']:>8.2f}"
            )
    print(
        f"\n(worker = one process x {CONCURRENCY_PER_WORKER} threads; throughput over {args.jobs} no-op jobs; "
        f"latency = enqueue commit -> claim, {args.samples} samples on an idle queue)"
    )


if __name__ == "__main__":
    main()
