"""Demo shop for the Reverb sandbox: vintage gear listings in every state, and orders for the sold ones.

Content (ids, titles, prices, states, photos, buyers) is fully determined by the seed; timestamps are
offsets back from the moment of seeding, so the demo shop always looks recent.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from riff_sandbox.reverb import tables
from riff_sandbox.reverb.consts import FIRST_LISTING_ID, SHOP_CURRENCY
from riff_sandbox.reverb.shop import ReverbOptions, ReverbShop, iso
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.store import Transaction

# Share of demo listings per state (the rest are live).
DRAFT_SHARE = 0.13
SOLD_SHARE = 0.13
ENDED_SHARE = 0.12
STOCKED_SHARE = 0.08

PROFILE_BY_KIND = {
    demo.AMP_COMBO: "15657",
    demo.AMP_HEAD: "15657",
    demo.AMP_CABINET: "15657",
    demo.ACOUSTIC_DREADNOUGHT: "15656",
    demo.ACOUSTIC_SMALL: "15656",
}
DEFAULT_PROFILE = "15655"


def seed(tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
    # Seeding is not an API call: no publish delay, no index lag, no webhooks.
    shop = ReverbShop(tx, ReverbOptions(publish_delay_seconds=0, index_lag_seconds=0), now)
    for position, item in enumerate(demo.generate(rng, size)):
        draw = rng.random()
        if draw < DRAFT_SHARE:
            state = "draft"
        elif draw < DRAFT_SHARE + SOLD_SHARE:
            state = "sold"
        elif draw < DRAFT_SHARE + SOLD_SHARE + ENDED_SHARE:
            state = "ended"
        else:
            state = "live"
        stocked = state in ("live", "sold") and rng.random() < STOCKED_SHARE
        listing_id = tx.next_value("listing_id", FIRST_LISTING_ID)
        created = now - timedelta(days=rng.uniform(4, 420), minutes=rng.randint(0, 1439))
        published = created + timedelta(minutes=rng.randint(2, 90))
        shop.now = created
        record = {
            "id": listing_id,
            "make": item.make,
            "model": item.model,
            "finish": item.finish,
            "year": str(item.year),
            "title": item.title,
            "description": item.description,
            "sku": f"RIFF-{10_000_001 + position}",
            "condition_uuid": tables.condition_for_demo(item.condition)["uuid"],
            "category_uuids": [tables.category_for_demo(item.kind)["uuid"]],
            "price_cents": int(item.price_in(SHOP_CURRENCY) * 100),
            "currency": SHOP_CURRENCY,
            "inventory": rng.randint(2, 4) if stocked else 1,
            "has_inventory": stocked,
            "offers_enabled": rng.random() < 0.7,
            "handmade": False,
            "upc": None,
            "upc_does_not_apply": True,
            "origin_country_code": item.origin_country_code,
            "photos": [],
            "videos": [],
            "shipping_profile_id": PROFILE_BY_KIND.get(item.kind, DEFAULT_PROFILE),
            "shipping": None,
            "state": "live" if state == "sold" else state,
            "publish_at": None,
            "created_at": iso(created),
            "published_at": None if state == "draft" else iso(published),
            "updated_at": iso(published if state != "draft" else created),
            "ended_at": None,
            "end_reason": None,
            "stats": {"views": rng.randint(20, 900), "watches": rng.randint(0, 40)},
            "comparison_shopping_page_id": str(rng.randint(10_000, 250_000)) if rng.random() < 0.6 else None,
            "exclusive_channel": None,
            "storage_location": None,
            "seller_cost": None,
        }
        record["photos"] = [
            shop.new_photo(listing_id, f"demo:{position}:{n}", n) for n in range(rng.randint(3, 6))
        ]
        if state == "ended":
            ended = published + (now - published) * rng.uniform(0.3, 0.95)
            record.update(ended_at=iso(ended), end_reason="not_sold", updated_at=iso(ended))
        shop.save_listing(record)
        if state == "sold":
            _sell(shop, record, rng, published, now, record["inventory"])
        elif stocked and rng.random() < 0.5:
            _sell(shop, record, rng, published, now, 1)


def _sell(
    shop: ReverbShop,
    record: dict[str, Any],
    rng: random.Random,
    published: datetime,
    now: datetime,
    quantity: int,
) -> None:
    # A third each: awaiting shipment, shipped, received.
    age = timedelta(days=rng.choice([rng.uniform(0.1, 2), rng.uniform(2.5, 11), rng.uniform(13, 90)]))
    ordered = max(published + timedelta(hours=1), now - age)
    shop.now = ordered
    order = shop.purchase(record, quantity, offer=rng.random() < 0.3)
    age = now - ordered
    if age > timedelta(days=2):
        shipped = ordered + min(age / 3, timedelta(days=2))
        provider = rng.choice(["DHL", "UPS", "Royal Mail", "Parcelforce", "FedEx"])
        shop.now = shipped
        shop.ship(order, {"provider": provider, "tracking_number": f"{rng.randint(10**9, 10**10 - 1)}"})
        if age > timedelta(days=12):
            shop.now = shipped + timedelta(days=rng.randint(3, 8))
            shop.update_order_status(order, {"status": "received"})
    shop.events.clear()
