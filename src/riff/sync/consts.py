"""Sync engine constants: event kinds, outcomes, field owners, the fields pushed to channels."""

from __future__ import annotations

import enum


class EventKind(enum.StrEnum):
    """``sync_events.kind`` values written by the sync engine."""

    PUSH = "push"  # a local change queued for the channels
    SALE = "sale"  # an order took stock
    OVERSELL = "oversell"  # an order for stock that was already gone
    STOCK_RESTORED = "stock_restored"  # a cancelled/refunded order gave stock back
    RELIST_OFFERED = "relist_offered"  # stock came back for an item whose listings were ended
    ORDER_UNMATCHED = "order_unmatched"  # an order line RIFF could not tie to a product
    REMOTE_PRICE = "remote_price"
    REMOTE_QUANTITY = "remote_quantity"
    REMOTE_TITLE = "remote_title"
    REMOTE_SOLD = "remote_sold"  # a listing seen sold on the channel
    REMOTE_ENDED = "remote_ended"
    REMOTE_RELISTED = "remote_relisted"  # live on the channel while RIFF thought it ended
    MISSING_REMOTELY = "missing_remotely"
    UNMATCHED_FOUND = "unmatched_found"
    UNMATCHED_RESOLVED = "unmatched_resolved"
    PULL = "pull"  # one pull's summary
    RECONCILIATION = "reconciliation"
    RECONCILE_FIX = "reconcile_fix"
    REVERT = "revert"


class Outcome(enum.StrEnum):
    OK = "ok"
    ACCEPTED_REMOTE = "accepted_remote"  # the channel's value was taken into RIFF
    PUSHED_LOCAL = "pushed_local"  # RIFF's value was sent back to the channel
    NEEDS_ACTION = "needs_action"  # the user must do something (oversell follow-up, unmatched listing)
    REVERTED = "reverted"
    ERROR = "error"


class Owner(enum.StrEnum):
    """Who wins a conflicting field: RIFF always, the channel always, or the newer change."""

    RIFF = "riff"
    CHANNEL = "channel"
    NEWEST = "newest"


# Field -> owner unless configured otherwise (RIFF_SYNC_FIELD_OWNERS). RIFF owns prices and stock counts
# (orders drive stock); the channel owns "sold" and "ended"; a title is whatever was edited last.
DEFAULT_FIELD_OWNERS: dict[str, Owner] = {
    "price": Owner.RIFF,
    "quantity": Owner.RIFF,
    "title": Owner.NEWEST,
    "sold": Owner.CHANNEL,
    "ended": Owner.CHANNEL,
}

# Product fields (API names, as catalog.service reports them) a channel may show. What is sent to one
# channel is this set intersected with the channel's ``mapping.UPDATABLE_FIELDS``.
PUSHED_FIELDS = frozenset(
    {
        "title",
        "description",
        "brand",
        "model",
        "finish",
        "year",
        "decade",
        "condition",
        "category",
        "price",
        "quantity",
        "is_stocked_item",
        "attributes",
        "images",
    }
)
# A change of one of these means the channel price changed.
PRICE_FIELDS = frozenset({"price", "currency"})
# Used when a channel module has no ``mapping.UPDATABLE_FIELDS``.
FALLBACK_UPDATABLE_FIELDS = frozenset({"title", "description", "price", "quantity", "images"})

# Listing ``extras`` key: the title last seen on the channel (for "changed on the channel").
REMOTE_TITLE_KEY = "sync_remote_title"
# Listing ``extras`` key: the listing was ended because stock ran out (re-created when stock returns).
ENDED_FOR_STOCK = "sync_ended_for_stock"

PULL_CHUNK = 1000  # remote listings diffed per round trip
LATENCY_SAMPLE = 100  # sales in the status page's p50/p95
UNMATCHED_CANDIDATES = 3
MISSING_SAFETY_RATIO = 0.5  # a full pull that misses more than this share of live listings is not trusted
MISSING_SAFETY_MIN = 10
