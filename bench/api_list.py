"""Benchmark: filtered product lists and text search over 100,000 products through the real API.

For each database (a SQLite file in a temp dir; PostgreSQL too when RIFF_TEST_POSTGRES_URL is set,
in a dedicated database that is dropped at the end) this migrates a fresh database, bulk-inserts the
products, starts the app with uvicorn in a subprocess on a free loopback port and fires
``--requests`` requests of each kind from ``--concurrency`` concurrent clients:

    (a) filtered: status=active&brand=Fender&price_min=500&sort=-updated_at&limit=50
    (b) search:   q=telecaster&limit=50

It prints ONE JSON line with every figure, then a human summary. Target: p99 < 50 ms on both.
For scale it also measures ``/api/pricing/rules``: what any authenticated call costs on this machine.
The load average at the start is recorded: on a shared machine the figures move with it.

    .venv/bin/python bench/api_list.py [--products 100000] [--requests 800] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
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

PG_BENCH_DATABASE = "riff_bench_api"
TARGET_P99_MS = 50.0
SEED_BATCH = 5000
SERVER_START_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 30.0

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
# Not a target: the floor every authenticated API call pays (token check, session, routing), for scale.
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
    if database.dialect == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE products")
    else:
        with database.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
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
    command = [
        sys.executable, "-m", "uvicorn", "riff.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
        "--workers", str(workers),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/version", timeout=1.0).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("uvicorn did not start in time")


async def measure(
    base_url: str, token: str, path: str, params: dict[str, str], requests: int, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    totals: set[int] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(requests):
        queue.put_nowait(index)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=timeout
    ) as client:
        for _ in range(concurrency):  # warm connections and caches outside the measurement
            warm = await client.get(path, params=params)
            warm.raise_for_status()
            body = warm.json()
            if isinstance(body, dict) and "total" in body:
                totals.add(int(body["total"]))

        async def worker() -> None:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                response = await client.get(path, params=params)
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()  # the body is not parsed: keep the client's CPU for the server

        wall_started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - wall_started
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "max_ms": round(latencies[-1], 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "matches": next(iter(totals)) if len(totals) == 1 else sorted(totals),
    }


def run_backend(name: str, url: str, work_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    migrate.upgrade(url)
    database = Database(url)
    try:
        token, seed_seconds = seed(database, args.products)
    finally:
        database.dispose()
    port = free_port()
    server = start_server(url, work_dir / f"data-{name}", port, args.workers)
    base_url = f"http://127.0.0.1:{port}"
    try:
        result: dict[str, Any] = {"seed_s": round(seed_seconds, 1)}
        for kind, params in QUERIES.items():
            result[kind] = asyncio.run(
                measure(base_url, token, "/api/products", params, args.requests, args.concurrency)
            )
        result["baseline"] = asyncio.run(
            measure(base_url, token, BASELINE_PATH, {}, args.requests, args.concurrency)
        )
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
    parser.add_argument("--requests", type=int, default=800, help="requests per query kind")
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

    print(json.dumps(results))
    ok = True
    for backend in ("sqlite", "postgres"):
        if backend not in results:
            continue
        for kind in QUERIES:
            figures = results[backend][kind]
            passed = figures["p99_ms"] < TARGET_P99_MS
            ok = ok and passed
            print(
                f"{backend:8} {kind:8}  p50 {figures['p50_ms']:7.2f} ms  p99 {figures['p99_ms']:7.2f} ms  "
                f"{figures['requests_per_s']:7.1f} req/s  matches {figures['matches']}  "
                f"{'OK' if passed else 'OVER TARGET'}"
            )
        baseline = results[backend]["baseline"]
        print(
            f"{backend:8} baseline  p50 {baseline['p50_ms']:7.2f} ms  p99 {baseline['p99_ms']:7.2f} ms  "
            f"{baseline['requests_per_s']:7.1f} req/s  ({BASELINE_PATH}: auth + routing floor, no target)"
        )
        print(f"{backend:8} seeded {args.products} products in {results[backend]['seed_s']} s")
    if not pg_base:
        print("PostgreSQL skipped: set RIFF_TEST_POSTGRES_URL to include it")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
