"""Shopify Admin GraphQL facts the sandbox relies on. Sources: docs/channels/shopify.md ("Sandbox behaviour")
and shared/reference/platform_apis.md section 3."""

from __future__ import annotations

import re

NAME = "shopify"
# The client's base URL is the shop's origin (https://{shop}.myshopify.com); the API lives under /admin/api.
API_BASE_PATH = ""
ADMIN_API_PREFIX = "/admin/api"
# A custom app's Admin API access token looks like ``shpat_`` + 32 hex digits.
DEFAULT_TOKEN = "shpat_sandbox0123456789abcdef0123456789"
DEFAULT_CLIENT_SECRET = "sandbox-shopify-client-secret"
DEFAULT_SHOP_DOMAIN = "riff-demo.myshopify.com"
SHOP_NAME = "RIFF Demo Vintage"
SHOP_CURRENCY = "GBP"

# Quarterly versions YYYY-01/04/07/10 plus "unstable" (Shopify/shopify_python_api: api_version.py).
API_VERSION_PATTERN = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")
LATEST_VERSION = "2026-04"
# From this version inventorySetQuantities needs changeFromQuantity on every quantity and
# inventoryAdjustQuantities needs an @idempotent key (shopify.dev changelog, December 2025).
CONCURRENCY_PROTECTION_VERSION = "2026-04"

UNAUTHORIZED_MESSAGE = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED_DOCUMENTATION = "https://shopify.dev/api/usage/rate-limits"

# Cost and throttling (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits): the classic figures are a
# 1,000-point bucket leaking 50 points/s; today's Standard plan restores 100/s with a 2,000 bucket.
DEFAULT_BUCKET_SIZE = 1000.0
DEFAULT_RESTORE_RATE = 50.0
MAX_SINGLE_QUERY_COST = 1000
OBJECT_COST = 1
CONNECTION_COST = 2
MUTATION_COST = 10
MAX_PAGE_SIZE = 250

# Global ID prefixes and the first numeric ids handed out (sizes as in real payloads).
GID_PREFIX = "gid://shopify/"
FIRST_IDS = {
    "Product": 8_058_604_000_001,
    "ProductVariant": 44_161_438_000_001,
    "InventoryItem": 46_256_218_000_001,
    "Order": 5_896_545_000_001,
    "LineItem": 14_336_873_000_001,
    "FulfillmentOrder": 6_843_219_000_001,
    "FulfillmentOrderLineItem": 14_278_347_000_001,
    "Fulfillment": 5_271_049_000_001,
    "MediaImage": 30_118_223_000_001,
    "InventoryAdjustmentGroup": 24_000_000_000_001,
}
FIRST_ORDER_NUMBER = 1001
LOCATIONS = (
    {"id": 76_543_210, "name": "Shop floor, London", "isActive": True},
    {"id": 76_543_211, "name": "Workshop store room", "isActive": True},
)
PRIMARY_LOCATION_ID = 76_543_210

PRODUCT_STATUSES = ("ACTIVE", "DRAFT", "ARCHIVED")

WEBHOOK_TOPICS = (
    "orders/create",
    "orders/paid",
    "orders/updated",
    "orders/fulfilled",
    "orders/cancelled",
    "products/create",
    "products/update",
    "inventory_levels/update",
)

# inventorySetQuantities/inventoryAdjustQuantities (shopify.dev InventorySetQuantitiesInput, reasons list).
SET_QUANTITY_NAMES = ("available", "on_hand")
ADJUST_QUANTITY_NAMES = ("available", "damaged", "incoming", "quality_control", "reserved", "safety_stock")
INVENTORY_REASONS = (
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
)

TITLE_MAX_LENGTH = 255
