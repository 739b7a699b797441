"""Demo seller for the eBay sandbox: vintage gear listed GTC, some sold (with orders, some shipped), some
ended unsold. Content is determined by the seed; times are offsets back from the moment of seeding.
SKUs match the Reverb sandbox's (``RIFF-1000000N`` for the N-th demo item), as one shop lists the same
stock on both."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from riff_sandbox.ebay.consts import DEFAULT_REFRESH_TOKEN, KIND_REFRESH, SHIPPING_PROFILES
from riff_sandbox.ebay.shop import GTC_PERIOD, EbayOptions, EbayShop
from riff_sandbox.ebay.xml import iso
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.tokens import TOKENS

SOLD_SHARE = 0.18
ENDED_SHARE = 0.12
STOCKED_SHARE = 0.08

CATEGORY_BY_KIND = {
    demo.ELECTRIC_SOLID: "33034",
    demo.ELECTRIC_SEMI: "33034",
    demo.ELECTRIC_HOLLOW: "33034",
    demo.ELECTRIC_TWELVE: "33034",
    demo.ACOUSTIC_DREADNOUGHT: "33021",
    demo.ACOUSTIC_SMALL: "33021",
    demo.BASS: "4713",
    demo.AMP_COMBO: "38072",
    demo.AMP_HEAD: "38072",
    demo.AMP_CABINET: "38072",
}
CONDITION_BY_DEMO = {
    "mint": "3000",
    "excellent": "3000",
    "very_good": "3000",
    "good": "3000",
    "fair": "3000",
    "poor": "7000",
}
CARRIERS = ("DHL", "UPS", "RoyalMail", "Parcelforce", "FedEx")


def seed(tx: Transaction, rng: random.Random, size: int, now: datetime, options: EbayOptions) -> None:
    # The seller's refresh tokens (the OAuth grant RIFF is configured with).
    for token in (DEFAULT_REFRESH_TOKEN, *options.refresh_tokens):
        tx.put(
            TOKENS, token, {"token": token, "kind": KIND_REFRESH, "created_at": iso(now), "source": "seed"}
        )
    shop = EbayShop(tx, options, now)
    profiles = list(SHIPPING_PROFILES)
    for position, gear in enumerate(demo.generate(rng, size)):
        draw = rng.random()
        state = "sold" if draw < SOLD_SHARE else "ended" if draw < SOLD_SHARE + ENDED_SHARE else "active"
        stocked = state != "ended" and rng.random() < STOCKED_SHARE
        started = now - timedelta(days=rng.uniform(3, 120), minutes=rng.randint(0, 1439))
        item_id = str(tx.next_value("item_id", 257_100_000_001))
        picture_key = hashlib.sha256(f"{position}:{gear.title}".encode()).hexdigest()[:16]
        fields = {
            "title": gear.title[:80],
            "description": gear.description,
            "category_id": CATEGORY_BY_KIND[gear.kind],
            "condition_id": CONDITION_BY_DEMO[gear.condition],
            "start_price": str(gear.price_in("GBP")),
            "currency": "GBP",
            "quantity": rng.randint(2, 4) if stocked else 1,
            "sku": f"RIFF-{10_000_001 + position}",
            "country": "GB",
            "location": "London",
            "postal_code": "WC2H 8NA",
            "pictures": [
                f"https://i.ebayimg.com/images/g/{picture_key}{n}/s-l1600.jpg"
                for n in range(rng.randint(3, 8))
            ],
            "specifics": [
                ("Brand", [gear.make]),
                ("Model", [gear.model]),
                ("Year", [str(gear.year)]),
                ("Body Colour", [gear.finish]),
            ],
            "profiles": {
                "shipping": rng.choice(profiles),
                "return": "252277356017",
                "payment": "252277358017",
            },
            "tracking_method": "SKU",
        }
        record = shop._new_item(item_id, fields, started)
        # A GTC listing renews every 30 days: its EndTime is the next renewal.
        renewals = max(0, int((now - started) / GTC_PERIOD))
        record["end_time"] = iso(started + GTC_PERIOD * (renewals + 1))
        record["watch_count"] = rng.randint(0, 25)
        shop.save_item(record)
        if state == "ended":
            shop.now = started + (now - started) * rng.uniform(0.3, 0.95)
            shop._close(record, "NotAvailable")
            shop.save_item(record)
        elif state == "sold":
            _sell(shop, record, rng, started, now, record["quantity"])
        elif stocked and rng.random() < 0.5:
            _sell(shop, record, rng, started, now, 1)
        shop.events.clear()


def _sell(
    shop: EbayShop,
    record: dict[str, object],
    rng: random.Random,
    started: datetime,
    now: datetime,
    quantity: int,
) -> None:
    # A third each: awaiting shipment, shipped recently, shipped weeks ago.
    age = timedelta(days=rng.choice([rng.uniform(0.1, 2), rng.uniform(2.5, 11), rng.uniform(13, 80)]))
    sold_at = max(started + timedelta(hours=1), now - age)
    shop.now = sold_at
    order = shop.purchase(record, quantity)
    if now - sold_at > timedelta(days=2):
        shop.now = sold_at + timedelta(days=rng.uniform(0.5, 2))
        shop.complete_sale(
            order,
            shipped=True,
            carrier=rng.choice(CARRIERS),
            number=str(rng.randint(10**9, 10**10 - 1)),
            shipped_time=iso(shop.now),
        )
