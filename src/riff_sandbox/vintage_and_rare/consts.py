"""Vintage & Rare sandbox constants. Facts and their sources: docs/channels/vintage_and_rare.md.

V&R has no API; RIFF drives the website (shared/reference/000_*.txt, original_riff.md 3.4), so the sandbox
serves HTML pages, a multipart form, a CSV export and a few AJAX endpoints on the site's own paths.
"""

from __future__ import annotations

NAME = "vintage_and_rare"
SITE_NAME = "Vintage & Rare"

# The demo seller (one account; V&R dealer accounts are single-user).
DEFAULT_USERNAME = "sandbox-dealer"
DEFAULT_PASSWORD = "sandbox-password"
SELLER_USER_ID = 48213
SHOP_SLUG = "london-vintage-guitars"

FIRST_ITEM_ID = 120_001
FIRST_MEDIA_ID = 900_001

SESSION_COOKIE = "PHPSESSID"
CLEARANCE_COOKIE = "cf_clearance"

# Cloudflare-style challenge (see cloudflare.py).
CHALLENGE_VERIFY_PATH = "/cdn-cgi/challenge-platform/h/g/verify"
CHALLENGE_TRACE_PATH = "/cdn-cgi/trace"
CHALLENGE_MASK = 0xFFF  # the proof of work: fnv1a(nonce:answer) & mask == 0 (~4,096 tries in JavaScript)

# The bulk-upload template's columns, in order; the real export ends every line with one more, unnamed,
# empty column (original_riff.md 3.4).
EXPORT_COLUMNS = (
    "brand name",
    "category name",
    "product id",
    "external id",
    "product model name",
    "product price",
    "product price notax",
    "product description",
    "product year",
    "product sold",
    "product finish",
    "product in collective",
    "product in inventory",
    "product in reseller",
    "collective discount",
    "free shipping",
    "buy now",
    "show vat",
    "decade",
    "product order",
    "local pickup",
    "available for shipment",
    "processing time",
    "offer discount",
    "image url",
    "video url",
    "external link",
)

MAX_IMAGES = 20
SHIPPING_REGIONS = ("UK", "Europe", "USA", "REST OF WORLD")
DEFAULT_SHIPPING_FEES = {"UK": "75", "Europe": "50", "USA": "100", "REST OF WORLD": "150"}
VAT_RATE_PERCENT = 20

BRAND_AJAX_PATHS = ("/ajax/check_brand_exists", "/ajax/get_suggested_brands_name")
MAX_BRAND_SUGGESTIONS = 10

# User-Agent fragments of clients that are not a desktop browser (see cloudflare.flag_reason).
FLAGGED_USER_AGENT_MARKERS = (
    "headlesschrome",
    "python",
    "httpx",
    "curl/",
    "wget",
    "go-http-client",
    "java/",
    "okhttp",
    "bot",
    "spider",
    "scrapy",
    "phantomjs",
)
BROWSER_USER_AGENT_MARKERS = ("chrome/", "firefox/", "safari/", "edg/")
