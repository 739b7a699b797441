"""Benchmark: server time of every main UI page on a shop with 10,000 products.

Seeds a fresh, migrated database (a SQLite file in a temp dir; ``--database-url`` for another one, e.g.
an empty PostgreSQL database) with ``--products`` products, listings on three channels (with the remote
prices, quantities and states a pull would have seen: the effective prices under the migrations' price
rules, ~1% of them drifted), stock movements with sales, jobs in every state and sync events (orders,
delists with latencies, oversells); on PostgreSQL it then runs ANALYZE, as autovacuum would have by the
time anyone looks at the shop. Then it logs in through the login form and renders each page
``--requests`` times through the ASGI app in this process (Starlette's TestClient: no network, so the
time is the server's), after a few warm-up calls.

Prints ONE JSON line with p50/p95/max per page, then a human summary. Target: every page p95 < 200 ms.

    .venv/bin/python bench/ui_pages.py [--products 10000] [--requests 40] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from riff.auth.models import Role
from riff.auth.service import create_user
from riff.catalog.models import Category, Condition, MovementReason, Product, ProductStatus, StockMovement
from riff.catalog.pricing import effective_price
from riff.channels.models import AccountStatus, ChannelAccount, ChannelPriceRule, Listing, ListingState
from riff.core import migrate
from riff.core.clock import utcnow
from riff.core.db import Database
from riff.core.settings import Settings
from riff.jobs.models import Job
from riff.sync.models import SyncEvent

TARGET_P95_MS = 200.0
SEED_BATCH = 2000
WARMUP_REQUESTS = 3
USERNAME = "bench"
PASSWORD = "bench password 123"
CHANNELS = ("reverb", "ebay", "shopify")
BRANDS = (
    "Fender",
    "Gibson",
    "Gretsch",
    "Rickenbacker",
    "Vox",
    "Marshall",
    "Martin",
    "Epiphone",
    "Guild",
    "Hofner",
)
MODELS = (
    "Telecaster",
    "Stratocaster",
    "ES-335",
    "Les Paul",
    "Jazzmaster",
    "AC30",
    "JTM45",
    "D-28",
    "Starfire",
    "500/1",
)
FINISHES = ("Sunburst", "Olympic White", "Cherry", "Black", "Natural", "Fiesta Red")


def _seed(database: Database, products: int, rng: random.Random) -> dict[str, int]:
    now = utcnow()
    counts: dict[str, int] = {}
    with database.session() as session:
        create_user(session, username=USERNAME, password=PASSWORD, role=Role.OWNER)
        category_ids = list(session.execute(sa.select(Category.id)).scalars())  # the migrations seed them
        if not category_ids:
            session.add(Category(slug="electric-guitars", name="Electric guitars", attribute_schema=[]))
            session.flush()
            category_ids = list(session.execute(sa.select(Category.id)).scalars())
        for slug in CHANNELS:
            session.add(
                ChannelAccount(
                    channel=slug,
                    name="sandbox",
                    enabled=True,
                    is_sandbox=True,
                    config={},
                    status=AccountStatus.OK,
                )
            )
    for start in range(0, products, SEED_BATCH):
        rows = []
        for index in range(start, min(products, start + SEED_BATCH)):
            year = rng.randint(1950, 2015)
            brand, model = rng.choice(BRANDS), rng.choice(MODELS)
            at = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            rows.append(
                {
                    "sku": f"RIFF-{index:07d}",
                    "title": f"{brand} {model} {year} {rng.choice(FINISHES)}",
                    "brand": brand,
                    "model": model,
                    "year": year,
                    "decade": f"{year // 10 * 10}s",
                    "condition": rng.choice(list(Condition)),
                    "description": f"A {year} {brand} {model}, played and loved.",
                    "base_price": Decimal(rng.randint(300, 30000)),
                    "currency": "GBP",
                    "quantity": 1 if rng.random() < 0.85 else 0,
                    "is_stocked_item": False,
                    "status": ProductStatus.ACTIVE if rng.random() < 0.8 else rng.choice(list(ProductStatus)),
                    "attributes": {},
                    "notes": "",
                    "version": 1,
                    "created_at": at,
                    "updated_at": at,
                    "category_id": rng.choice(category_ids),
                }
            )
        with database.session() as session:
            session.execute(sa.insert(Product), rows)
    with database.read_session() as session:
        rows_now = session.execute(
            sa.select(Product.id, Product.status, Product.quantity, Product.base_price).order_by(Product.id)
        ).all()
        rules = {rule.channel: rule for rule in session.execute(sa.select(ChannelPriceRule)).scalars()}
    ids = [row.id for row in rows_now]
    available = {row.id for row in rows_now if row.status == ProductStatus.ACTIVE and row.quantity > 0}
    base_prices = {row.id: row.base_price for row in rows_now}
    quantities = {row.id: row.quantity for row in rows_now}
    counts["products"] = len(ids)
    listings: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    for product_id in ids:
        movements.append(
            {
                "product_id": product_id,
                "delta": 1,
                "quantity_after": 1,
                "reason": MovementReason.INITIAL,
                "actor": "bench",
                "at": now - dt.timedelta(days=400),
            }
        )
        if rng.random() < 0.03:
            movements.append(
                {
                    "product_id": product_id,
                    "delta": -1,
                    "quantity_after": 0,
                    "reason": MovementReason.SALE,
                    "actor": "bench",
                    "at": now - dt.timedelta(hours=rng.randint(0, 24 * 14)),
                }
            )
        for slug in CHANNELS:
            if rng.random() < 0.7:
                listings.append(
                    {
                        "product_id": product_id,
                        "channel": slug,
                        "remote_id": f"{slug}-{product_id}",
                        "remote_url": f"https://example.com/{slug}/{product_id}",
                        # Consistent with the product (live only while in stock), bar ~1% drift for the
                        # reconciliation report to find: a realistic shop, not a broken one.
                        "state": (ListingState.LIVE if product_id in available else ListingState.ENDED)
                        if rng.random() > 0.01
                        else rng.choice(list(ListingState)),
                        # What the last pull saw: RIFF's effective price, bar ~1% changed on the channel.
                        "remote_price": effective_price(base_prices[product_id], rules.get(slug), None)
                        + (Decimal(rng.choice([-50, 25, 100])) if rng.random() < 0.01 else 0),
                        "remote_quantity": quantities[product_id],
                        "extras": {},
                        "last_pushed_at": now - dt.timedelta(hours=rng.randint(1, 500)),
                        "last_pulled_at": now - dt.timedelta(minutes=rng.randint(1, 120)),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    with database.session() as session:
        for start in range(0, len(listings), SEED_BATCH):
            session.execute(sa.insert(Listing), listings[start : start + SEED_BATCH])
        for start in range(0, len(movements), SEED_BATCH):
            session.execute(sa.insert(StockMovement), movements[start : start + SEED_BATCH])
    counts["listings"], counts["stock_movements"] = len(listings), len(movements)

    jobs: list[dict[str, Any]] = []
    for _index in range(20_000):
        status = rng.choices(["completed", "queued", "failed", "cancelled"], weights=[95, 3, 1, 1])[0]
        slug = rng.choice(CHANNELS)
        created = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 14))
        jobs.append(
            {
                "kind": f"{slug}.{rng.choice(['publish', 'update', 'end', 'pull_listings'])}",
                "channel": slug,
                "product_id": rng.choice(ids),
                "payload": {},
                "status": status,
                "priority": 50,
                "attempts": 1,
                "max_attempts": 10,
                "run_after": created,
                "created_at": created,
                "finished_at": created + dt.timedelta(seconds=2) if status != "queued" else None,
                "last_error_message": "HTTP 503 from the channel" if status == "failed" else None,
                "result": {"seen": 10, "updated": 9, "unknown": 1} if status == "completed" else None,
            }
        )
    events: list[dict[str, Any]] = []
    for index in range(30_000):
        kind = rng.choices(["push", "pull", "order_event", "delist", "oversell"], weights=[60, 30, 6, 3, 1])[
            0
        ]
        slug = rng.choice(CHANNELS)
        after: dict[str, Any] = {}
        if kind == "order_event":
            after = {
                "remote_id": f"O-{index}",
                "status": "paid",
                "buyer_name": "Buyer",
                "total": "1200.00",
                "currency": "GBP",
                "lines": [],
            }
        elif kind == "delist":
            after = {"latency_seconds": rng.uniform(1, 40)}
        events.append(
            {
                "channel": slug,
                "product_id": rng.choice(ids),
                "kind": kind,
                "after": after,
                "outcome": "ok",
                "message": f"{kind} on {slug}",
                "actor": "bench",
                "at": now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 30)),
            }
        )
    with database.session() as session:
        for start in range(0, len(jobs), SEED_BATCH):
            session.execute(sa.insert(Job), jobs[start : start + SEED_BATCH])
        for start in range(0, len(events), SEED_BATCH):
            session.execute(sa.insert(SyncEvent), events[start : start + SEED_BATCH])
    counts["jobs"], counts["sync_events"] = len(jobs), len(events)
    if database.dialect == "postgresql":  # the planner statistics autovacuum would have gathered by now
        with database.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
    return counts


def _pages(product_id: int) -> dict[str, str]:
    return {
        "dashboard": "/",
        "dashboard_stats": "/dashboard/stats",
        "inventory": "/inventory",
        "inventory_search": "/inventory?q=fender+telecaster",
        "inventory_filtered": "/inventory?status=active&brand=Gibson&channel=reverb&listing_state=live&sort=price&page=5",
        "product": f"/products/{product_id}",
        "product_listings": f"/products/{product_id}/listings",
        "product_new": "/products/new",
        "orders": "/orders",
        "sync": "/sync",
        "sync_status": "/sync/status",
        "jobs": "/jobs",
        "jobs_failed": "/jobs?status=failed",
        "reconciliation": "/reconciliation",
        "reconciliation_report": "/reconciliation/report?channel=reverb",
        "settings": "/settings",
    }


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered))) - 1))]


def run(products: int, requests: int, database_url: str | None, seed: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from riff.app import create_app

    workdir = Path(tempfile.mkdtemp(prefix="riff-bench-ui-"))
    url = database_url or f"sqlite:///{workdir / 'riff.db'}"
    migrate.upgrade(url)
    database = Database(url)
    started = time.perf_counter()
    counts = _seed(database, products, random.Random(seed))
    seed_seconds = time.perf_counter() - started
    settings = Settings(data_dir=workdir, database_url=url, secret_key="bench-secret-key-0123456789abcdef")
    app = create_app(settings, database)
    results: dict[str, dict[str, float]] = {}
    with TestClient(app) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token, "no CSRF token on the login page"
        login = client.post(
            "/login",
            data={"username": USERNAME, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert login.status_code == 303, login.text
        with database.read_session() as session:
            product_id = session.execute(
                sa.select(Listing.product_id).where(Listing.channel == "reverb").limit(1)
            ).scalar_one()
        for name, path in _pages(product_id).items():
            for _ in range(WARMUP_REQUESTS):
                client.get(path)
            timings: list[float] = []
            for _ in range(requests):
                begin = time.perf_counter()
                response = client.get(path)
                timings.append((time.perf_counter() - begin) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:300]}")
            results[name] = {
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(_percentile(timings, 0.95), 1),
                "max_ms": round(max(timings), 1),
                "bytes": len(response.content),
            }
    database.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    return {
        "bench": "ui_pages",
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "seed": counts,
        "seed_seconds": round(seed_seconds, 1),
        "requests_per_page": requests,
        "load_average": os.getloadavg()[0],
        "target_p95_ms": TARGET_P95_MS,
        "pages": results,
        "all_under_target": all(r["p95_ms"] < TARGET_P95_MS for r in results.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument(
        "--database-url", default=None, help="an empty database to seed (default: a temp SQLite file)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("RIFF_LOG_LEVEL", "WARNING")
    import logging

    logging.disable(logging.INFO)
    report = run(args.products, args.requests, args.database_url, args.seed)
    print(json.dumps(report, sort_keys=True))
    print()
    seed = report["seed"]
    print(
        f"UI pages on {report['database']}: {seed['products']} products, {seed['listings']} listings, "
        f"{seed['jobs']} jobs, {seed['sync_events']} sync events (seeded in {report['seed_seconds']} s); "
        f"{report['requests_per_page']} requests per page, load average {report['load_average']:.2f}"
    )
    print(f"{'page':<22}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, figures in report["pages"].items():
        flag = "" if figures["p95_ms"] < TARGET_P95_MS else "  <-- over target"
        print(f"{name:<22}{figures['p50_ms']:>10}{figures['p95_ms']:>10}{figures['max_ms']:>10}{flag}")
    verdict = "every page under" if report["all_under_target"] else "NOT every page under"
    print(f"\n{verdict} {TARGET_P95_MS:.0f} ms p95")
    return 0 if report["all_under_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
