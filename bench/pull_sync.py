"""Pull-sync benchmark: diff N remote listings (1 % changed on the channel) against N local ones.

    .venv/bin/python bench/pull_sync.py [--sizes 5000,20000,50000] [--changed 0.01] [--sandbox 2000]

For each size: a fresh database (a temporary SQLite file; PostgreSQL too when RIFF_TEST_POSTGRES_URL is
set, database ``riff_bench_pull``) with N products each listed on Reverb, and N ``RemoteListing``s as the
channel would return them, of which ``changed`` have a new price set on the channel. The measured stage
is the sync engine's diff and apply, fed from the pre-fetched list (so the sandbox's own paging time is
left out): ``Differ.feed`` in chunks of 1,000 and ``Differ.finish`` of a full pull, i.e. the chunked
staging queries, the classification, the decisions (events + a coalesced update job per changed listing)
and the missing-listing check. Peak memory is tracemalloc's, from the start of the diff.

``--sandbox N`` also runs one real pull (``run_pull``) of N listings from the Reverb sandbox, to show the
split between the sandbox's paging and the diff.

Prints one JSON line, then a human summary.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from riff.catalog.models import Product
from riff.channels.contract import RemoteListing, RemoteState
from riff.channels.models import Listing
from riff.core import migrate
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.jobs.models import Job
from riff.sync.config import SyncSettings
from riff.sync.models import SyncEvent
from riff.sync.pull import REMOTE_TITLE_KEY, Differ

BENCH_DATABASE = "riff_bench_pull"
CHUNK = 1000


def _postgres_url(base: str) -> str:
    from riff.core.settings import Settings

    url = sa.make_url(Settings(database_url=base).resolved_database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
    admin.dispose()
    return url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def _seed(database: Database, size: int) -> None:
    """N products and their Reverb listings, inserted in bulk (executemany)."""
    now = utcnow()
    pushed = now - dt.timedelta(hours=1)
    with database.engine.begin() as conn:
        for start in range(0, size, 5000):
            ids = range(start + 1, min(size, start + 5000) + 1)
            conn.execute(
                sa.insert(Product.__table__),
                [
                    {"id": i, "sku": f"BENCH-{i:06d}", "title": f"Fender Stratocaster {1950 + i % 50} #{i}",
                     "brand": "Fender", "model": "Stratocaster", "condition": "excellent", "description": "",
                     "base_price": Decimal(1000 + i % 500), "currency": "GBP", "quantity": 1,
                     "is_stocked_item": False, "status": "active", "attributes": {}, "notes": "", "version": 1,
                     "created_at": pushed, "updated_at": pushed}
                    for i in ids
                ],
            )  # fmt: skip
            conn.execute(
                sa.insert(Listing.__table__),
                [
                    {"id": i, "product_id": i, "channel": "reverb", "remote_id": str(10_000_000 + i), "state": "live",
                     "remote_price": Decimal(1000 + i % 500), "remote_currency": "GBP", "remote_quantity": 1,
                     "last_pushed_at": pushed, "extras": {REMOTE_TITLE_KEY: f"Fender Stratocaster {1950 + i % 50} #{i}"},
                     "created_at": pushed, "updated_at": pushed}
                    for i in ids
                ],
            )  # fmt: skip
        if database.dialect == "postgresql":
            for table in ("products", "listings"):
                conn.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
            conn.exec_driver_sql("ANALYZE")


def _remote(size: int, changed: float) -> list[RemoteListing]:
    step = max(1, round(1 / changed)) if changed else size + 1
    updated = utcnow()
    return [
        RemoteListing(
            remote_id=str(10_000_000 + i),
            sku=f"BENCH-{i:06d}",
            title=f"Fender Stratocaster {1950 + i % 50} #{i}",
            price=Decimal(1000 + i % 500) - (Decimal(25) if i % step == 0 else 0),
            currency="GBP",
            quantity=1,
            state=RemoteState.LIVE,
            updated_at=updated,
        )
        for i in range(1, size + 1)
    ]


def _diff(database: Database, remotes: list[RemoteListing]) -> dict[str, Any]:
    differ = Differ(database, "reverb", full=True, settings=SyncSettings(_env_file=None))  # type: ignore[call-arg]
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    for start in range(0, len(remotes), CHUNK):
        differ.feed(remotes[start : start + CHUNK])
    differ.finish()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with database.read_session() as session:
        jobs = session.scalar(sa.select(sa.func.count()).select_from(Job))
        events = session.scalar(sa.select(sa.func.count()).select_from(SyncEvent))
    stats = differ.stats
    return {
        "seconds": round(elapsed, 3),
        "peak_mb": round(peak / 2**20, 1),
        "seen": stats.seen,
        "decided": stats.decided,
        "update_jobs": jobs,
        "events": events,
        "per_1k_ms": round(elapsed / len(remotes) * 1_000_000, 1),
    }


def _one_backend(name: str, url: str, sizes: list[int], changed: float) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for size in [1000, *sizes]:  # the first, small run warms SQLAlchemy's statement caches; not reported
        if url.startswith("sqlite"):
            directory = tempfile.mkdtemp(prefix="riff-bench-pull-")
            db_url = f"sqlite:///{Path(directory) / 'bench.db'}"
        else:
            db_url = _postgres_url(url)
        migrate.upgrade(db_url)
        database = Database(db_url)
        try:
            _seed(database, size)
            remotes = _remote(size, changed)
            results[str(size)] = _diff(database, remotes)
        finally:
            database.dispose()
        print(f"  {name} {size}: {results[str(size)]}", file=sys.stderr)
    results.pop("1000", None) if 1000 not in sizes else None
    return results


def _sandbox_pull(size: int) -> dict[str, Any]:
    """One real pull through the Reverb sandbox (paging included) of ``size`` seeded listings, all unknown
    to RIFF at first (they become unmatched offers), then a second pull with every listing known."""
    from riff.channels import service
    from riff.channels.schemas import AccountCreate
    from riff.core.security import SecretBox, load_secret_key
    from riff.core.settings import Settings
    from riff.sync.pull import run_pull
    from riff_sandbox.testing import running

    directory = Path(tempfile.mkdtemp(prefix="riff-bench-sandbox-"))
    url = f"sqlite:///{directory / 'bench.db'}"
    migrate.upgrade(url)
    database = Database(url)
    settings = Settings(data_dir=directory, database_url=url, secret_key="bench-secret-key")
    with running("reverb", directory / "sandbox", seed_size=size) as sandbox:
        with database.session() as session:
            service.create_account(
                session,
                SecretBox(load_secret_key(settings)),
                AccountCreate(channel="reverb", base_url=sandbox.api_base_url, is_sandbox=True,
                              config={"currency": "GBP", "shipping_profile_id": "15655"},
                              secrets={"token": sandbox.token or ""}),
            )  # fmt: skip

        class Context:
            payload: dict[str, Any] = {"full": True}
            channel = "reverb"
            product_id = None
            listing_id = None

            def __init__(self) -> None:
                self.database = database
                self.settings = settings

            def heartbeat(self) -> None:
                return None

        started = time.perf_counter()
        result = asyncio.run(run_pull(Context(), "reverb"))
        elapsed = time.perf_counter() - started
    database.dispose()
    return {"listings": size, "seconds": round(elapsed, 2), "fetch_seconds": result["fetch_seconds"],
            "diff_seconds": result["diff_seconds"], "unknown_new": result["unknown_new"]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--sandbox", type=int, default=0, help="also one real pull of N sandbox listings")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    report: dict[str, Any] = {"bench": "pull_sync", "changed": args.changed, "chunk": CHUNK, "backends": {}}
    with tempfile.TemporaryDirectory() as directory:
        report["backends"]["sqlite"] = _one_backend(
            "sqlite", f"sqlite:///{directory}/x.db", sizes, args.changed
        )
    postgres = os.environ.get("RIFF_TEST_POSTGRES_URL")
    if postgres:
        report["backends"]["postgresql"] = _one_backend("postgresql", postgres, sizes, args.changed)
    if args.sandbox:
        report["sandbox_pull"] = _sandbox_pull(args.sandbox)
    print(json.dumps(report))
    print()
    for backend, results in report["backends"].items():
        print(f"{backend}:")
        for size, result in results.items():
            print(
                f"  {int(size):>6} listings: diff {result['seconds']:>6.2f} s ({result['per_1k_ms']} ms per 1k), "
                f"peak {result['peak_mb']} MB, {result['decided']} decisions -> {result['update_jobs']} update jobs"
            )
        sizes_sorted = sorted(results, key=int)
        if len(sizes_sorted) > 1:
            first, last = results[sizes_sorted[0]], results[sizes_sorted[-1]]
            ratio = (last["seconds"] / first["seconds"]) / (int(sizes_sorted[-1]) / int(sizes_sorted[0]))
            print(
                f"  growth: time per listing at {sizes_sorted[-1]} is {ratio:.2f}x that at {sizes_sorted[0]} (1.0 = linear)"
            )
    if "sandbox_pull" in report:
        print(f"sandbox pull: {report['sandbox_pull']}")


if __name__ == "__main__":
    main()
