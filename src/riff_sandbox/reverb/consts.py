"""Reverb facts the sandbox relies on. Sources for each: docs/channels/reverb.md ("Sandbox behaviour")."""

from __future__ import annotations

from datetime import timedelta, timezone

NAME = "reverb"
API_BASE_PATH = "/api"
DEFAULT_TOKEN = "sandbox-reverb-token"

API_VERSION = "3.0"
MEDIA_TYPE = "application/hal+json"

# Timestamps in real payloads carry -05:00 in both August and November captures.
REVERB_TIMEZONE = timezone(timedelta(hours=-5))

# Listing states seen on Reverb; /my/listings without state= returns live ones only.
LISTING_STATES = ("live", "draft", "sold", "ended", "suspended")
STATE_DESCRIPTIONS = {
    "live": "Live",
    "draft": "Draft",
    "sold": "Sold",
    "ended": "Ended",
    "suspended": "Suspended",
}
LISTING_STATE_FILTERS = ("all", *LISTING_STATES)
END_REASONS = ("not_sold", "reverb_sale")

ORDER_STATUSES = ("unpaid", "paid", "shipped", "received", "picked_up", "cancelled", "refunded")

WEBHOOK_TOPICS = ("listings/update", "listings/publish", "orders/create", "orders/update", "orders/paid")

# Unofficial limit (3p): 2,000 reads or 600 writes a minute. Off by default; see faults.
DOCUMENTED_READS_PER_MINUTE = 2_000
DOCUMENTED_WRITES_PER_MINUTE = 600

DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 100

CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "CAD": "$", "AUD": "$"}

SHOP_ID = 100_001
SHOP_NAME = "RIFF DEMO VINTAGE, LONDON"
SHOP_SLUG = "riff-demo-vintage"
SHOP_CURRENCY = "GBP"
SHOP_LOCATION = {
    "region": "ENG",
    "locality": "London",
    "country_code": "GB",
    "display_location": "London, United Kingdom",
}

FIRST_LISTING_ID = 91_980_001
FIRST_ORDER_NUMBER = 24_290_001
FIRST_ORDER_BUNDLE_ID = 22_350_001
FIRST_BUYER_ID = 5_000_001
FIRST_ADDRESS_ID = 1_000_001
FIRST_PHOTO_ID = 271_700_001
FIRST_CONVERSATION_ID = 25_950_001

# Demo economics (not Reverb's real fee schedule): fees withheld from the payout, buyer-side sales tax.
SELLER_FEE_RATE = "0.054"
US_SALES_TAX_RATE = "0.0925"
PRESENTMENT_RATES = {"USD": "1.3694", "EUR": "1.1650", "GBP": "1"}
