"""Benchmark: filtered product lists and text search over 100,000 products through the real API.

For each database (a SQLite file in a temp dir; PostgreSQL too when RIFF_TEST_POSTGRES_URL is set,
in a dedicated database that is dropped at the end) this migrates a fresh database, bulk-inserts the
products, starts ``riff serve`` in a subprocess on a free loopback port and fires
``--requests`` requests of each kind from ``--concurrency`` concurrent clients:

    (a) filtered: status=active&brand=Fender&price_min=500&sort=-updated_at&limit=50
    (b) search:   q=telecaster&limit=50

It prints ONE JSON line with every figure, then a human summary. Target: p99 < 50 ms on both.

Repeated identical requests are answered from the per-process list cache while the catalog's
change generation stands (riff.core.generations), so each query is also run "uncached": every
request a different query (another price floor), each one a cache miss that reads the database.
For scale: ``/version`` (the HTTP stack alone: the floor each p99 is divided by) and
``/api/pricing/rules`` (a small authenticated read). Requests come from bench/loadgen.py, a lean
keep-alive client, so the client's own CPU stays out of the server's figures. The server runs as in
production, ``riff serve --workers N`` (default: one process per core), after a checkpoint so the
bulk load's writes are not flushed mid-measurement. The load average at the start is recorded: on
a shared machine the figures move with it.

    .venv/bin/python bench/api_list.py [--products 100000] [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from riff.auth.models import Role
from riff.auth.service import create_api_token, create_user
from riff.catalog.models import Product
from riff.core import migrate
from riff.core.db import Database
from riff.core.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402  (bench/ is not a package: the scripts run by path)

PG_BENCH_DATABASE = "riff_bench_api"
TARGET_P99_MS = 50.0
SEED_BATCH = 5000
SERVER_START_TIMEOUT_S = 60.0

QUERIES = {
    "filtered": {
        "status": "active",
        "brand": "Fender",
        "price_min": "500",
        "sort": "-updated_at",
        "limit": "50",
    },
    "search": {"q": "telecaster", "limit": "50"},
}
# Not targets, for scale: the HTTP stack alone (no auth, no database), and a small authenticated
# read that is not cached (token check, a session, routing, a query).
FLOOR_PATH = "/version"
BASELINE_PATH = "/api/pricing/rules"

# (brand, [models], share)
BRANDS: list[tuple[str, list[str], int]] = [
    ("Fender", ["Telecaster", "Stratocaster", "Jazzmaster", "Jaguar", "Precision Bass", "Jazz Bass",
                "Twin Reverb", "Deluxe Reverb", "Bassman", "Esquire"], 18),
    ("Gibson", ["Les Paul Standard", "Les Paul Junior", "SG Special", "ES-335", "Flying V", "Explorer",
                "J-45", "Firebird", "ES-175"], 15),
    ("Gretsch", ["6120", "Duo Jet", "Country Gentleman", "White Falcon"], 5),
    ("Rickenbacker", ["330", "360/12", "4001"], 3),
    ("Martin", ["D-28", "D-18", "000-18", "OM-28"], 5),
    ("Vox", ["AC30", "AC15", "Continental"], 4),
    ("Marshall", ["JCM800", "1959 Super Lead", "Bluesbreaker", "JTM45"], 5),
    ("Boss", ["DS-1", "BD-2", "CE-2", "DD-3", "TU-2"], 6),
    ("Electro-Harmonix", ["Big Muff Pi", "Memory Man", "Small Stone"], 4),
    ("Epiphone", ["Casino", "Sheraton", "Riviera", "Coronet"], 6),
    ("Guild", ["Starfire", "D-55", "S-100"], 3),
    ("Yamaha", ["SG2000", "FG-180", "Pacifica"], 4),
    ("Ibanez", ["Tube Screamer TS9", "RG550", "Artist AR300"], 5),
    ("Hofner", ["500/1 Violin Bass", "Club 40"], 2),
    ("Danelectro", ["U2", "Longhorn", "59-DC"], 3),
    ("Squier", ["Classic Vibe Telecaster", "Classic Vibe Stratocaster", "Bullet"], 5),
    ("Music Man", ["StingRay", "Sabre"], 2),
    ("PRS", ["Custom 24", "McCarty", "SE Singlecut"], 5),
]  # fmt: skip
FINISHES = ["Sunburst", "Butterscotch Blonde", "Olympic White", "Black", "Cherry", "Natural", "Fiesta Red",
            "Lake Placid Blue", "Goldtop", "Sea Foam Green", "Walnut", "Tobacco Burst"]  # fmt: skip
CONDITIONS = ["excellent", "very_good", "good", "fair", "poor", "new"]
STATUSES = ["active"] * 70 + ["draft"] * 10 + ["sold"] * 15 + ["archived"] * 5
PHRASES = [
    "All original electronics and hardware.", "Refret in the nineties, plays beautifully.",
    "Comes with the original hard case.", "Light player wear on the back and edges.",
    "Neck is straight, truss rod works as it should.", "Set up with new strings before sale.",
    "A great example from a sought-after year.", "Pots date to the same year as the body.",
    "Some finish checking, as expected at this age.", "Ships worldwide in a custom crate.",
    "Serviced by our tech and ready to gig.", "Tuners replaced with period-correct units.",
]  # fmt: skip


def product_rows(count: int, seed: int = 20260101) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    weights = [share for _, _, share in BRANDS]
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for index in range(count):
        brand, models, _ = rng.choices(BRANDS, weights=weights)[0]
        model = rng.choice(models)
        year = rng.randint(1950, 2024)
        finish = rng.choice(FINISHES)
        updated = now - dt.timedelta(seconds=rng.randint(0, 2 * 365 * 86400))
        description = " ".join(rng.sample(PHRASES, 3)) + f" Serial number {rng.randint(10000, 999999)}."
        yield {
            "sku": f"BENCH-{index:06d}",
            "title": f"{brand} {model} {year} {finish}",
            "brand": brand,
            "model": model,
            "year": year,
            "decade": f"{year // 10 * 10}s",
            "finish": finish,
            "condition": rng.choice(CONDITIONS),
            "category_id": None,
            "description": description,
            "base_price": Decimal(rng.randint(50, 20000)).quantize(Decimal("0.01")),
            "currency": "GBP",
            "cost": None,
            "quantity": rng.randint(0, 1),
            "is_stocked_item": False,
            "status": rng.choice(STATUSES),
            "attributes": {},
            "notes": "",
            "version": 1,
            "created_at": updated - dt.timedelta(days=rng.randint(0, 400)),
            "updated_at": updated,
        }


def seed(database: Database, count: int) -> tuple[str, float]:
    """Bulk-insert the products (Core executemany, not the ORM) and create a user; returns its token."""
    started = time.perf_counter()
    table = Product.__table__
    batch: list[dict[str, Any]] = []
    with database.engine.begin() as conn:
        for row in product_rows(count):
            batch.append(row)
            if len(batch) >= SEED_BATCH:
                conn.execute(sa.insert(table), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(table), batch)
    # Steady state before measuring: statistics current, and the bulk load's dirty pages written out
    # now rather than by a checkpoint in the middle of the measurement.
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE products")
            conn.exec_driver_sql("CHECKPOINT")
    else:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        raw = database.engine.raw_connection()  # outside any transaction, as a checkpoint must be
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    with database.session() as session:
        user = create_user(session, username="bench", password="bench-password", role=Role.OWNER)
        _, token = create_api_token(session, user, name="bench")
    return token, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str, data_dir: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RIFF_DATABASE_URL": url,
        "RIFF_DATA_DIR": str(data_dir),
        "RIFF_SECRET_KEY": "bench-secret-key-not-for-production",
        "RIFF_LOG_LEVEL": "WARNING",
    }
    # The production command: `riff serve --workers N` gives each process its own SO_REUSEPORT socket
    # (riff.cli.web_processes), so the 16 keep-alive connections spread over the processes.
    command = [
        sys.executable, "-m", "riff.cli.main", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"riff serve exited with {process.returncode}")
        # Every process listening (each has its own socket), else early connections all go to one.
        if listening_sockets(port) >= workers:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/version", timeout=1.0).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("riff serve did not start in time")


def listening_sockets(port: int) -> int:
    """TCP sockets in LISTEN state on ``port`` (Linux /proc; 0 elsewhere, and the bench then waits out
    the timeout)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "0A":
                count += 1
    return count


