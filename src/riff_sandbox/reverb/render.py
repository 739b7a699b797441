"""Reverb JSON representations, built from the response templates in ``data/``.

Every value of the template is overwritten; keys, nesting and types stay as in the real payloads.
``base_url`` is the sandbox's own origin (taken from the request), used where Reverb has
``https://api.reverb.com`` (API links, under ``/api``) or ``https://reverb.com`` (web links).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

from riff_sandbox.reverb import tables
from riff_sandbox.reverb.consts import (
    API_BASE_PATH,
    CURRENCY_SYMBOLS,
    REVERB_TIMEZONE,
    SHOP_ID,
    SHOP_LOCATION,
    SHOP_NAME,
    SHOP_SLUG,
    STATE_DESCRIPTIONS,
)

Record = dict[str, Any]

IMAGE_HOST = "https://rvb-img.reverb.com/image/upload"
# Fixed placeholder tokens where the real links carry per-user secrets.
LINK_TOKEN = "sandbox"
RECIPIENT_UUID = "00000000-0000-0000-0000-000000000000"


# Values ------------------------------------------------------------------------------------------


def reverb_time(value: str | None) -> str | None:
    """Stored UTC ISO timestamp -> Reverb's rendering, e.g. ``2025-08-28T05:17:45-05:00``."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(REVERB_TIMEZONE).replace(microsecond=0).isoformat()


def reverb_date(value: str) -> str:
    return datetime.fromisoformat(value).astimezone(REVERB_TIMEZONE).date().isoformat()


def cents_to_amount(cents: int) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def amount_to_cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), ROUND_HALF_UP))


def display(cents: int, currency: str) -> str:
    """``£9,699`` for whole amounts, ``£6,702.70`` otherwise (as in the real payloads)."""
    symbol = CURRENCY_SYMBOLS.get(currency, "")
    whole, fraction = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    text = f"{whole:,}" if fraction == 0 else f"{whole:,}.{fraction:02d}"
    return f"{sign}{symbol}{text}"


def money(cents: int, currency: str, *, free_when_zero: bool = False) -> dict[str, Any]:
    return {
        "amount": cents_to_amount(cents),
        "amount_cents": cents,
        "currency": currency,
        "symbol": CURRENCY_SYMBOLS.get(currency, ""),
        "display": "FREE" if free_when_zero and cents == 0 else display(cents, currency),
    }


def price_money(cents: int, currency: str) -> dict[str, Any]:
    return {"tax_included": False, **money(cents, currency)}


def slugify(text: str) -> str:
    text = text.lower().replace("'", "").replace("\u2019", "")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def listing_slug(record: Record) -> str:
    return f"{record['id']}-{slugify(record['title'])}"


def api_root(base_url: str) -> str:
    return base_url + API_BASE_PATH


# Photos ------------------------------------------------------------------------------------------


def photo_urls(photo: Record) -> dict[str, str]:
    tail = f"v{photo['version']}/{photo['public_id']}.jpg"
    return {
        "large": f"{IMAGE_HOST}/s--{photo['sig_large']}--/f_auto,t_large/{tail}",
        "small": f"{IMAGE_HOST}/s--{photo['sig_small']}--/t_card-square/{tail}",
        "preview": f"{IMAGE_HOST}/s--{photo['sig_preview']}--/{tail}",
    }


def photo_links(photo: Record) -> dict[str, Any]:
    urls = photo_urls(photo)
    return {
        "_links": {
            "large_crop": {"href": urls["large"]},
            "small_crop": {"href": urls["small"]},
            "full": {"href": urls["large"]},
            "thumbnail": {"href": urls["small"]},
        }
    }


def cloudinary_photo(photo: Record) -> dict[str, Any]:
    return {
        "id": photo["id"],
        "public_id": photo["public_id"],
        "version": photo["version"],
        "width": 800,
        "height": 800,
        "format": "jpg",
        "resource_type": "image",
        "transformation": None,
        "path": f"v{photo['version']}/{photo['public_id']}.jpg",
        "preview_url": photo_urls(photo)["preview"],
    }


# Listings ----------------------------------------------------------------------------------------


