"""Vintage & Rare constants. Facts and their sources: docs/channels/vintage_and_rare.md.

V&R has no public API: RIFF uses the website the way a person does (log in, export the inventory as CSV,
fill the add/edit form, call the site's own AJAX endpoints), behind Cloudflare bot protection
(shared/reference/000_*.txt; original_riff.md 3.4).
"""

from __future__ import annotations

import datetime as dt

import httpx

from riff.channels.errors import DEFAULT_ERROR_MAPPING, RETRY, ErrorKey, ErrorResolution

SLUG = "vintage_and_rare"
DISPLAY_NAME = "Vintage & Rare"
DEFAULT_BASE_URL = "https://www.vintageandrare.com"

# Pages and endpoints (paths under the base URL).
LOGIN_PATH = "/do_login"
LOGIN_PAGE_PATH = "/login"
ACCOUNT_PATH = "/account"
ADD_FORM_PATH = "/instruments/add_edit_item"
EDIT_FORM_PATH = "/instruments/add_edit_item/{id}"
EXPORT_PAGE_PATH = "/instruments/export_inventory"
EXPORT_CSV_PATH = "/instruments/export_inventory/export_inventory"
PRODUCT_PATH = "/product/{id}"
CHECK_BRAND_PATH = "/ajax/check_brand_exists"
SUGGEST_BRANDS_PATH = "/ajax/get_suggested_brands_name"
MARK_SOLD_PATH = "/ajax/mark_as_sold/{nonce}"
RESTORE_PATH = "/ajax/restore_from_sold/{nonce}"
DELETE_PATH = "/ajax/delete_item"
DROPZONE_PATH = "/ajax/dropzone_upload/{user_id}"
TRACE_PATH = "/cdn-cgi/trace"  # served by Cloudflare itself, never challenged: where the browser lands first

SESSION_COOKIE = "PHPSESSID"
CLEARANCE_COOKIE = "cf_clearance"

# A current desktop Chrome; cf_clearance is bound to the User-Agent that solved the challenge, so the HTTP
# session and the browser must present the same one (VR_USER_AGENT overrides it).
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
CURL_IMPERSONATE = "chrome"
ACCEPT_LANGUAGE = "en-GB,en;q=0.9"
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
AJAX_ACCEPT = "application/json, text/javascript, */*; q=0.01"

# Timeouts (seconds). The export is ~3 MB and takes 30-60 s on the real site.
PAGE_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
EXPORT_TIMEOUT_SECONDS = 180.0
IMAGE_DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_IMAGE_BYTES = 25 * 1024 * 1024
BROWSER_CHALLENGE_WAIT_SECONDS = 15.0
BROWSER_PAGE_TIMEOUT_SECONDS = 60.0

MAX_IMAGES = 20
MAX_REDIRECTS = 5
DEFAULT_BRAND = "Justin"  # what the shop lists an unaccepted brand under, then edits (original_riff.md 3.4)
DEFAULT_CATEGORY_PATH = ("51",)  # Guitars
DEFAULT_PROCESSING_DAYS = 3
SHIPPING_REGIONS = ("UK", "Europe", "USA", "REST OF WORLD")
DEFAULT_SHIPPING_FEES = {"UK": "75", "Europe": "50", "USA": "100", "REST OF WORLD": "150"}

# Nightly maintenance (original_riff.md 1.4 and 5: "VR nightly downtime ~03:00 UTC"; the original scheduler
# skips 03:00-05:00). A job that meets it is rescheduled after the window, not failed.
MAINTENANCE_WINDOW_UTC = (dt.time(3, 0), dt.time(5, 0))
UNPLANNED_MAINTENANCE_RETRY_SECONDS = 15 * 60.0

# Brand validation (shared/reference/000_*.txt).
BRAND_CACHE_TTL_SECONDS = 300.0
BRAND_CACHE_MAX = 200
BRAND_TIMEOUT_SECONDS = 3.0

# Batched ID resolution (shared/reference/001_*.txt).
MAX_BATCH_SIZE = 10
MAX_RESOLUTION_ATTEMPTS = 3
RESOLUTION_RETRY_SECONDS = 60.0
STALE_PENDING = dt.timedelta(hours=1)
MODEL_MATCH_THRESHOLD = 85.0  # rapidfuzz token_set_ratio, 0-100

# Creates in a row: the next create's add form is loaded while the site processes the current post
# (adapter.NEXT_FORMS). It is used once, by a create in the same PHP session, while younger than this; the load
# starts this long after the post went out; a create waits this long at most for it before moving on.
NEXT_FORM_MAX_AGE_SECONDS = 300.0
NEXT_FORM_DELAY_SECONDS = 0.01
NEXT_FORM_WAIT_SECONDS = 5.0

# Days before cf_clearance expires from which cookies-status warns.
COOKIE_WARN_DAYS = 14

# The site answers 403 for Cloudflare challenges (handled before this table) and for AJAX calls without
# the site's headers (our bug, not the user's credentials); 503 is also the maintenance page (handled first).
ERROR_MAPPING: dict[ErrorKey, ErrorResolution] = dict(DEFAULT_ERROR_MAPPING) | {
    520: RETRY,
    522: RETRY,
    524: RETRY,
}
