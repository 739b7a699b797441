"""Discogs JSON representations (shapes from /work/shared/reference/api_samples/discogs/).

``base_url`` is the sandbox's own origin (taken from the request); it stands where Discogs has
``https://api.discogs.com`` (API links) and ``https://www.discogs.com`` (web links, served by the sandbox as
tiny pages). Timestamps are rendered in Pacific time as in the documented examples (``-07:00``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from riff_sandbox.discogs import catalogue
from riff_sandbox.discogs.consts import FIRST_BUYER_ID, SELLER_ID, SELLER_NEXT_STATUSES
from riff_sandbox.discogs.shop import DiscogsOptions, Record
from riff_sandbox.toolkit import demo

DISCOGS_TIMEZONE = timezone(timedelta(hours=-7))
CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
SHIPPING_PRICE = "5.00"  # the demo seller's flat domestic rate
CURRENCY_IDS = {"USD": 1, "GBP": 2, "EUR": 3, "CAD": 4, "AUD": 5, "JPY": 6}


def discogs_time(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(DISCOGS_TIMEZONE).isoformat(timespec="seconds")


def _amount(value: str | Decimal) -> float:
    return float(Decimal(str(value)))


def price(value: str | Decimal, currency: str) -> dict[str, Any]:
    return {"currency": currency, "value": _amount(value)}


def original_price(value: str | Decimal, currency: str) -> dict[str, Any]:
    amount = Decimal(str(value))
    return {
        "curr_abbr": currency,
        "curr_id": CURRENCY_IDS.get(currency, 1),
        "formatted": f"{CURRENCY_SYMBOLS.get(currency, currency + ' ')}{amount:,.2f}",
        "value": float(amount),
    }


def image_url(base_url: str, release_id: int, size: int = 600) -> str:
    return f"{base_url}/images/R-{release_id}-{size}.svg"


def release_images(base_url: str, release_id: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "primary",
            "uri": image_url(base_url, release_id),
            "resource_url": image_url(base_url, release_id),
            "uri150": image_url(base_url, release_id, 150),
            "width": 600,
            "height": 600,
        }
    ]


def seller(base_url: str, options: DiscogsOptions) -> dict[str, Any]:
    return {
        "username": options.seller_username,
        "resource_url": f"{base_url}/users/{options.seller_username}",
        "id": SELLER_ID,
    }


def listing_release(base_url: str, release_id: int) -> dict[str, Any]:
    release = catalogue.release(release_id)
    return {
        "catalog_number": release.catalog_number,
        "resource_url": f"{base_url}/releases/{release_id}",
        "year": release.year,
        "id": release_id,
        "description": release.description,
        "artist": release.album.artist,
        "title": release.album.title,
        "format": release.format_text,
        "thumbnail": image_url(base_url, release_id, 150),
        "images": release_images(base_url, release_id),
        "stats": {"community": {"in_wantlist": release.want, "in_collection": release.have}},
    }


def seller_detail(base_url: str, options: DiscogsOptions) -> dict[str, Any]:
    """The seller as GET /marketplace/listings/{id} shows it (more than the inventory's three fields)."""
    return {
        **seller(base_url, options),
        "avatar_url": f"{base_url}/images/avatar-{SELLER_ID}.svg",
        "url": f"{base_url}/users/{options.seller_username}",
        "shipping": "Records ship in sturdy mailers; combined shipping on request.",
        "payment": "PayPal",
        "stats": {"rating": "100", "stars": 5.0, "total": 212},
    }


def render_listing(
    record: Record, base_url: str, options: DiscogsOptions, *, owner: bool, detail: bool = False
) -> dict[str, Any]:
    """A listing as the inventory shows it; ``detail``: as GET /marketplace/listings/{id} shows it (seller
    details, shipping price). The owner also sees weight, format_quantity, external_id, location,
    quantity and in_cart (the docs)."""
    currency = record["currency"]
    body: dict[str, Any] = {
        "status": record["status"],
        "price": price(record["price"], currency),
        "original_price": original_price(record["price"], currency),
        "allow_offers": record["allow_offers"],
        "sleeve_condition": record.get("sleeve_condition") or "Not Graded",
        "id": record["id"],
        "condition": record["condition"],
        "posted": discogs_time(record["posted"]),
        "ships_from": record["ships_from"],
        "uri": f"{base_url}/sell/item/{record['id']}",
        "comments": record.get("comments") or "",
        "seller": seller(base_url, options),
        "release": listing_release(base_url, record["release_id"]),
        "resource_url": f"{base_url}/marketplace/listings/{record['id']}",
        "audio": False,
    }
    if detail:
        shipping = SHIPPING_PRICE
        body.update(
            seller=seller_detail(base_url, options),
            shipping_price=price(shipping, currency),
            original_shipping_price=original_price(shipping, currency),
        )
    if owner:
        body.update(
            weight=record.get("weight"),
            format_quantity=record.get("format_quantity"),
            external_id=record.get("external_id"),
            location=record.get("location"),
            quantity=record.get("quantity", 1),
            in_cart=False,
        )
    return body


def render_release(release_id: int, base_url: str, for_sale: int = 0) -> dict[str, Any]:
    """GET /releases/{id}: the fields a listing needs (artists, labels, formats, genres, styles, images)."""
    release = catalogue.release(release_id)
    album = release.album
    artist_id = 100_000 + catalogue.ALBUMS.index(album) * 7
    label_id = 5_000 + sum(ord(c) for c in album.label)
    return {
        "id": release_id,
        "status": "Accepted",
        "year": release.year,
        "resource_url": f"{base_url}/releases/{release_id}",
        "uri": f"{base_url}/release/{release_id}",
        "artists": [
            {
                "name": album.artist,
                "anv": "",
                "join": "",
                "role": "",
                "tracks": "",
                "id": artist_id,
                "resource_url": f"{base_url}/artists/{artist_id}",
            }
        ],
        "artists_sort": album.artist,
        "labels": [
            {
                "name": album.label,
                "catno": release.catalog_number,
                "entity_type": "1",
                "entity_type_name": "Label",
                "id": label_id,
                "resource_url": f"{base_url}/labels/{label_id}",
            }
        ],
        "formats": [
            {
                "name": release.format_name,
                "qty": str(release.format_qty),
                "descriptions": list(release.format_descriptions),
            }
        ],
        "community": {
            "have": release.have,
            "want": release.want,
            "rating": {"count": max(1, release.have // 40), "average": 4.2},
            "data_quality": "Correct",
            "status": "Accepted",
        },
        "format_quantity": release.format_qty,
        "title": album.title,
        "country": release.country,
        "released": str(release.year),
        "genres": list(album.genres),
        "styles": list(album.styles),
        "images": release_images(base_url, release_id),
        "thumb": image_url(base_url, release_id, 150),
        "num_for_sale": for_sale,
        "lowest_price": None,
        "data_quality": "Correct",
    }


def _buyer(base_url: str, index: int) -> dict[str, Any]:
    username = f"buyer_{index + 1:02d}"
    return {
        "resource_url": f"{base_url}/users/{username}",
        "username": username,
        "id": FIRST_BUYER_ID + index,
    }


def _address(index: int) -> str:
    buyer = demo.BUYERS[index % len(demo.BUYERS)]
    city = f"{buyer.locality}, {buyer.region}, {buyer.postal_code}"
    return f"{buyer.name}\n{buyer.street_address}\n{city}\n{buyer.country_name}\n\nPhone: {buyer.phone}"


def render_order(order: Record, base_url: str, options: DiscogsOptions) -> dict[str, Any]:
    currency = order["currency"]
    order_url = f"{base_url}/marketplace/orders/{order['id']}"
    items = []
    for item in order["items"]:
        release = catalogue.release(item["release_id"])
        items.append(
            {
                "release": {
                    "id": item["release_id"],
                    "description": release.description,
                    "resource_url": f"{base_url}/releases/{item['release_id']}",
                    "thumbnail": image_url(base_url, item["release_id"], 150),
                },
                "price": price(item["price"], currency),
                "media_condition": item["media_condition"],
                "sleeve_condition": item["sleeve_condition"],
                "id": item["id"],
            }
        )
    return {
        "id": order["id"],
        "resource_url": order_url,
        "messages_url": f"{order_url}/messages",
        "uri": f"{base_url}/sell/order/{order['id']}",
        "status": order["status"],
        "next_status": list(_next_status(order["status"])),
        "fee": price(order["fee"], currency),
        "created": discogs_time(order["created"]),
        "items": items,
        "shipping": {
            "currency": currency,
            "method": order["shipping_method"],
            "value": _amount(order["shipping"]),
        },
        "shipping_address": _address(order["buyer_index"]),
        "additional_instructions": order.get("additional_instructions") or "",
        "archived": order["archived"],
        "seller": seller(base_url, options),
        "last_activity": discogs_time(order["last_activity"]),
        "buyer": _buyer(base_url, order["buyer_index"]),
        "total": price(order["total"], currency),
    }


def _next_status(status: str) -> tuple[str, ...]:
    if status.startswith("Cancelled") or status in ("Refund Sent", "Merged"):
        return ()
    return SELLER_NEXT_STATUSES


def render_message(entry: Record, order: Record, base_url: str, options: DiscogsOptions) -> dict[str, Any]:
    release = catalogue.release(order["items"][0]["release_id"])
    return {
        "from": {
            "username": options.seller_username,
            "resource_url": f"{base_url}/users/{options.seller_username}",
        },
        "message": entry["message"],
        "order": {"resource_url": f"{base_url}/marketplace/orders/{order['id']}", "id": order["id"]},
        "timestamp": discogs_time(entry["timestamp"]),
        "subject": f"Discogs Order #{order['id']}, {release.album.title}",
    }