def shipping_rates(record: Record) -> tuple[bool, list[dict[str, Any]]]:
    """(local pickup offered, [{region_code, amount_cents, currency}]) from the profile or explicit rates."""
    profile_id = record.get("shipping_profile_id")
    profile = tables.shipping_profile(profile_id) if profile_id else None
    if profile is not None:
        rates = [
            {
                "region_code": rate["region_code"],
                "amount_cents": amount_to_cents(Decimal(rate["amount"])),
                "currency": record["currency"],
            }
            for rate in profile["rates"]
        ]
        return bool(profile["local"]), rates
    shipping = record.get("shipping") or {}
    return bool(shipping.get("local", False)), list(shipping.get("rates", []))


def _rate_entry(rate: dict[str, Any]) -> dict[str, Any]:
    return {
        "region_code": rate["region_code"],
        "rate": money(rate["amount_cents"], rate["currency"]),
        "carrier_calculated": False,
        "regional": False,
        "destination_postal_code_needed": False,
    }


def render_shipping(record: Record) -> dict[str, Any]:
    local, rates = shipping_rates(record)
    shipping: dict[str, Any] = {
        "free_expedited_shipping": False,
        "local": local,
        "rates": [_rate_entry(rate) for rate in rates],
    }
    if rates:
        # The buyer's region is the shop's own (no X-Shipping-Region handling in the sandbox).
        home = next((r for r in rates if r["region_code"] == SHOP_LOCATION["country_code"]), rates[0])
        rate = money(home["amount_cents"], home["currency"])
        flags = {"carrier_calculated": False, "regional": False, "destination_postal_code_needed": False}
        shipping["user_region_rate"] = {
            "region_code": home["region_code"],
            "rate": rate,
            "incremental_rate": dict(rate),
            **flags,
        }
        shipping["initial_offer_rate"] = {
            "region_code": home["region_code"],
            "rate": {"original": dict(rate), "display": dict(rate)},
            **flags,
        }
    return shipping


def listing_links(record: Record, base_url: str) -> dict[str, Any]:
    api = api_root(base_url)
    slug = listing_slug(record)
    listing_id = record["id"]
    make_slug = slugify(record.get("make") or "")
    links: dict[str, Any] = {}
    if record["photos"]:
        links["photo"] = {"href": photo_urls(record["photos"][0])["large"]}
    links.update(
        {
            "self": {"href": f"{api}/listings/{slug}"},
            "update": {"href": f"{api}/listings/{slug}", "method": "PUT"},
            "bump": {"href": f"{api}/listings/{listing_id}/bump"},
            "end": {"href": f"{api}/my/listings/{listing_id}/state/end", "method": "PUT"},
            "edit": {"href": f"{api}/listings/{slug}/edit"},
            "web": {"href": f"{base_url}/item/{slug}"},
            "make_offer": {"href": f"{api}/listings/{slug}/offer", "method": "POST"},
            "cart": {"href": f"{api}/cart/{listing_id}"},
            "watchlist": {"href": f"{api}/wants/{slug}"},
            "buy": {
                "href": f"{base_url}/cart/add?"
                + "cart_item%5Baction_source_attributes%5D%5Bdevice%5D=web"
                + f"&cart_item%5Bproduct_id%5D={listing_id}&token={LINK_TOKEN}"
            },
            "flag": {"href": f"{api}/listings/{slug}/flag"},
            "contact_seller": {
                "web": {
                    "href": f"{base_url}/my/messages/new?item={slug}"
                    f"&recipient_uuid={RECIPIENT_UUID}&token={LINK_TOKEN}"
                }
            },
            "conversations": {"href": f"{api}/listings/{listing_id}/conversations"},
            "shop": {"href": f"{api}/shops/{SHOP_SLUG}", "web": {"href": f"{base_url}/shop/{SHOP_SLUG}"}},
        }
    )
    if record.get("comparison_shopping_page_id"):
        links["comparison_shopping"] = {
            "href": f"{api}/comparison_shopping_pages/{record['comparison_shopping_page_id']}"
        }
    links["sales"] = {"href": f"{api}/listings/{listing_id}/sales"}
    links["brand"] = {"href": f"{api}/listings?brand_slug={quote(make_slug)}"}
    return links


