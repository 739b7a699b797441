"""Benchmark: market research collectors and daily trends.

(1) Collector throughput at each platform's rate limit. Each collector runs against its sandbox over
    loopback HTTP with its rate-limit buckets paced at ``burst=1`` (steady state), and the figure is the
    achieved request rate divided by the configured one (1.0 = exactly at the limit, never above it; the
    sandbox enforcing the same limit counts any 429). Etsy and Reddit run at their real limits (10/s; 1.5/s
    under Reddit's 1,000 per 600 s); eBay's 5,000 calls a day (0.058/s) is scaled to ``--ebay-rate``.
(2) Daily trends over ``--listings`` (1,000,000) synthetic market listings spread over 90 days, bulk-inserted
    into a dedicated bench database (PostgreSQL via COPY when RIFF_TEST_POSTGRES_URL or
    RIFF_BENCH_POSTGRES_URL is set; SQLite with ``--sqlite``), then: the nightly run (one day) and a
    90-day backfill, each one set-based INSERT ... SELECT (riff.research.trends).

Prints ONE JSON line with every figure, then a human summary.

    .venv/bin/python bench/research.py [--listings 1000000] [--requests 40] [--sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from riff.core import migrate
from riff.core.db import Database
from riff.core.settings import Settings
from riff.research import trends
from riff.research.collectors import build_collector, research_rate_limiter, token_cache
from riff.research.config import ResearchSettings, SearchSpec
from riff_sandbox.runner import start

PG_BENCH_DATABASE = "riff_bench_research"
BRANDS = ["Fender", "Gibson", "Levi's", "Lee", "Wrangler", "Marshall", "Vox", "Blue Note", "Columbia", "Harvest",
          "Iron Heart", "Momotaro", "Gretsch", "Martin", "Ampeg", None]  # fmt: skip
CATEGORIES = ["guitar", "bass", "amp", "record", "denim", "other"]
PLATFORMS = ["ebay", "etsy", "reddit"]


# ---- (1) collectors ----------------------------------------------------------------------------------------


def settings_for(sandboxes: dict[str, Any], limits: dict[str, dict[str, float]]) -> ResearchSettings:
    return ResearchSettings(
        _env_file=None,  # type: ignore[call-arg]
        ebay_base_url=sandboxes["ebay"].base_url,
        ebay_client_id="RIFF-sandbox-PRD-0123456789-abcdef",
        ebay_client_secret="PRD-sandbox-secret",  # type: ignore[arg-type]
        etsy_base_url=sandboxes["etsy"].base_url,
        etsy_keystring="riffsandboxkeystring0001",
        etsy_shared_secret="riffsandboxsecret",  # type: ignore[arg-type]
        reddit_auth_url=sandboxes["reddit"].base_url,
        reddit_api_url=sandboxes["reddit"].base_url,
        reddit_client_id="riffSandboxClient",
        reddit_client_secret="riff-sandbox-reddit-secret",  # type: ignore[arg-type]
        page_size={"ebay": 5, "etsy": 10, "reddit": 5},
        rate_limits=limits,
    )


async def measure(platform: str, research: ResearchSettings, requests: int) -> dict[str, Any]:
    spec = {
        "ebay": SearchSpec(q="vintage", max_items=5 * requests),
        "etsy": SearchSpec(q="vintage", max_items=10 * (requests // 2)),
        "reddit": SearchSpec(
            q="WTS", subreddits=["rawdenim", "Gear4Sale", "VinylCollectors"], max_items=5 * requests
        ),
    }[platform]
    collector = build_collector(platform, research, rate_limiter=research_rate_limiter(None, None, research))
    if platform != "etsy":
        await collector.auth_headers(force=True)  # the token call is outside the measured window
    listings = 0
    started = time.perf_counter()
    try:
        async for page in collector.pages(spec):
            listings += len(page)
            if collector.requests >= requests:
                break
    finally:
        elapsed = time.perf_counter() - started
        await collector.aclose()
    return {"requests": collector.requests, "listings": listings, "seconds": round(elapsed, 3)}


def bench_collectors(requests: int, ebay_rate: float) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="riff-bench-research-"))
    sandboxes = {
        "ebay": start("ebay_browse", data_dir=data_dir, seed_size=1500),
        "etsy": start("etsy", data_dir=data_dir, seed_size=1500),
        "reddit": start("reddit", data_dir=data_dir, seed_size=900, bst_comments=10),
    }
    rates = {"ebay": ebay_rate, "etsy": 10.0, "reddit": 1.5}
    limits = {
        "research.ebay.day": {"rate": ebay_rate, "burst": 1.0},
        "research.etsy.second": {"rate": 10.0, "burst": 1.0},
        "research.etsy.day": {"rate": 1000.0, "burst": 1000.0},
        "research.reddit": {"rate": 1.5, "burst": 1.0},
    }
    results: dict[str, Any] = {}
    try:
        sandboxes["ebay"].control._call(
            "POST", "/ebay_browse/quota", json={"daily_call_limit": 100000, "reset_usage": True}
        )
        research = settings_for(sandboxes, limits)
        for platform in PLATFORMS:
            token_cache.clear()
            counts = {"reddit": min(requests, 30)}.get(platform, requests)
            figures = asyncio.run(measure(platform, research, counts))
            # With burst 1 the first request goes at once and each later one waits 1/rate.
            achieved = (figures["requests"] - 1) / figures["seconds"] if figures["seconds"] else 0.0
            statuses = [r["status"] for r in sandboxes[platform].control.requests()]
            results[platform] = {
                **figures,
                "limit_per_second": rates[platform],
                "achieved_per_second": round(achieved, 3),
                "ratio_to_limit": round(achieved / rates[platform], 3),
                "http_429": statuses.count(429),
            }
        results["ebay"]["note"] = (
            f"eBay's real limit is 5000/day (0.058/s); paced at {ebay_rate}/s for the bench"
        )
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()
    return results


# ---- (2) trends over 1M listings -------------------------------------------------------------------------------


def synthetic_rows(count: int, end: dt.datetime, seed: int = 7) -> Any:
    rng = random.Random(seed)
    start = end - dt.timedelta(days=90)
    span = 90 * 86400
    for index in range(count):
        seen = start + dt.timedelta(seconds=rng.randrange(span))
        brand = rng.choice(BRANDS)
        category = rng.choice(CATEGORIES)
        price = round(rng.lognormvariate(6.0, 1.1), 2) if rng.random() > 0.03 else None
        yield (
            rng.choice(PLATFORMS), f"b{index}", f"{brand or 'Unbranded'} {category} #{index}", "", price, "GBP", price,
            brand, category, rng.choice(("1960s", "1970s", "1980s", "1990s", None)),
            None if rng.random() < 0.3 else rng.random() < 0.1, round(rng.random() * 50, 3) if rng.random() < 0.4 else None,
            seen, seen,
        )  # fmt: skip


COLUMNS = ("platform", "external_id", "title", "description", "price", "currency", "price_base", "brand", "category",
           "era", "sold", "engagement_score", "first_seen_at", "last_seen_at")  # fmt: skip


def load_postgres(database: Database, count: int, end: dt.datetime) -> float:
    started = time.perf_counter()
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = ", ".join((*COLUMNS, "image_urls", "ai_tags", "raw", "created_at", "updated_at"))
        with cursor.copy(f"COPY market_listings ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in synthetic_rows(count, end):
                copy.write_row((*row, "[]", "[]", "{}", row[-2], row[-1]))
        raw.commit()
        cursor.execute("ANALYZE market_listings")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def load_sqlite(database: Database, count: int, end: dt.datetime) -> float:
    started = time.perf_counter()
    columns = ", ".join((*COLUMNS, "image_urls", "ai_tags", "raw", "created_at", "updated_at"))
    marks = ", ".join("?" * (len(COLUMNS) + 5))
    batch: list[tuple[Any, ...]] = []
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")

        def text(moment: dt.datetime) -> str:
            return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

        for row in synthetic_rows(count, end):
            values = list(row)
            values[-2], values[-1] = text(row[-2]), text(row[-1])
            values[10] = None if row[10] is None else int(row[10])
            batch.append((*values, "[]", "[]", "{}", values[-2], values[-1]))
            if len(batch) >= 20000:
                cursor.executemany(f"INSERT INTO market_listings ({columns}) VALUES ({marks})", batch)
                batch.clear()
        if batch:
            cursor.executemany(f"INSERT INTO market_listings ({columns}) VALUES ({marks})", batch)
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()
    return time.perf_counter() - started


def time_trends(database: Database, end: dt.datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    day = (end - dt.timedelta(days=1)).date()
    started = time.perf_counter()
    with database.session() as session:
        rows = trends.compute_daily_trends(session, day, currency="GBP")
    out["nightly_one_day_s"] = round(time.perf_counter() - started, 3)
    out["nightly_rows"] = rows
    started = time.perf_counter()
    with database.session() as session:
        rows = trends.compute_trends(session, end - dt.timedelta(days=90), end, currency="GBP")
    out["backfill_90_days_s"] = round(time.perf_counter() - started, 3)
    out["backfill_rows"] = rows
    return out


def bench_trends_postgres(base_url: str, count: int) -> dict[str, Any]:
    admin_url = sa.make_url(Settings(database_url=base_url).resolved_database_url)
    admin = sa.create_engine(admin_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{PG_BENCH_DATABASE}"')
    url = admin_url.set(database=PG_BENCH_DATABASE).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        database = Database(url)
        end = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        load_s = load_postgres(database, count, end)
        result = {"listings": count, "load_s": round(load_s, 1), **time_trends(database, end)}
        database.dispose()
        return result
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
        admin.dispose()


def bench_trends_sqlite(count: int) -> dict[str, Any]:
    path = Path(tempfile.mkdtemp(prefix="riff-bench-research-")) / "bench.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    database = Database(url)
    end = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    load_s = load_sqlite(database, count, end)
    result = {"listings": count, "load_s": round(load_s, 1), **time_trends(database, end)}
    database.dispose()
    path.unlink(missing_ok=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument(
        "--requests", type=int, default=40, help="Requests per collector (Reddit: at most 30)"
    )
    parser.add_argument("--ebay-rate", type=float, default=5.0, help="eBay pacing for the bench (requests/s)")
    parser.add_argument("--sqlite", action="store_true", help="Also run the trends benchmark on SQLite")
    parser.add_argument("--skip-collectors", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("RIFF_LOG_LEVEL", "WARNING")
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    report: dict[str, Any] = {"benchmark": "research", "load_average": os.getloadavg()[0]}
    if not args.skip_collectors:
        report["collectors"] = bench_collectors(args.requests, args.ebay_rate)
    pg_url = os.environ.get("RIFF_BENCH_POSTGRES_URL") or os.environ.get("RIFF_TEST_POSTGRES_URL")
    report["trends"] = {}
    if pg_url:
        report["trends"]["postgres"] = bench_trends_postgres(pg_url, args.listings)
    if args.sqlite or not pg_url:
        report["trends"]["sqlite"] = bench_trends_sqlite(args.listings)
    print(json.dumps(report, sort_keys=True))
    print()
    for platform, figures in report.get("collectors", {}).items():
        print(f"{platform:7} {figures['requests']:>4} requests in {figures['seconds']:>6.2f} s: "
              f"{figures['achieved_per_second']:.3f}/s at a limit of {figures['limit_per_second']}/s "
              f"= {figures['ratio_to_limit']:.3f} of the limit, {figures['http_429']} x 429")  # fmt: skip
    for backend, figures in report["trends"].items():
        print(f"trends {backend:8} {figures['listings']:,} listings (loaded in {figures['load_s']} s): nightly day "
              f"{figures['nightly_one_day_s']} s ({figures['nightly_rows']} rows), 90-day backfill "
              f"{figures['backfill_90_days_s']} s ({figures['backfill_rows']} rows)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
