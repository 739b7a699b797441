"""Sale -> delist propagation benchmark: how long after a sale on one channel is the item ended everywhere
else, against the floor the platforms allow.

    .venv/bin/python bench/propagation.py [--sales 200] [--latency-ms 150] [--concurrency 8]

Setup: the Reverb, eBay and Shopify sandboxes; RIFF's app served by uvicorn (webhooks registered with every
sandbox: Reverb and Shopify ``orders/create``, eBay ``FixedPriceTransaction``); one worker process-thread
pool (``Worker.start_in_thread``, ``--concurrency`` runner threads) on a SQLite file (PostgreSQL with
``--postgres`` and RIFF_TEST_POSTGRES_URL). N one-of-a-kind products are published to all three channels
(no latency), then every sandbox answers each API call after ``--latency-ms`` (the sandboxes' latency
fault), and N sales follow, one at a time, each on a random channel.

Per sale (``t0`` = the purchase on the sandbox):

- ``latency``: t0 -> the last other listing's end confirmed (``sync_sale_propagations.completed_at``);
- ``delivery``: t0 -> the webhook stored in RIFF's inbox (the order's ``received_at``);
- ``floor``: delivery + one parallel round of end calls, i.e. the slowest of that sale's end jobs
  (``started_at`` -> ``finished_at``: the marketplace calls of ending one listing). Nothing can be faster:
  the platform must tell RIFF, and RIFF must end the others;
- ``ratio``: latency / floor.

Prints one JSON line, then a summary with p50/p99 of each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn

from riff.catalog.models import Condition, Product, ProductImage, ProductStatus
from riff.channels import service as channels
from riff.channels.models import Listing, ListingState
from riff.channels.schemas import AccountCreate
from riff.core import migrate
from riff.core.db import Database
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff.jobs.models import Job
from riff.orders.models import Order
from riff.sync.models import SalePropagation
from riff_sandbox.ebay import consts as ebay_sandbox
from riff_sandbox.runner import RunningSandbox, start

UTC = dt.UTC
HOOK_TOKEN = "bench-webhook-path-token-0123456789abcdef"
CHANNELS = ("reverb", "ebay", "shopify")
TOPICS = {"reverb": ["orders/create"], "ebay": ["FixedPriceTransaction"], "shopify": ["orders/create"]}
BENCH_DATABASE = "riff_bench_propagation"
# The sandboxes are not the platforms' rate budgets: RIFF's own client-side limits (eBay's 5,000 calls a day
# above all) would make the publish phase wait for hours. The latency fault stands for the platforms' speed.
UNLIMITED = {
    name: {"rate": 10_000.0, "burst": 10_000.0} for name in ("reverb", "ebay", "shopify", "shopify_graphql")
}


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def _database(postgres: bool, directory: Path) -> str:
    if not postgres:
        return f"sqlite:///{directory / 'bench.db'}"
    base = os.environ["RIFF_TEST_POSTGRES_URL"]
    url = sa.make_url(Settings(database_url=base).resolved_database_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
    admin.dispose()
    return url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def _accounts(database: Database, settings: Settings, sandboxes: dict[str, RunningSandbox]) -> None:
    box = SecretBox(load_secret_key(settings))
    configs: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
        "reverb": ({"currency": "GBP", "shipping_profile_id": "15655", "publish_poll_attempts": 20,
                    "publish_poll_interval_seconds": 0.05}, {"token": sandboxes["reverb"].token or ""}),
        "ebay": ({"shipping_profile_id": "252277357017", "return_profile_id": "252277356017",
                  "postal_code": "WC2H 8NA"},
                 {"client_id": ebay_sandbox.APP_ID, "client_secret": ebay_sandbox.CERT_ID,
                  "dev_id": ebay_sandbox.DEV_ID, "refresh_token": ebay_sandbox.DEFAULT_REFRESH_TOKEN}),
        "shopify": ({"currency": "GBP"},
                    {"token": sandboxes["shopify"].token or "", "client_secret": "sandbox-shopify-client-secret"}),
    }  # fmt: skip
    with database.session() as session:
        for name, sandbox in sandboxes.items():
            config, secrets = configs[name]
            channels.create_account(
                session, box,
                AccountCreate(channel=name, base_url=sandbox.api_base_url, is_sandbox=True, config=config,
                              secrets={**secrets, "webhook_token": HOOK_TOKEN}),
            )  # fmt: skip


def _products(database: Database, count: int) -> list[int]:
    ids = []
    with database.session() as session:
        for number in range(count):
            product = Product(
                sku=f"BENCH-P-{number:05d}", title=f"Gibson Les Paul Standard {1952 + number % 40} #{number}",
                brand="Gibson", model="Les Paul", year=1952 + number % 40, condition=Condition.EXCELLENT,
                base_price=Decimal(2000 + number), currency="GBP", quantity=1, status=ProductStatus.ACTIVE,
                description="Bench guitar.", attributes={},
            )  # fmt: skip
            product.images.append(
                ProductImage(position=0, source_url=f"https://img.example.com/{number}.jpg")
            )
            session.add(product)
            session.flush()
            ids.append(product.id)
        for product_id in ids:
            product = session.get(Product, product_id)
            assert product is not None
            for channel in CHANNELS:
                channels.publish_product(session, product, channel)
    return ids


def _wait(database: Database, condition: Any, timeout: float, poll: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.read_session() as session:
            if condition(session):
                return True
        time.sleep(poll)
    return False


def _all_live(session: Any) -> bool:
    pending = session.scalar(
        sa.select(sa.func.count()).select_from(Listing).where(Listing.state != ListingState.LIVE)
    )
    return pending == 0


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def _sale(
    database: Database, sandboxes: dict[str, RunningSandbox], product_id: int, channel: str, timeout: float
) -> dict[str, Any] | None:
    with database.read_session() as session:
        listing = session.scalars(
            sa.select(Listing).where(Listing.product_id == product_id, Listing.channel == channel)
        ).one()
        remote_id = listing.remote_id or ""
    if channel == "shopify":
        remote_id = remote_id.rsplit("/", 1)[-1]
    t0 = dt.datetime.now(UTC)
    sandboxes[channel].control.purchase(remote_id, wait_for_webhooks=False)

    def done(session: Any) -> bool:
        propagated = session.scalar(
            sa.select(sa.func.count())
            .select_from(SalePropagation)
            .where(SalePropagation.product_id == product_id, SalePropagation.completed_at.is_not(None))
        )
        # The end jobs' own bookkeeping (status, finished_at) is written just after the handler returns.
        unfinished = session.scalar(
            sa.select(sa.func.count())
            .select_from(Job)
            .where(Job.product_id == product_id, Job.kind.like("%.end"), Job.finished_at.is_(None))
        )
        return bool(propagated) and not unfinished

    if not _wait(database, done, timeout):
        return None
    with database.read_session() as session:
        propagation = session.scalars(
            sa.select(SalePropagation).where(SalePropagation.product_id == product_id)
        ).one()
        order = session.get(Order, propagation.order_id) if propagation.order_id else None
        ends = session.execute(
            sa.select(Job.started_at, Job.finished_at).where(
                Job.product_id == product_id, Job.kind.like("%.end"), Job.status == "completed"
            )
        ).all()
        hooks = session.execute(
            sa.select(Job.created_at, Job.started_at, Job.finished_at)
            .where(Job.kind.like("%.webhook"), Job.created_at >= t0 - dt.timedelta(seconds=1))
            .order_by(Job.id)
        ).all()
        end_jobs = session.execute(
            sa.select(Job.created_at, Job.started_at).where(
                Job.product_id == product_id, Job.kind.like("%.end")
            )
        ).all()
        early = order is not None and propagation.created_at < order.created_at
        completed, first_heard = propagation.completed_at, propagation.received_at
        targets = len(propagation.targets or [])
        received = order.received_at if order is not None else first_heard
    assert completed is not None
    hook = hooks[0] if hooks else None
    breakdown = {}
    if hook is not None and hook[1] and hook[2]:
        breakdown = {
            "webhook_wait_ms": round((hook[1] - hook[0]).total_seconds() * 1000, 1),
            "webhook_run_ms": round((hook[2] - hook[1]).total_seconds() * 1000, 1),
        }
    if end_jobs:
        breakdown["end_wait_ms"] = round(
            (min(s for _, s in end_jobs if s) - min(c for c, _ in end_jobs)).total_seconds() * 1000, 1
        )
    end_round = max((f - s).total_seconds() for s, f in ends if s and f)
    delivery = (received - t0).total_seconds()
    latency = (completed - t0).total_seconds()
    floor = delivery + end_round
    return {
        "channel": channel,
        "latency_ms": round(latency * 1000, 1),
        "delivery_ms": round(delivery * 1000, 1),
        "end_round_ms": round(end_round * 1000, 1),
        "floor_ms": round(floor * 1000, 1),
        "internal_ms": round((completed - first_heard).total_seconds() * 1000, 1),
        "ratio": round(latency / floor, 3),
        "ended": targets,
        "early_delist": early,
        **breakdown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sales", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (RIFF_TEST_POSTGRES_URL)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.environ["RIFF_JOBS_RATE_LIMITS"] = json.dumps(UNLIMITED)
    from riff.jobs.config import reset_jobs_settings_cache

    reset_jobs_settings_cache()

    import riff.sync.tasks  # noqa: F401 - handlers
    from riff.app import create_app
    from riff.jobs.worker import Worker

    directory = Path(tempfile.mkdtemp(prefix="riff-bench-propagation-"))
    url = _database(args.postgres, directory)
    migrate.upgrade(url)
    database = Database(url)
    settings = Settings(
        data_dir=directory / "data", database_url=url, secret_key="bench-secret-key-0123456789"
    )
    sandboxes = {name: start(name, data_dir=directory / name, seed_size=0) for name in CHANNELS}
    server = thread = worker = None
    try:
        _accounts(database, settings, sandboxes)
        server, thread, riff_url = _serve(create_app(settings, database))
        worker = Worker(database, settings, with_scheduler=False, concurrency=args.concurrency)
        worker.start_in_thread()
        started = time.monotonic()
        product_ids = _products(database, args.sales)
        if not _wait(database, _all_live, timeout=600, poll=0.5):
            raise SystemExit("publishing did not finish")
        print(
            f"published {len(product_ids)} x {len(CHANNELS)} in {time.monotonic() - started:.0f} s",
            file=sys.stderr,
        )
        for name, sandbox in sandboxes.items():
            for topic in TOPICS[name]:
                sandbox.control.register_webhook(f"{riff_url}/webhooks/{name}/{HOOK_TOKEN}", topic)
            sandbox.control.faults(latency_ms=args.latency_ms)
        results: list[dict[str, Any]] = []
        missed = 0
        for number, product_id in enumerate(product_ids):
            result = _sale(database, sandboxes, product_id, rng.choice(CHANNELS), timeout=30)
            if result is None:
                missed += 1
            else:
                results.append(result)
            if number % 20 == 19:
                print(f"  {number + 1} sales", file=sys.stderr)
    finally:
        if worker is not None:
            worker.stop(timeout=30)
        if server is not None:
            server.should_exit = True
            assert thread is not None
            thread.join(10)
        for sandbox in sandboxes.values():
            sandbox.stop()
        database.dispose()

    def stats(key: str) -> dict[str, float]:
        values = [r[key] for r in results if key in r] or [0.0]
        return {"p50": percentile(values, 0.5), "p99": percentile(values, 0.99), "max": max(values)}

    summary = {
        "bench": "propagation",
        "database": database.dialect,
        "sales": len(results),
        "missed": missed,
        "latency_per_call_ms": args.latency_ms,
        "worker_concurrency": args.concurrency,
        "latency_ms": stats("latency_ms"),
        "floor_ms": stats("floor_ms"),
        "ratio": stats("ratio"),
        "delivery_ms": stats("delivery_ms"),
        "end_round_ms": stats("end_round_ms"),
        "internal_ms": stats("internal_ms"),
        "webhook_wait_ms": stats("webhook_wait_ms"),
        "webhook_run_ms": stats("webhook_run_ms"),
        "end_wait_ms": stats("end_wait_ms"),
        "early_delists": sum(1 for r in results if r.get("early_delist")),
        "by_channel": {
            channel: {
                "sales": len(rs),
                "early_delists": sum(1 for r in rs if r.get("early_delist")),
                "latency_p50_ms": percentile([r["latency_ms"] for r in rs], 0.5),
                "ratio_p50": percentile([r["ratio"] for r in rs], 0.5),
            }
            for channel in CHANNELS
            if (rs := [r for r in results if r["channel"] == channel])
        },
    }
    print(json.dumps(summary))
    print()
    print(
        f"{len(results)} sales ({missed} missed), {args.latency_ms} ms per marketplace call, {database.dialect}"
    )
    print(
        f"sale -> all other listings ended: p50 {summary['latency_ms']['p50']:.0f} ms, p99 {summary['latency_ms']['p99']:.0f} ms"
    )
    print(
        f"floor (delivery + one parallel round of ends): p50 {summary['floor_ms']['p50']:.0f} ms, p99 {summary['floor_ms']['p99']:.0f} ms"
    )
    print(
        f"ratio to the floor: p50 {summary['ratio']['p50']:.2f}x, p99 {summary['ratio']['p99']:.2f}x (target p99 <= 1.5x)"
    )


if __name__ == "__main__":
    main()
