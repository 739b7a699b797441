"""eBay Trading API constants. Facts and their sources: docs/channels/ebay.md."""

from __future__ import annotations

import httpx

SLUG = "ebay"
DISPLAY_NAME = "eBay"

# https://api.ebay.com/ws/api.dll (Trading) and https://api.ebay.com/identity/v1/oauth2/token (OAuth) share a
# host; the sandbox serves both paths under http://127.0.0.1:PORT. eBay's own test environment is
# https://api.sandbox.ebay.com.
DEFAULT_BASE_URL = "https://api.ebay.com"
EBAY_SANDBOX_BASE_URL = "https://api.sandbox.ebay.com"
EBAY_SANDBOX_ITEM_URL = "https://sandbox.ebay.com/itm/{item_id}"
TRADING_PATH = "/ws/api.dll"
TOKEN_PATH = "/identity/v1/oauth2/token"

NAMESPACE = "urn:ebay:apis:eBLBaseComponents"
# The schema version RIFF's requests and parsers follow (api_samples: Version 1415).
COMPATIBILITY_LEVEL = "1415"
SITE_ID_UK = 3
CONTENT_TYPE = "text/xml"

# OAuth scope for the Trading API with a user token (eBay's "sell.inventory" family; the original RIFF used
# https://api.ebay.com/oauth/api_scope/sell.inventory).
DEFAULT_SCOPES = (
    "https://api.ebay.com/oauth/api_scope",
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
)
# Refresh the access token when less than this is left (user access tokens live 7,200 s).
TOKEN_REFRESH_MARGIN_SECONDS = 300.0

TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # AddFixedPriceItem can take a while (the original RIFF: 60 s)
TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

# Limits from the call references (docs/channels/ebay.md).
MAX_TITLE_CHARS = 80
MAX_PICTURES = 24
MAX_ITEM_SPECIFIC_VALUE_CHARS = 65
INVENTORY_STATUS_PER_CALL = 4  # ReviseInventoryStatus: 1-4 InventoryStatus containers
SELLING_PAGE_SIZE = 200  # GetMyeBaySelling: EntriesPerPage <= 200
ORDERS_PAGE_SIZE = 100  # GetOrders: EntriesPerPage <= 100
ORDERS_MAX_AGE_DAYS = 90  # GetOrders returns orders of the last 90 days only
SOLD_UNSOLD_DURATION_DAYS = 60  # GetMyeBaySelling SoldList/UnsoldList DurationInDays <= 60
MAX_PAGES = 1000  # a safety stop for a paginator that never reaches the end

# Trading API default quota per application and day (raised through eBay's Application Growth Check).
DEFAULT_DAILY_CALL_LIMIT = 5000
# A daily quota (error 518) is retried at the next UTC midnight or within the hour, whichever is sooner:
# eBay does not say in the error when the quota resets.
CALL_LIMIT_RETRY_MAX_SECONDS = 3600.0

LISTING_DURATION = "GTC"
LISTING_TYPE = "FixedPriceItem"
INVENTORY_TRACKING = "SKU"  # lets GetItem and ReviseInventoryStatus find a listing by SKU

# EndFixedPriceItem EndingReason (EndReasonCodeType).
END_REASON_NOT_AVAILABLE = "NotAvailable"
END_REASONS = ("Incorrect", "LostOrBroken", "NotAvailable", "OtherListingError", "SellToHighBidder", "Sold")

# RIFF fields ReviseInventoryStatus can carry; anything else needs ReviseFixedPriceItem.
INVENTORY_FIELDS = frozenset({"price", "quantity", "is_stocked_item"})

# Platform Notification events RIFF subscribes to (SetNotificationPreferences).
# Order events carry the transaction (and its order); listing events only the item.
ORDER_EVENTS = ("FixedPriceTransaction", "AuctionCheckoutComplete")
LISTING_EVENTS = ("ItemSold", "ItemRevised", "ItemClosed", "ItemListed")
SOAP_ENVELOPE_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ACTION_PREFIX = "http://developer.ebay.com/notification/"
# Where an item is shown, by site id (AddFixedPriceItem does not return the URL).
ITEM_URLS = {
    0: "https://www.ebay.com/itm/{item_id}",
    3: "https://www.ebay.co.uk/itm/{item_id}",
    77: "https://www.ebay.de/itm/{item_id}",
}
# eBay says to reject notifications whose timestamp is far from now (KB 1201 style replay guard).
NOTIFICATION_MAX_AGE_SECONDS = 600.0

# OrderStatus (+ shipped time) -> normalized status (riff.channels.contract.OrderStatus)
ORDER_STATUSES = {
    "Active": "unpaid",
    "Inactive": "unpaid",
    "InProcess": "unpaid",
    "Completed": "paid",
    "Shipped": "shipped",
    "Cancelled": "cancelled",
    "CancelPending": "paid",
    "Invalid": "cancelled",
}

# Keys RIFF keeps in the account config (visible, not secret) and secrets.
CONFIG_TOKEN_EXPIRES_AT = "access_token_expires_at"
CONFIG_CALL_USAGE = "call_usage"
CONFIG_ACCESS_RULES = "api_access_rules"
SECRET_ACCESS_TOKEN = "access_token"
