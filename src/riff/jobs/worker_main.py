"""``python -m riff.jobs.worker_main``: one worker process (the same as ``riff worker``).

Reads ``RIFF_DATABASE_URL`` and the other ``RIFF_*`` / ``RIFF_JOBS_*`` settings from the environment.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from riff.core.db import Database
from riff.core.logging import configure_logging, get_logger
from riff.core.settings import Settings, get_settings
from riff.jobs.config import JobsSettings, get_jobs_settings
from riff.jobs.registry import import_handler_modules
from riff.jobs.worker import Worker

log = get_logger(__name__)


def run_worker(
    *,
    concurrency: int | None = None,
    scheduler: bool = True,
    import_modules: Sequence[str] = (),
    discover: bool = True,
    kinds: Sequence[str] | None = None,
    metrics_port: int | None = None,
    settings: Settings | None = None,
    jobs_settings: JobsSettings | None = None,
) -> None:
    """Configure logging, import handlers, and run a worker until SIGTERM/SIGINT."""
    settings = settings or get_settings()
    jobs_settings = jobs_settings or get_jobs_settings()
    configure_logging(settings.log_level, settings.log_json)
    modules = import_handler_modules([*jobs_settings.import_modules, *import_modules], discover=discover)
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port)
    database = Database(settings.resolved_database_url)
    worker = Worker(
        database,
        settings,
        jobs_settings=jobs_settings,
        concurrency=concurrency,
        kinds=kinds or None,
        with_scheduler=scheduler,
        import_handlers=False,  # done above, with the command line's modules
    )
    log.info("jobs.worker.handlers", modules=modules, kinds=sorted(worker.kinds))
    try:
        worker.run()
    finally:
        database.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="riff-worker", description="Run a RIFF job worker.")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="jobs run at once (default RIFF_WORKER_CONCURRENCY)"
    )
    parser.add_argument("--no-scheduler", action="store_true", help="do not run the periodic scheduler")
    parser.add_argument(
        "--import", dest="imports", action="append", default=[], help="module registering handlers"
    )
    parser.add_argument("--no-discover", action="store_true", help="skip importing riff.*.tasks modules")
    parser.add_argument("--kind", dest="kinds", action="append", default=None, help="only claim these kinds")
    parser.add_argument(
        "--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port"
    )
    args = parser.parse_args(argv)
    run_worker(
        concurrency=args.concurrency,
        scheduler=not args.no_scheduler,
        import_modules=args.imports,
        discover=not args.no_discover,
        kinds=args.kinds,
        metrics_port=args.metrics_port,
    )


if __name__ == "__main__":
    main()
