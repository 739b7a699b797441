"""Benchmark: the Discogs inventory sync against the Discogs sandbox, paced to its rate limit.

For each inventory size (default 538 and 5,000 listings For Sale), against the Discogs sandbox on loopback
(60 requests per window) and a fresh, migrated SQLite database:

1. **full sync** at Discogs' real window (60 per 60 s), from a cold window: every page of the inventory
   into products, records and listings. Nothing has to wait (a cold window lets up to 60 requests go at
   once), so this measures the sync's own cost (HTTP, JSON, database writes) against the floor;
2. **re-sync requests** (counted, not timed; on the second sandbox below): an incremental re-sync after two
   listings were added on Discogs (page 1 only), an incremental re-sync after a sale (the inventory's count
   no longer adds up, so it escalates to a full comparison plus one look-up), and a full re-sync;
3. **paced**: with the window shortened to ``--window`` seconds (same 60 requests: a time scale of
   60/window, so the run takes seconds, not minutes; the ratio does not depend on the scale), a full re-sync
   followed by ``--lookups`` release look-ups (``GET /releases/{id}``, the enrichment job): several windows'
   worth of requests, so the pacer must spread them by reading ``X-Discogs-Ratelimit-*``.

Each timed run reports ``ratio = elapsed / floor`` with ``floor = requests x window / 60`` (what the rate
limit alone needs at a steady 60 a window); target <= 1.1, with zero 429s. The load average at the start is
recorded: on a shared machine the figures move with it.

Prints ONE JSON line with every figure, then a human summary.

    .venv/bin/python bench/discogs_sync.py [--sizes 538,5000] [--window 6] [--lookups 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import structlog

from riff.channels.discogs import inventory
from riff.channels.discogs.adapter import DiscogsChannel
from riff.core import migrate
from riff.core.db import Database
from riff_sandbox.runner import RunningSandbox
from riff_sandbox.testing import running

REQUESTS_PER_WINDOW = 60
DISCOGS_WINDOW_SECONDS = 60.0
TARGET_RATIO = 1.1
USER_AGENT = "RiffBench/1.0 +https://riff.example"
INVENTORY = "/users/riff_records/inventory"


def quiet() -> None:
    logging.disable(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))


def channel_for(sandbox: RunningSandbox, window: float) -> DiscogsChannel:
    config = {"username": "riff_records", "user_agent": USER_AGENT, "rate_limit_window_seconds": window}
    return DiscogsChannel(
        config=config, secrets={"token": sandbox.token or ""}, base_url=sandbox.api_base_url
    )


def fresh_database(root: Path, name: str) -> Database:
    url = f"sqlite:///{root / name}.db"
    migrate.upgrade(url)
    return Database(url)


async def sync(database: Database, channel: DiscogsChannel, mode: str) -> tuple[inventory.SyncStats, float]:
    started = time.perf_counter()
    stats = await inventory.sync_inventory(database, channel, account_id=None, mode=mode)
    return stats, time.perf_counter() - started


def add_listings(sandbox: RunningSandbox, count: int) -> None:
    headers = {"User-Agent": "OtherTool/1.0", "Authorization": f"Discogs token={sandbox.token}"}
    with httpx.Client(base_url=sandbox.api_base_url, headers=headers, trust_env=False) as http:
        for n in range(count):
            body = {
                "release_id": 1_900_001 + n,
                "condition": "Mint (M)",
                "price": 20 + n,
                "status": "For Sale",
            }
            http.post("/marketplace/listings", json=body).raise_for_status()


def newest_listing(sandbox: RunningSandbox) -> int:
    headers = {"User-Agent": "OtherTool/1.0", "Authorization": f"Discogs token={sandbox.token}"}
    with httpx.Client(base_url=sandbox.api_base_url, headers=headers, trust_env=False) as http:
        return int(http.get(INVENTORY, params={"per_page": 1, "page": 2}).json()["listings"][0]["id"])


def measured(elapsed: float, requests: int, window: float, pacer: Any) -> dict[str, Any]:
    floor = requests * window / REQUESTS_PER_WINDOW
    return {
        "elapsed_s": round(elapsed, 3),
        "requests": requests,
        "floor_s": round(floor, 3),
        "ratio": round(elapsed / floor, 3) if floor else None,
        "rate_limited": pacer.rate_limited,
        "waited_s": round(pacer.waited_seconds, 3),
    }


async def bench_size(size: int, window: float, lookups: int, root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {"listings": size}
    with running(
        "discogs", root / f"sandbox-{size}", seed_size=size, rate_limit=REQUESTS_PER_WINDOW,
        rate_limit_window_seconds=DISCOGS_WINDOW_SECONDS,
    ) as sandbox:  # fmt: skip
        database = fresh_database(root, f"riff-{size}")
        async with channel_for(sandbox, DISCOGS_WINDOW_SECONDS) as channel:
            stats, elapsed = await sync(database, channel, "full")
            result["full_sync"] = {
                **measured(elapsed, stats.requests, DISCOGS_WINDOW_SECONDS, channel.pacer),
                "window_s": DISCOGS_WINDOW_SECONDS,
                "pages": stats.pages,
                "added": stats.added,
            }
        database.dispose()

    with running(
        "discogs", root / f"sandbox-{size}-paced", seed_size=size, rate_limit=REQUESTS_PER_WINDOW,
        rate_limit_window_seconds=window,
    ) as sandbox:  # fmt: skip
        database = fresh_database(root, f"riff-{size}-paced")
        async with channel_for(sandbox, window) as channel:
            await inventory.sync_inventory(database, channel, account_id=None, mode="full")  # not timed
            add_listings(sandbox, 2)
            incremental, _ = await sync(database, channel, "incremental")
            sandbox.control.purchase(newest_listing(sandbox))
            after_sale, _ = await sync(database, channel, "incremental")
            full, _ = await sync(database, channel, "full")
            result["resync_requests"] = {
                "full": full.requests,
                "incremental_after_2_added": incremental.requests,
                "incremental_after_a_sale": after_sale.requests,
                "incremental_after_a_sale_escalated": after_sale.escalated,
            }
        await asyncio.sleep(window + 0.2)  # a cold window again
        async with channel_for(sandbox, window) as channel:
            started = time.perf_counter()
            stats = await inventory.sync_inventory(database, channel, account_id=None, mode="full")
            enriched = await inventory.enrich_releases(database, channel, limit=lookups)
            elapsed = time.perf_counter() - started
            answered = channel.pacer.requests - channel.pacer.rate_limited
            result["paced"] = {
                **measured(elapsed, answered, window, channel.pacer),
                "window_s": window,
                "resync_requests": stats.requests,
                "release_lookups": enriched["releases"],
            }
        database.dispose()
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="riff-discogs-bench-") as tmp:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        results = [await bench_size(size, args.window, args.lookups, Path(tmp)) for size in sizes]
    return {
        "bench": "discogs_sync",
        "window_s": args.window,
        "requests_per_window": REQUESTS_PER_WINDOW,
        "scale": round(60 / args.window, 2),
        "target_ratio": TARGET_RATIO,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "results": results,
    }


def summary(report: dict[str, Any]) -> list[str]:
    lines = [
        f"Discogs sandbox, 60 requests per window; paced runs at a {report['window_s']} s window "
        f"(time scale x{report['scale']}); load average {report['load_average']} on {report['cpus']} CPUs"
    ]
    for result in report["results"]:
        full, paced, resync = result["full_sync"], result["paced"], result["resync_requests"]
        lines.append(
            f"{result['listings']:>6} listings  full sync (60 s window, cold): {full['requests']} requests, "
            f"{full['elapsed_s']} s, floor {full['floor_s']} s, ratio {full['ratio']}, 429s {full['rate_limited']}"
        )
        lines.append(
            f"{'':>6}           paced (full re-sync + {paced['release_lookups']} release look-ups): "
            f"{paced['requests']} requests, {paced['elapsed_s']} s, floor {paced['floor_s']} s, "
            f"ratio {paced['ratio']}, 429s {paced['rate_limited']}"
        )
        lines.append(
            f"{'':>6}           re-sync requests: full {resync['full']}, incremental "
            f"{resync['incremental_after_2_added']} (2 added), {resync['incremental_after_a_sale']} after a sale"
        )
    worst = max(max(r["full_sync"]["ratio"], r["paced"]["ratio"]) for r in report["results"])
    verdict = "OK" if worst <= TARGET_RATIO else "MISSED"
    lines.append(f"worst ratio {worst} (target <= {report['target_ratio']}): {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="538,5000", help="comma-separated inventory sizes")
    parser.add_argument(
        "--window", type=float, default=6.0, help="rate-limit window in seconds (Discogs: 60)"
    )
    parser.add_argument("--lookups", type=int, default=300, help="release look-ups in the paced run")
    args = parser.parse_args()
    quiet()
    report = asyncio.run(main_async(args))
    print(json.dumps(report))
    for line in summary(report):
        print(line)


if __name__ == "__main__":
    main()
