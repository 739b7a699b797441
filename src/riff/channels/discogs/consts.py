"""Discogs API constants. Facts and their sources: docs/channels/discogs.md."""

from __future__ import annotations

import httpx

from riff.channels.errors import DEFAULT_ERROR_MAPPING, ErrorKey, ErrorResolution

SLUG = "discogs"
DISPLAY_NAME = "Discogs"

# https://www.discogs.com/developers/#page:home; the sandbox serves the same paths at http://127.0.0.1:PORT.
DEFAULT_BASE_URL = "https://api.discogs.com"
MEDIA_TYPE = "application/vnd.discogs.v2.discogs+json"

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
PAGE_SIZE = 100  # the documented maximum per_page
MAX_PAGES = 2000  # a safety stop for a paginator that never reaches the end
MAX_ATTEMPTS = 4  # a 429 is waited out by the pacer inside the next attempt

# Rate limit (https://www.discogs.com/developers/#page:home,header:home-rate-limiting): 60 requests per
# minute authenticated, over a moving 60-second window, reported in these headers on every response.
RATE_LIMIT_WINDOW_SECONDS = 60.0
HEADER_LIMIT = "X-Discogs-Ratelimit"
HEADER_USED = "X-Discogs-Ratelimit-Used"
HEADER_REMAINING = "X-Discogs-Ratelimit-Remaining"
# Requests are spaced a little beyond the window's edge: our clock and Discogs' differ.
PACING_MARGIN_FRACTION = 0.01

FOR_SALE = "For Sale"
DRAFT = "Draft"
INVENTORY_SORT = "listed"

# listing.status -> normalized state (riff.channels.contract.RemoteState)
LISTING_STATES = {
    "For Sale": "live",
    "Draft": "draft",
    "Expired": "ended",
    "Sold": "sold",
    "Deleted": "ended",
    "Suspended": "suspended",
    "Violation": "suspended",
}

# order.status -> normalized status
ORDER_STATUSES = {
    "New Order": "unpaid",
    "Buyer Contacted": "unpaid",
    "Invoice Sent": "unpaid",
    "Payment Pending": "unpaid",
    "Payment Received": "paid",
    "In Progress": "paid",
    "Shipped": "shipped",
    "Merged": "cancelled",
    "Order Changed": "unknown",
    "Refund Sent": "refunded",
    "Cancelled (Non-Paying Buyer)": "cancelled",
    "Cancelled (Item Unavailable)": "cancelled",
    "Cancelled (Per Buyer's Request)": "cancelled",
    "Cancelled (Refund Received)": "cancelled",
}
SHIPPED = "Shipped"

# Discogs answers every error as {"message": ...}: 401/403 (credentials, scope, missing User-Agent),
# 404, 422 (validation), 429, 5xx. The shared table already says what each means.
ERROR_MAPPING: dict[ErrorKey, ErrorResolution] = dict(DEFAULT_ERROR_MAPPING)