def render_listing(record: Record, base_url: str, *, include_sku: bool = False) -> dict[str, Any]:
    """The listing as ``GET /api/listings/{id}`` returns it; ``include_sku`` for ``/api/my/listings``."""
    body = tables.template("listing")
    condition = tables.condition_by_uuid(record["condition_uuid"]) if record.get("condition_uuid") else None
    categories = [tables.category_by_uuid(uuid) for uuid in record["category_uuids"]]
    price = price_money(record["price_cents"], record["currency"]) if record.get("price_cents") else None
    state = record["state"]
    body.update(
        {
            "id": record["id"],
            "make": record.get("make"),
            "model": record.get("model"),
            "finish": record.get("finish"),
            "year": record.get("year"),
            "title": record["title"],
            "created_at": reverb_time(record["created_at"]),
            "shop_name": SHOP_NAME,
            "shop": {"feedback_count": 212, "preferred_seller": True, "rating_percentage": 1.0},
            "description": record.get("description") or "",
            "condition": (
                {
                    "uuid": condition["uuid"],
                    "display_name": condition["display_name"],
                    "slug": condition["slug"],
                }
                if condition
                else None
            ),
            "price": price,
            "buyer_price": dict(price) if price else None,
            "inventory": record["inventory"],
            "has_inventory": record["has_inventory"],
            "offers_enabled": record["offers_enabled"],
            "categories": [{"uuid": c["uuid"], "full_name": c["full_name"]} for c in categories if c],
            "listing_currency": record["currency"],
            "published_at": reverb_time(record.get("published_at")),
            "state": {"slug": state, "description": STATE_DESCRIPTIONS[state]},
            "auction": False,
            "shop_id": SHOP_ID,
            "shipping": render_shipping(record),
            "in_watchlist": False,
            "us_outlet": False,
            "_links": listing_links(record, base_url),
            "accepted_payment_methods": ["direct_checkout", "paypal"],
            "location": dict(SHOP_LOCATION),
            "handmade": record["handmade"],
            "draft": state == "draft",
            "live": state == "live",
            "local_pickup_only": False,
            "cloudinary_photos": [cloudinary_photo(p) for p in record["photos"]],
            "photos": [photo_links(p) for p in record["photos"]],
            "stats": dict(record["stats"]),
            "offer_count": 0,
            "shipping_policy": "Fully insured, tracked shipping. Please ask for a quote to other regions.",
            "sold_as_is": False,
            "upc_does_not_apply": record["upc_does_not_apply"],
            "origin_country_code": record.get("origin_country_code"),
            "same_day_shipping_ineligible": False,
            "return_policy": {"description": "This product can be returned within 14 days of receipt."},
            "has_offer_for_buyer": False,
            "is_my_listing": True,
            "videos": [dict(v) for v in record.get("videos", [])],
            "comparison_shopping_page_id": record.get("comparison_shopping_page_id"),
        }
    )
    profile = (
        tables.shipping_profile(record["shipping_profile_id"]) if record.get("shipping_profile_id") else None
    )
    if profile is not None:
        body["shipping_profile"] = {"name": profile["name"], "id": profile["id"]}
    else:
        body.pop("shipping_profile", None)
    if record.get("comparison_shopping_page_id") is None:
        body.pop("comparison_shopping_page_id", None)
    if include_sku:
        body["sku"] = record.get("sku")
    return body


# Orders ------------------------------------------------------------------------------------------


def order_links(record: Record, base_url: str) -> dict[str, Any]:
    api = api_root(base_url)
    number = record["order_number"]
    product_id = record["product_id"]
    item = f"{product_id}-{record['listing_slug']}"
    links: dict[str, Any] = {}
    if record.get("photo"):
        links["photo"] = {"href": photo_urls(record["photo"])["small"]}
    links.update(
        {
            "feedback_for_buyer": {"href": f"{api}/orders/{number}/feedback/buyer"},
            "feedback_for_seller": {"href": f"{api}/orders/{number}/feedback/seller"},
            "listing": {"href": f"{api}/listings/{product_id}"},
            "conversation": {"href": f"{api}/my/conversations/{record['conversation_id']}"},
            "start_conversation": {
                "href": f"{api}/my/conversations?listing_id={product_id}&recipient_id={record['buyer']['id']}"
            },
            "web": {"href": f"{base_url}/my/selling/orders/{number}"},
            "web_listing": {"href": f"{base_url}/item/{item}"},
            "self": {"href": f"{api}/my/orders/selling/{number}"},
            "mark_picked_up": {"href": f"{api}/my/orders/selling/{number}/mark_picked_up"},
            "ship": {"href": f"{api}/my/orders/selling/{number}/ship"},
            "payments": {"href": f"{api}/my/payments/selling?order_id={number}"},
            "contact_buyer": {
                "web": {
                    "href": f"{base_url}/my/messages/new?item={item}"
                    f"&recipient_uuid={RECIPIENT_UUID}&token={LINK_TOKEN}"
                }
            },
        }
    )
    if record.get("shipping_code"):
        provider = tables.shipping_provider(record["shipping_provider"])
        url_template = provider["tracking_url"] if provider else None
        if url_template:
            links["web_tracking"] = {"href": url_template.format(code=quote(record["shipping_code"]))}
    return links


