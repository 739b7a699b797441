"""Reverb API constants. Facts and their sources: docs/channels/reverb.md."""

from __future__ import annotations

import httpx

from riff.channels.errors import DEFAULT_ERROR_MAPPING, REJECT, ErrorKey, ErrorResolution

SLUG = "reverb"
DISPLAY_NAME = "Reverb"

# https://reverb-api.com/docs/create-listings; the sandbox serves the same paths under http://127.0.0.1:PORT/api.
DEFAULT_BASE_URL = "https://api.reverb.com/api"
API_VERSION = "3.0"
MEDIA_TYPE = "application/hal+json"

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
PAGE_SIZE = 50  # what Reverb's own clients use; the maximum per_page is not documented
MAX_PAGES = 1000  # a safety stop for a paginator that never reaches the end
MAX_PHOTOS = 25

# Publishing and photo processing are asynchronous on Reverb: after create we re-read the listing.
PUBLISH_POLL_ATTEMPTS = 5
PUBLISH_POLL_INTERVAL_SECONDS = 1.5
# When the listing is still not live after polling, the job is retried after this long.
PUBLISH_RECHECK_SECONDS = 30.0

WEBHOOK_TOPICS = ("listings/update", "orders/create", "orders/update")

# End reasons Reverb accepts on PUT /my/listings/{id}/state/end.
END_REASON_NOT_SOLD = "not_sold"
END_REASON_REVERB_SALE = "reverb_sale"

# listing.state.slug -> normalized state (see riff.channels.contract.RemoteState)
LISTING_STATES = {
    "live": "live",
    "draft": "draft",
    "sold": "sold",
    "sold_out": "sold",
    "ended": "ended",
    "suspended": "suspended",
    "seller_unavailable": "suspended",
    "ordered": "sold",
}

# order.status -> normalized status
ORDER_STATUSES = {
    "unpaid": "unpaid",
    "pending_review": "unpaid",
    "payment_pending": "unpaid",
    "partially_paid": "unpaid",
    "paid": "paid",
    "shipped": "shipped",
    "picked_up": "delivered",
    "received": "delivered",
    "cancelled": "cancelled",
    "refunded": "refunded",
}

# Reverb answers 406 for constraint violations (e.g. deleting a once-published listing) and
# 412 for validation; both are the user's to fix (EDOS-Engineering/reverb-marketplace ReverbException).
ERROR_MAPPING: dict[ErrorKey, ErrorResolution] = dict(DEFAULT_ERROR_MAPPING) | {406: REJECT, 412: REJECT}