def measure(
    port: int,
    token: str,
    path: str,
    variants: list[dict[str, str]],
    requests: int,
    concurrency: int,
    *,
    warm: bool = True,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    targets = [loadgen.Target("127.0.0.1", port, path, params, headers) for params in variants]
    result = loadgen.measure(targets, requests, concurrency, warm=warm)
    body = json.loads(result.pop("first_body"))
    if isinstance(body, dict) and "total" in body:
        result["matches"] = int(body["total"])
    return result


def uncached_variants(params: dict[str, str], count: int) -> list[dict[str, str]]:
    """``count`` distinct versions of a query (a different price floor each), so that no request
    can be answered from the list cache: what every request would cost without it."""
    floor = int(params.get("price_min", "0"))
    return [{**params, "price_min": str(floor + step)} for step in range(count)]


def run_backend(name: str, url: str, work_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    migrate.upgrade(url)
    database = Database(url)
    try:
        token, seed_seconds = seed(database, args.products)
    finally:
        database.dispose()
    port = free_port()
    server = start_server(url, work_dir / f"data-{name}", port, args.workers)
    try:
        result: dict[str, Any] = {"seed_s": round(seed_seconds, 1)}
        n, c = args.requests, args.concurrency
        result["floor"] = measure(port, token, FLOOR_PATH, [{}], n, c)
        for kind, params in QUERIES.items():
            result[kind] = measure(port, token, "/api/products", [params], n, c)
            result[f"{kind}_uncached"] = measure(
                port, token, "/api/products", uncached_variants(params, n), n, c, warm=False
            )
        result["baseline"] = measure(port, token, BASELINE_PATH, [{}], n, c)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def pg_admin_url(base: str, dbname: str) -> str:
    url = sa.make_url(Settings(database_url=base).resolved_database_url)
    return url.set(database=dbname).render_as_string(hide_password=False)


def recreate_pg_database(base: str) -> str:
    admin = sa.create_engine(pg_admin_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{PG_BENCH_DATABASE}"')
    admin.dispose()
    return pg_admin_url(base, PG_BENCH_DATABASE)


def drop_pg_database(base: str) -> None:
    admin = sa.create_engine(pg_admin_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000, help="requests per query kind")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="run a single database")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="uvicorn worker processes (default: one per core)",
    )
    args = parser.parse_args()

    results: dict[str, Any] = {
        "benchmark": "api_list",
        "products": args.products,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "target_p99_ms": TARGET_P99_MS,
    }
    pg_base = os.environ.get("RIFF_TEST_POSTGRES_URL")
    with tempfile.TemporaryDirectory(prefix="riff-bench-") as tmp:
        work_dir = Path(tmp)
        if args.only in (None, "sqlite"):
            results["sqlite"] = run_backend("sqlite", f"sqlite:///{work_dir / 'bench.db'}", work_dir, args)
        if pg_base and args.only in (None, "postgres"):
            try:
                results["postgres"] = run_backend("postgres", recreate_pg_database(pg_base), work_dir, args)
            finally:
                drop_pg_database(pg_base)

    for backend in ("sqlite", "postgres"):
        if backend in results:
            figures = results[backend]
            floor_p99 = figures["floor"]["p99_ms"]
            for kind in [*QUERIES, *(f"{k}_uncached" for k in QUERIES)]:
                figures[kind]["within_target"] = figures[kind]["p99_ms"] < TARGET_P99_MS
                figures[kind]["p99_vs_floor"] = round(figures[kind]["p99_ms"] / floor_p99, 2)
    ok = all(results[b][k]["within_target"] for b in ("sqlite", "postgres") if b in results for k in QUERIES)
    results["within_target"] = ok
    print(json.dumps(results))
    for backend in ("sqlite", "postgres"):
        if backend not in results:
            continue
        figures = results[backend]
        for kind, note in [("floor", f"{FLOOR_PATH}: HTTP stack only"), ("baseline", f"{BASELINE_PATH}")]:
            f = figures[kind]
            print(
                f"{backend:8} {kind:17} p50 {f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms  "
                f"{f['requests_per_s']:7.1f} req/s  ({note}; no target)"
            )
        for kind in [*QUERIES, *(f"{k}_uncached" for k in QUERIES)]:
            f = figures[kind]
            print(
                f"{backend:8} {kind:17} p50 {f['p50_ms']:7.2f} ms  p99 {f['p99_ms']:7.2f} ms  "
                f"{f['requests_per_s']:7.1f} req/s  p99 {f['p99_vs_floor']:5.2f}x floor  "
                f"matches {f.get('matches')}  {'OK' if f['within_target'] else 'OVER TARGET'}"
                + ("  (every request a different query: no cache hits)" if kind.endswith("_uncached") else "")
            )
        print(f"{backend:8} seeded {args.products} products in {figures['seed_s']} s")
    if not pg_base:
        print("PostgreSQL skipped: set RIFF_TEST_POSTGRES_URL to include it")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
