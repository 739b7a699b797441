"""MyDHL API constants. Sources: the official OpenAPI spec MyDHL API 3.1.1
(shared/reference/platform_apis.md section 7; samples in shared/reference/api_samples/dhl/)."""

from __future__ import annotations

import httpx

from riff.channels.errors import DEFAULT_ERROR_MAPPING, REJECT

CARRIER = "dhl_express"
DISPLAY_NAME = "DHL Express"
RATE_LIMIT_BUCKET = "dhl"  # riff.jobs.consts.DEFAULT_RATE_LIMITS["dhl"]

PRODUCTION_BASE_URL = "https://express.api.dhl.com/mydhlapi"
TEST_BASE_URL = "https://express.api.dhl.com/mydhlapi/test"
API_VERSION = "3.1.0"  # the required ``x-version`` header's default in the OAS

TIMEOUT = httpx.Timeout(45.0, connect=10.0)  # label creation renders PDFs: slower than a listing call

# The problem body's status is a string ("400"); 422 is schema validation. Anything 4xx is the data.
ERROR_MAPPING = dict(DEFAULT_ERROR_MAPPING) | {404: REJECT, 405: REJECT}

PUBLIC_TRACKING_URL = "https://www.dhl.com/en/express/tracking.html?AWB={number}"

# Product codes (MyDHL "productCode"): N domestic express, P worldwide non-documents, U worldwide within
# the EU, D worldwide documents (original RIFF notes, shared/reference/original_riff.md 3.5).
DOMESTIC_PRODUCT = "N"
WORLDWIDE_PRODUCT = "P"
EU_PRODUCT = "U"
PRODUCT_NAMES = {
    "N": "Domestic Express",
    "T": "Domestic Express 12:00",
    "P": "Express Worldwide",
    "U": "Express Worldwide (EU)",
    "D": "Express Worldwide documents",
    "K": "Express 9:00",
    "Y": "Express 12:00",
}

# Tracking event type codes. "OK" delivered and "PU" picked up are in the OAS example; the others are the
# codes the same example uses for the journey (AF/PL/DF/AR/WC/RR/CR). Exception codes: DHL's published
# checkpoint list (unverified against the OAS, which does not enumerate them).
DELIVERED_CODES = frozenset({"OK"})
OUT_FOR_DELIVERY_CODES = frozenset({"WC"})
EXCEPTION_CODES = frozenset({"BA", "CA", "CM", "HP", "MS", "NH", "OH", "RD", "RT", "SS", "TD", "UD"})

# Label options sent with every shipment (original RIFF: 300 dpi PDF, ECOM26_84_001 label).
LABEL_TEMPLATE = "ECOM26_84_001"
INVOICE_TEMPLATE = "COMMERCIAL_INVOICE_P_10"
PRINTER_DPI = 300
