"""eBay facts the sandbox relies on. Sources for each: docs/channels/ebay.md ("Sandbox behaviour")."""

from __future__ import annotations

NAME = "ebay"
API_BASE_PATH = ""  # Trading at /ws/api.dll and OAuth at /identity/... share the host, as on api.ebay.com
TRADING_PATH = "/ws/api.dll"
TOKEN_PATH = "/identity/v1/oauth2/token"
NAMESPACE = "urn:ebay:apis:eBLBaseComponents"
SOAP_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ACTION_PREFIX = "http://developer.ebay.com/notification/"

# The sandbox's application keyset and its seller's tokens (fixed, so tests and the demo need no set-up).
APP_ID = "RIFFSandb-riff-SBX-0a1b2c3d4-5e6f7a8b"  # OAuth client_id
CERT_ID = "SBX-0a1b2c3d4e5f-6a7b-8c9d-0e1f-2a3b"  # OAuth client_secret
DEV_ID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
DEFAULT_TOKEN = "sandbox-ebay-user-token"  # never expires: like an Auth'n'Auth token, for curl and ebaysdk
DEFAULT_REFRESH_TOKEN = "sandbox-ebay-refresh-token"
SELLER_USER_ID = "riff_demo_vintage"
EIAS_TOKEN = "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ=="

# Version/Build as real responses carry them (api_samples/ebay/*.xml).
VERSION = "1415"
BUILDS = {
    "selling": "E1415_CORE_APISELLING_19187371_R1",
    "listing": "E1415_CORE_APILW2_19186553_R1",
    "orders": "E1415_CORE_APIXO_19220561_R1",
    "other": "E1415_CORE_API_19186553_R1",
}

SITE_ID_UK = 3
SITES = {
    0: ("US", "USD", "https://www.ebay.com"),
    3: ("UK", "GBP", "https://www.ebay.co.uk"),
    77: ("Germany", "EUR", "https://www.ebay.de"),
}
CURRENCY = "GBP"

ACCESS_TOKEN_TTL_SECONDS = 7200
DEFAULT_DAILY_LIMIT = 5000  # ApplicationAggregate: the Trading API default per app and day

FIRST_ITEM_ID = 257_100_000_001
FIRST_TRANSACTION_ID = 2_985_700_000_001
FIRST_ORDER_SEQ = 1
FIRST_SALES_RECORD = 1001

# Token kinds kept in the toolkit's token registry.
KIND_ACCESS = "access"
KIND_REFRESH = "refresh"
KIND_PERSONAL = "personal"

MAX_TITLE_CHARS = 80
MAX_PICTURES = 24
MAX_INVENTORY_STATUS = 4
MAX_SELLING_PAGE = 200
MAX_ORDERS_PAGE = 100
ORDERS_MAX_AGE_DAYS = 90

CONDITIONS = {
    "1000": "New",
    "1500": "New other (see details)",
    "1750": "New with defects",
    "2000": "Certified - Refurbished",
    "2500": "Seller refurbished",
    "3000": "Used",
    "7000": "For parts or not working",
}
# Leaf categories the sandbox accepts (musical instruments; see riff/channels/ebay/data/categories.json).
CATEGORIES = {
    "33034": "Electric Guitars",
    "33021": "Acoustic Guitars",
    "119544": "Classical Guitars",
    "181219": "Resonators",
    "181220": "Lap & Pedal Steel Guitars",
    "159948": "Travel Guitars",
    "4713": "Bass Guitars",
    "38072": "Guitar Amplifiers",
    "41407": "Effects Pedals",
    "38071": "Synthesisers",
    "38088": "Keyboards",
    "10179": "Mandolins",
    "16218": "Banjos",
    "16222": "Ukuleles",
}
END_REASONS = ("Incorrect", "LostOrBroken", "NotAvailable", "OtherListingError", "SellToHighBidder", "Sold")
CARRIERS = (
    "DHL", "UPS", "FedEx", "USPS", "RoyalMail", "Parcelforce", "DPD", "TNT", "CanadaPost", "AustraliaPost",
    "Hermes", "Yodel", "Other",
)  # fmt: skip

# Platform Notification events the sandbox can send.
NOTIFICATION_EVENTS = (
    "FixedPriceTransaction",
    "AuctionCheckoutComplete",
    "ItemSold",
    "ItemRevised",
    "ItemClosed",
    "ItemListed",
)

# Business policies the demo seller has (api_samples/ebay/trading_GetMyeBaySelling_response.xml).
SHIPPING_PROFILES = {
    "252277357017": "Flat: UK_OtherCourier24 £25.00, 3 working days (252277357017)",
    "254638064017": "Flat: UK_OtherCourier24 £60.00, 3 working days (254638064017)",
}
RETURN_PROFILES = {"252277356017": "30 days (252277356017)"}
PAYMENT_PROFILES = {
    "252277358017": "eBay Managed Payments (252277358017)",
    "252544577017": "eBay Managed Payments (252544577017)",
}
SHIPPING_PROFILE_COSTS = {"252277357017": "25.0", "254638064017": "60.0"}
