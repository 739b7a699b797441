"""Catalog limits, the channel slugs prices are computed for, sortable fields and built-in attributes."""

from __future__ import annotations

from typing import Any

# Channels a price rule may exist for. Slugs match riff.channels.<slug> packages.
CHANNELS: tuple[str, ...] = ("reverb", "ebay", "vintage_and_rare", "shopify", "discogs")

DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200
DEFAULT_SORT = "-updated_at"

# API sort name -> Product attribute name. Only these may appear in ``sort=``.
SORT_FIELDS: dict[str, str] = {
    "sku": "sku",
    "title": "title",
    "brand": "brand",
    "model": "model",
    "year": "year",
    "price": "base_price",
    "quantity": "quantity",
    "status": "status",
    "created_at": "created_at",
    "updated_at": "updated_at",
}

# Free-text search: at most this many words, each at most this long.
MAX_SEARCH_TERMS = 8
MAX_SEARCH_TERM_LENGTH = 100

# Movements written by the CLI carry this actor.
CLI_ACTOR = "cli"

ATTRIBUTE_TYPES = ("str", "int", "bool", "choice")
MAX_ATTRIBUTE_STR_LENGTH = 500

COUNTRY_CODES = [
    "GB", "US", "CA", "JP", "DE", "FR", "IT", "ES", "SE", "NO", "DK", "MX", "ID", "CN", "KR", "TW",
    "AU", "NZ", "BR", "CZ", "RU", "VN", "PA", "OTHER",
]  # fmt: skip

# Attributes every product may carry, whatever its category (category schemas add to these).
COMMON_ATTRIBUTE_SCHEMA: list[dict[str, Any]] = [
    {"name": "serial_number", "type": "str", "required": False},
    {"name": "country_of_manufacture", "type": "choice", "choices": COUNTRY_CODES, "required": False},
    {"name": "artist_owned", "type": "bool", "required": False},
]
