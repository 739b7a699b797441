"""Discogs facts the sandbox relies on. Sources: docs/channels/discogs.md ("Sandbox behaviour") and
/work/shared/reference/platform_apis.md section 4."""

from __future__ import annotations

NAME = "discogs"
# The API has no path prefix: https://api.discogs.com/users/{username}/inventory.
API_BASE_PATH = ""
PLATFORM_PREFIXES = ("/users", "/marketplace", "/releases", "/oauth")

DEFAULT_TOKEN = "sandbox-discogs-token"
DEFAULT_CONSUMER_KEY = "sandbox-discogs-key"
DEFAULT_CONSUMER_SECRET = "sandbox-discogs-secret"

SELLER_USERNAME = "riff_records"
SELLER_ID = 2_098_225
SHOP_CURRENCY = "USD"
SHIPS_FROM = "United States"

# https://www.discogs.com/developers/#page:home,header:home-rate-limiting: 60 requests per minute
# authenticated, 25 unauthenticated, per source IP, over a moving 60-second window.
RATE_LIMIT_AUTHENTICATED = 60
RATE_LIMIT_UNAUTHENTICATED = 25
RATE_LIMIT_WINDOW_SECONDS = 60.0
RATE_LIMIT_MESSAGE = "You are making requests too quickly."  # commonly observed; not documented

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100

MEDIA_CONDITIONS = (
    "Mint (M)",
    "Near Mint (NM or M-)",
    "Very Good Plus (VG+)",
    "Very Good (VG)",
    "Good Plus (G+)",
    "Good (G)",
    "Fair (F)",
    "Poor (P)",
)
SLEEVE_CONDITIONS = (*MEDIA_CONDITIONS, "Generic", "Not Graded", "No Cover")

LISTING_STATUSES = ("For Sale", "Draft", "Expired", "Sold", "Deleted", "Suspended", "Violation")
STATUS_FILTERS = ("All", *LISTING_STATUSES)
# Only these may be set through the API (create/edit); the others are the platform's to set.
SETTABLE_STATUSES = ("For Sale", "Draft")
EDITABLE_STATUSES = ("For Sale", "Draft", "Expired")
INVENTORY_SORTS = ("listed", "price", "item", "artist", "label", "catno", "audio", "status", "location")

ORDER_STATUSES = (
    "New Order",
    "Buyer Contacted",
    "Invoice Sent",
    "Payment Pending",
    "Payment Received",
    "In Progress",
    "Shipped",
    "Merged",
    "Order Changed",
    "Refund Sent",
    "Cancelled (Non-Paying Buyer)",
    "Cancelled (Item Unavailable)",
    "Cancelled (Per Buyer's Request)",
    "Cancelled (Refund Received)",
)
# What the seller may move an order to (the docs' example next_status for a new order).
SELLER_NEXT_STATUSES = (
    "New Order",
    "Buyer Contacted",
    "Invoice Sent",
    "Payment Pending",
    "Payment Received",
    "In Progress",
    "Shipped",
    "Refund Sent",
    "Cancelled (Non-Paying Buyer)",
    "Cancelled (Item Unavailable)",
    "Cancelled (Per Buyer's Request)",
)
ORDER_SORTS = ("id", "buyer", "created", "status", "last_activity")

# Discogs' marketplace fee (demo value, not the real schedule).
FEE_RATE = "0.09"

FIRST_LISTING_ID = 150_900_001
FIRST_RELEASE_ID = 1_900_001
FIRST_ORDER_NUMBER = 1
FIRST_BUYER_ID = 3_100_001
