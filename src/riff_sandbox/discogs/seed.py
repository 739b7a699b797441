"""Demo inventory for the Discogs sandbox: ``size`` listings For Sale, plus some history (sold listings
with their orders, drafts, expired listings) that ``status=For Sale`` never shows.

Content is fully determined by the seed; timestamps are offsets back from the moment of seeding.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from riff_sandbox.discogs import catalogue
from riff_sandbox.discogs.consts import FIRST_LISTING_ID, MEDIA_CONDITIONS, SHIPS_FROM
from riff_sandbox.discogs.shop import DiscogsOptions, DiscogsShop, Record, iso
from riff_sandbox.toolkit.store import Transaction

_MEDIA_WEIGHTS = (4, 30, 34, 18, 7, 4, 2, 1)
_CONDITION_FACTOR = {
    "Mint (M)": 1.6,
    "Near Mint (NM or M-)": 1.3,
    "Very Good Plus (VG+)": 1.0,
    "Very Good (VG)": 0.7,
    "Good Plus (G+)": 0.5,
    "Good (G)": 0.35,
    "Fair (F)": 0.2,
    "Poor (P)": 0.1,
}
COMMENTS = (
    "",
    "Plays through without skips.",
    "Light surface marks, plays fine. Original inner sleeve.",
    "Sleeve has ring wear and a small seam split.",
    "Includes insert and hype sticker.",
    "Promo stamp on back cover.",
    "Still in shrink with hype sticker.",
    "Cleaned on a record cleaning machine. Minor crackle in the lead-in.",
    "Corner dings on the sleeve, vinyl is glossy.",
    "Writing on label, otherwise excellent.",
)
SOLD_SHARE = 1 / 25
DRAFT_SHARE = 1 / 60
EXPIRED_SHARE = 1 / 100


def _sleeve(rng: random.Random, media: str) -> str:
    draw = rng.random()
    if draw < 0.05:
        return "Generic"
    if draw < 0.08:
        return "Not Graded"
    if draw < 0.1:
        return "No Cover"
    index = MEDIA_CONDITIONS.index(media)
    return MEDIA_CONDITIONS[min(len(MEDIA_CONDITIONS) - 1, max(0, index + rng.choice((-1, 0, 0, 1))))]


def _price(release: catalogue.Release, media: str, rng: random.Random) -> str:
    raw = (
        release.album.base_price_usd
        * release.price_factor
        * _CONDITION_FACTOR[media]
        * rng.uniform(0.8, 1.25)
    )
    whole = max(3, int(raw))
    ending = rng.choice(("00", "50", "99", "99"))
    return str(Decimal(f"{whole}.{ending}"))


def _listing(
    rng: random.Random, position: int, release_id: int, status: str, posted: datetime, options: DiscogsOptions
) -> Record:
    release = catalogue.release(release_id)
    media = rng.choices(MEDIA_CONDITIONS, weights=_MEDIA_WEIGHTS)[0]
    bin_letter = "ABCDEFGH"[position % 8]
    return {
        "id": FIRST_LISTING_ID + position,
        "release_id": release_id,
        "status": status,
        "price": _price(release, media, rng),
        "currency": options.currency,
        "condition": media,
        "sleeve_condition": _sleeve(rng, media),
        "comments": rng.choice(COMMENTS),
        "allow_offers": rng.random() < 0.6,
        "posted": iso(posted),
        "updated_at": iso(posted),
        "ships_from": SHIPS_FROM,
        "external_id": f"REC-{position + 1:05d}" if rng.random() < 0.4 else None,
        "location": f"Bin {bin_letter}{rng.randint(1, 40)}",
        "weight": {"Vinyl": 230, "CD": 85, "Cassette": 60}[release.format_name] * release.format_qty,
        "format_quantity": release.format_qty,
        "quantity": 1,
    }


def seed(tx: Transaction, rng: random.Random, size: int, now: datetime, options: DiscogsOptions) -> None:
    shop = DiscogsShop(tx, options, now)
    extra_sold = max(2, round(size * SOLD_SHARE)) if size else 0
    extra_draft = round(size * DRAFT_SHARE)
    extra_expired = round(size * EXPIRED_SHARE)
    statuses = (
        ["For Sale"] * size + ["Sold"] * extra_sold + ["Draft"] * extra_draft + ["Expired"] * extra_expired
    )
    rng.shuffle(statuses)
    releases = catalogue.release_ids(rng, len(statuses))
    # Listed over the last ~2.5 years; ids grow with the listing date, as on Discogs.
    moments = sorted(
        now - timedelta(days=rng.uniform(0.5, 900), minutes=rng.randint(0, 1439)) for _ in statuses
    )
    for position, (status, release_id, posted) in enumerate(zip(statuses, releases, moments, strict=True)):
        record = _listing(
            rng, position, release_id, "For Sale" if status == "Sold" else status, posted, options
        )
        shop.save_listing(record)
        if status == "Sold":
            shop.now = posted + (now - posted) * rng.uniform(0.2, 0.98)
            order = shop.purchase(record, paid=True)
            age = now - shop.now
            if age > timedelta(days=3):
                shop.now += timedelta(days=rng.uniform(0.5, 2))
                shop.add_message(order, f"Shipped, tracking {rng.randint(10**9, 10**10 - 1)}", "Shipped")
            shop.now = now
    tx.next_value("listing_id", FIRST_LISTING_ID + len(statuses) - 1)  # the counter continues after the seed
