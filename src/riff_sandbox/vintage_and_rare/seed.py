"""The demo dealer's inventory: 1,500 vintage items by default (the shop's real export has 1,500+ rows,
~3 MB), a quarter of them sold, drawn from the shared demo catalogue so every sandbox sells the same kind
of stock. Fully determined by the seed; creation times count back from the moment of seeding."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from riff_sandbox.toolkit import demo
from riff_sandbox.toolkit.store import Transaction
from riff_sandbox.toolkit.timeutil import isoformat_utc
from riff_sandbox.vintage_and_rare.consts import DEFAULT_SHIPPING_FEES, FIRST_ITEM_ID, SELLER_USER_ID
from riff_sandbox.vintage_and_rare.site import VintageAndRareOptions, VintageAndRareSite, decade_of

SOLD_SHARE = 0.25
SKU_BASE = 10_000_001

# Demo kinds -> category ids (levels 0-3) in data/categories.json.
CATEGORY_BY_KIND = {
    demo.ELECTRIC_SOLID: ["51", "83"],
    demo.ELECTRIC_SEMI: ["51", "84"],
    demo.ELECTRIC_HOLLOW: ["51", "85"],
    demo.ELECTRIC_TWELVE: ["51", "90", "144"],
    demo.ACOUSTIC_DREADNOUGHT: ["51", "86", "140"],
    demo.ACOUSTIC_SMALL: ["51", "86", "141"],
    demo.BASS: ["52", "93", "146"],
    demo.AMP_COMBO: ["53", "96", "149", "180"],
    demo.AMP_HEAD: ["53", "96", "150", "182"],
    demo.AMP_CABINET: ["53", "96", "151"],
}

_NECKS = (
    "one-piece maple",
    "maple with rosewood board",
    "mahogany with rosewood board",
    "mahogany, ebony board",
)
_PICKUPS = ("original single coils", "original PAF-style humbuckers", "original P-90s", "Filter'Tron pickups")
_REPAIRS = (
    "No repairs, no breaks.",
    "Professional refret at some point; plays beautifully.",
    "Pots replaced with correct-period parts, originals included.",
    "Tuners replaced, original holes.",
    "Small finish touch-up on the back, shown in the photos.",
)


def _description(item: demo.GearItem, rng: random.Random) -> str:
    specs = (
        f"<h3>Specifications</h3><ul><li>Year: {item.year}</li><li>Finish: {item.finish}</li>"
        f"<li>Neck: {rng.choice(_NECKS)}</li><li>Electronics: {rng.choice(_PICKUPS)}</li>"
        f"<li>Weight: {rng.uniform(3.2, 4.6):.2f} kg</li><li>Serial number verified and dated.</li></ul>"
    )
    report = (
        f"<h3>Condition report</h3><p>{rng.choice(_REPAIRS)} Frets have plenty of life left and the "
        "setup is low and comfortable. Electronics are clean and quiet; every switch and control works "
        "as it should. The case shows its age but protects the instrument well.</p>"
        "<p>All our instruments are inspected by our in-house luthier before sale and shipped fully "
        "insured worldwide. Please get in touch for more photos, sound clips or a part-exchange quote.</p>"
    )
    return item.description + specs + report


def seed(tx: Transaction, rng: random.Random, size: int, now: datetime) -> None:
    site = VintageAndRareSite(tx, VintageAndRareOptions(), now)
    span = timedelta(days=3 * 365)
    for position, item in enumerate(demo.generate(rng, size)):
        item_id = site.new_item_id()
        created = now - span + span * (position + 1) / (size + 1) - timedelta(minutes=rng.randint(0, 600))
        sold = rng.random() < SOLD_SHARE
        record = {
            "id": item_id,
            "user_id": SELLER_USER_ID,
            "brand": item.make,
            "brand_id": site.brand_id(item.make),
            "model": item.model,
            "year": str(item.year),
            "decade": decade_of(item.year),
            "finish": item.finish,
            "description": _description(item, rng),
            "price": f"{item.price_in('GBP')}.00",
            "discounted_price": "",
            "external_id": f"RIFF-{SKU_BASE + position}",
            "processing_time": "3",
            "processing_unit": "Days",
            "collective_discount": "",
            "offer_discount": "",
            "video_url": "",
            "external_url": "",
            "categories": CATEGORY_BY_KIND[item.kind],
            "shipping_fees": dict(DEFAULT_SHIPPING_FEES),
            "media": [site.new_media(f"{item_id}_{n}.jpg", None) for n in range(rng.randint(3, 6))],
            "call_price": False,
            "available_for_shipment": True,
            "local_pickup": rng.random() < 0.4,
            "show_vat": True,
            "in_collective": rng.random() < 0.3,
            "in_inventory": True,
            "in_reseller": rng.random() < 0.2,
            "buy_now": rng.random() < 0.5,
            "free_shipping": False,
            "sold": sold,
            "sold_at": isoformat_utc(created + (now - created) * rng.uniform(0.2, 0.9)) if sold else None,
            "deleted": False,
            "product_order": item_id - FIRST_ITEM_ID + 1,
            "created_at": isoformat_utc(created),
        }
        site.now = created
        site.save_item(record)
    site.now = now