def _presentment(cents: int, record: Record) -> dict[str, Any]:
    rate = Decimal(record["presentment_rate"])
    return money(amount_to_cents(Decimal(cents) * rate / 100), record["presentment_currency"])


def render_order(record: Record, base_url: str) -> dict[str, Any]:
    body = tables.template("order")
    currency = record["currency"]
    product = record["amount_product_cents"]
    shipping = record["shipping_cents"]
    tax = record["tax_cents"]
    total = product + shipping + tax
    buyer = record["buyer"]
    address = record["address"]
    api = api_root(base_url)
    body.update(
        {
            "amount_product": money(product, currency),
            "presentment_amount_product": _presentment(product, record),
            "amount_product_subtotal": money(product, currency),
            "presentment_amount_product_subtotal": _presentment(product, record),
            "shipping": money(shipping, currency),
            "presentment_amount_shipping": _presentment(shipping, record),
            "amount_tax": money(tax, currency),
            "presentment_amount_tax": _presentment(tax, record),
            "total": money(total, currency),
            "presentment_amount_total": _presentment(total, record),
            "shipping_taxed": record["shipping_taxed"],
            "buyer_name": f"{buyer['first_name']} {buyer['last_name']}",
            "buyer_first_name": buyer["first_name"],
            "buyer_email": buyer["email"],
            "buyer_last_name": buyer["last_name"],
            "buyer_id": buyer["id"],
            "created_at": reverb_time(record["created_at"]),
            "order_number": record["order_number"],
            "tax_rate": record["tax_rate"],
            "order_source": "reverb",
            "needs_feedback_for_buyer": True,
            "needs_feedback_for_seller": True,
            "order_type": record["order_type"],
            "paid_at": reverb_time(record.get("paid_at")),
            "quantity": record["quantity"],
            "shipping_address": {
                "region": address["region"],
                "locality": address["locality"],
                "country_code": address["country_code"],
                "display_location": address["display_location"],
                "id": address["id"],
                "uuid": address["uuid"],
                "primary": False,
                "name": f"{buyer['first_name']} {buyer['last_name']}",
                "street_address": address["street_address"],
                "extended_address": None,
                "postal_code": address["postal_code"],
                "phone": address["phone"],
                "unformatted_phone": address["phone"],
                "complete_shipping_address": True,
                "_links": {"self": {"href": f"{api}/my/addresses/{address['id']}"}},
            },
            "shipping_method": "local" if record["local_pickup"] else "shipped",
            "shipment_status": record["shipment_status"],
            "local_pickup": record["local_pickup"],
            "shop_name": SHOP_NAME,
            "status": record["status"],
            "title": record["title"],
            "updated_at": reverb_time(record["updated_at"]),
            "payment_method": record["payment_method"],
            "order_bundle_id": record["order_bundle_id"],
            "product_id": record["product_id"],
            "uuid": record["uuid"],
            "photos": [photo_links(record["photo"])] if record.get("photo") else [],
            "sku": record.get("sku"),
            "direct_checkout_fee": money(0, currency, free_when_zero=True),
            "tax_on_fees": money(0, currency, free_when_zero=True),
            "tax_responsible_party": "reverb",
            "direct_checkout_payout": money(record["payout_cents"], currency),
            "order_notes": [],
            "_links": order_links(record, base_url),
        }
    )
    if record.get("shipping_code"):
        body["shipping_provider"] = record["shipping_provider"]
        body["shipping_code"] = record["shipping_code"]
        body["shipped_at"] = reverb_time(record["shipped_at"])
        body["shipping_date"] = reverb_date(record["shipped_at"])
    return body


def render_condition(condition: Record) -> dict[str, Any]:
    return {"uuid": condition["uuid"], "display_name": condition["display_name"], "slug": condition["slug"]}


def render_category(category: Record) -> dict[str, Any]:
    return {k: v for k, v in category.items() if k != "demo_kind"}
