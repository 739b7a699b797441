"""Demo shop for the Shopify sandbox: the same vintage stock as the other sandboxes (``toolkit.demo``), as
Shopify products in every status, with orders for the sold ones (some fulfilled with tracking).

Content is fully determined by the seed; timestamps are offsets back from the moment of seeding.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from riff_sandbox.shopify.consts import PRIMARY_LOCATION_ID, SHOP_CURRENCY
from riff_sandbox.shopify.shop import Record, ShopifyOptions, ShopifyShop, gid
from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.store import Transaction

DRAFT_SHARE = 0.10
ARCHIVED_SHARE = 0.08
SOLD_SHARE = 0.14
STOCKED_SHARE = 0.08

PRODUCT_TYPES = {
    demo.ELECTRIC_SOLID: "Electric Guitars",
    demo.ELECTRIC_SEMI: "Electric Guitars",
    demo.ELECTRIC_HOLLOW: "Electric Guitars",
    demo.ELECTRIC_TWELVE: "Electric Guitars",
    demo.ACOUSTIC_DREADNOUGHT: "Acoustic Guitars",
    demo.ACOUSTIC_SMALL: "Acoustic Guitars",
    demo.BASS: "Bass Guitars",
    demo.AMP_COMBO: "Amplifiers",
    demo.AMP_HEAD: "Amplifiers",
    demo.AMP_CABINET: "Amplifiers",
}
CONDITION_LABELS = {
    "mint": "Mint",
    "excellent": "Excellent",
    "very_good": "Very Good",
    "good": "Good",
    "fair": "Fair",
    "poor": "Poor",
}
CARRIERS = ("DHL Express", "UPS", "Royal Mail", "FedEx")
IMAGE_HOST = "https://cdn.shopify.com/s/files/1/0000/0001/files"


def seed(tx: Transaction, rng: random.Random, size: int, now: datetime, options: ShopifyOptions) -> None:
    shop = ShopifyShop(tx, options, now)
    for position, item in enumerate(demo.generate(rng, size)):
        draw = rng.random()
        if draw < DRAFT_SHARE:
            status, sold = "DRAFT", False
        elif draw < DRAFT_SHARE + ARCHIVED_SHARE:
            status, sold = "ARCHIVED", False
        else:
            status, sold = "ACTIVE", draw < DRAFT_SHARE + ARCHIVED_SHARE + SOLD_SHARE
        stocked = status == "ACTIVE" and rng.random() < STOCKED_SHARE
        quantity = rng.randint(2, 4) if stocked else (0 if status == "ARCHIVED" else 1)
        created = now - timedelta(days=rng.uniform(4, 420), minutes=rng.randint(0, 1439))
        shop.now = created.replace(microsecond=0)
        sku = f"RIFF-{10_000_001 + position}"
        handle_base = f"{item.make}-{item.model}-{item.year}-{item.finish}"
        product, errors = shop.product_set(
            {
                "title": item.title,
                "description_html": item.description,
                "vendor": item.make,
                "product_type": PRODUCT_TYPES.get(item.kind, "Musical Instruments"),
                "status": status,
                "tags": [
                    item.make,
                    f"Year: {item.year}",
                    f"Finish: {item.finish}",
                    f"Condition: {CONDITION_LABELS[item.condition]}",
                    "vintage",
                ],
                "files": [
                    {
                        "original_source": f"{IMAGE_HOST}/{handle_base.lower().replace(' ', '-')}-{n}.jpg",
                        "alt": "",
                    }
                    for n in range(rng.randint(3, 5))
                ],
                "variants": [
                    {
                        "sku": sku,
                        "price": str(item.price_in(SHOP_CURRENCY)),
                        "inventory_item": {"tracked": True},
                        "inventory_quantities": [
                            {
                                "location_id": gid("Location", PRIMARY_LOCATION_ID),
                                "name": "available",
                                "quantity": quantity,
                            }
                        ],
                    }
                ],
            },
            None,
        )
        assert product is not None, errors
        if sold:
            _sell(shop, product, rng, created, now)
    shop.events.clear()


def _sell(shop: ShopifyShop, product: Record, rng: random.Random, listed: datetime, now: datetime) -> None:
    # A third each: awaiting fulfilment, fulfilled recently, fulfilled long ago.
    age = timedelta(days=rng.choice([rng.uniform(0.1, 2), rng.uniform(2.5, 11), rng.uniform(13, 90)]))
    ordered = max(listed + timedelta(hours=1), now - age)
    shop.now = ordered.replace(microsecond=0)
    order = shop.purchase(product, 1, buyer_index=rng.randrange(len(demo.BUYERS)), paid=True)
    if now - ordered > timedelta(days=2):
        shop.now = (ordered + min((now - ordered) / 3, timedelta(days=2))).replace(microsecond=0)
        fulfillment_order_id = order["fulfillment_order_ids"][0]
        shop.fulfillment_create(
            {
                "line_items_by_fulfillment_order": [
                    {"fulfillment_order_id": gid("FulfillmentOrder", fulfillment_order_id)}
                ],
                "tracking_info": {
                    "company": rng.choice(CARRIERS),
                    "number": str(rng.randint(10**9, 10**10 - 1)),
                },
                "notify_customer": True,
            }
        )
