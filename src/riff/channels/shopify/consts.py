"""Shopify Admin GraphQL API constants. Facts and their sources: docs/channels/shopify.md."""

from __future__ import annotations

import httpx

from riff.channels.errors import AUTH, DEFAULT_ERROR_MAPPING, ErrorKey, ErrorResolution

SLUG = "shopify"
DISPLAY_NAME = "Shopify"

# The API lives on the shop's own domain: https://{shop}.myshopify.com/admin/api/{version}/graphql.json.
# The account's base_url wins (a sandbox); else it is built from config.shop_domain.
DEFAULT_BASE_URL = "https://{shop_domain}"
GRAPHQL_PATH = "/admin/api/{version}/graphql.json"
# Pinned per account (config.api_version). 2026-04 brings compare-and-set inventory writes
# (changeFromQuantity) and mandatory idempotency keys on inventoryAdjustQuantities.
DEFAULT_API_VERSION = "2026-04"
API_VERSION_PATTERN = r"^(\d{4}-(01|04|07|10)|unstable)$"
ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
PRODUCTS_PAGE_SIZE = 50  # cost 2 + 50 x 5 = 252 points per page (see operations.py)
ORDERS_PAGE_SIZE = 10  # cost 2 + 10 x 32 = 322 points per page
ORDER_LINES_PAGE_SIZE = 5  # an order with more lines is re-read on its own with ORDER_LINES_MAX
ORDER_LINES_MAX = 50
MAX_PAGES = 1000  # a safety stop for a paginator that never reaches the end
MAX_IMAGES = 250  # media per product (shopify.dev: "up to 250 media per product")

# The shared rate limiter bucket in cost points (riff.jobs.consts.DEFAULT_RATE_LIMITS["shopify_graphql"]).
RATE_LIMIT_BUCKET = "shopify_graphql"

INVENTORY_NAME = "available"
INVENTORY_REASON = "correction"
# referenceDocumentUri is free text but must not be a Shopify gid; this names the RIFF listing.
REFERENCE_URI = "gid://riff/Listing/{listing}"

# Webhook topics RIFF subscribes to and acts on.
WEBHOOK_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/fulfilled",
    "orders/cancelled",
    "products/update",
    "inventory_levels/update",
)
HMAC_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
WEBHOOK_ID_HEADER = "x-shopify-webhook-id"
SHOP_DOMAIN_HEADER = "x-shopify-shop-domain"

# Tags RIFF writes and owns (recomputed on update); any other tag on the product is the shop's and kept.
MANAGED_TAG_PREFIXES = ("Brand: ", "Model: ", "Year: ", "Decade: ", "Finish: ", "Condition: ")

# How long after an end RIFF archives the product (the weekly job), unless the account says otherwise.
ARCHIVE_AFTER_DAYS = 14
# An order whose webhook is newer than what the API returns is re-read after this long (read lag).
ORDER_READ_LAG_RETRY_SECONDS = 5.0
# Ending must win over a racing quantity change: re-read and set to 0 at most this many times.
END_COMPARE_AND_SET_ATTEMPTS = 3

# GraphQL top-level error codes (extensions.code) -> what they mean for RIFF.
THROTTLED = "THROTTLED"
ACCESS_DENIED = "ACCESS_DENIED"
TRANSIENT_ERROR_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"})
AUTH_ERROR_CODES = frozenset({ACCESS_DENIED, "SHOP_INACTIVE", "UNAUTHORIZED"})

# The GraphQL endpoint answers 404 for an unknown shop domain or API version, 402 for a frozen shop (unpaid
# bill) and 423 for a locked shop: all need the user, like a bad token. Other statuses as the default table.
ERROR_MAPPING: dict[ErrorKey, ErrorResolution] = dict(DEFAULT_ERROR_MAPPING) | {
    402: AUTH,
    404: AUTH,
    423: AUTH,
}
