"""MyDHL API facts the sandbox relies on. Sources: shared/reference/platform_apis.md section 7 (the
official OAS MyDHL API 3.1.1) and the verbatim OAS examples in shared/reference/api_samples/dhl/.
Values marked (unverified) are sandbox stand-ins; docs/fulfilment.md lists them."""

from __future__ import annotations

NAME = "dhl"
API_BASE_PATH = "/mydhlapi"
DEFAULT_API_KEY = "riff-sandbox-dhl-key"
DEFAULT_API_SECRET = "riff-sandbox-dhl-secret"
# The toolkit keeps one token string per credential: "key:secret", as HTTP Basic joins them.
DEFAULT_TOKEN = f"{DEFAULT_API_KEY}:{DEFAULT_API_SECRET}"
DEFAULT_ACCOUNT_NUMBER = "123456789"  # the OAS examples' shipper account

FIRST_TRACKING_NUMBER = 1_103_733_901  # the OAS example's shipmentTrackingNumber, counting up
FIRST_PIECE_NUMBER = 14_600_004_617_230_770  # "JD0" + 17 digits, as in the example

SHIP_TIMESTAMP_ERROR = (
    "998: ShipTimeStamp is not well formatted.(Expected Sample Format : '2010-02-11T17:10:09 GMT+01:00')"
)
PROCESS_FAILURE = "999: Process failure occurred. Process ID associated for that transaction ({process_id})"
PRODUCT_NOT_AVAILABLE = "1001: The requested product(s) ({code}) not available based on your search criteria."
# (unverified) the wording and code of these two are sandbox stand-ins in DHL's "NNN: text" style.
POSTCODE_MISSING = (
    "420505: The postal code is missing for the receiver's country {country}. Provide a postal code."
)
ACCOUNT_INVALID = "8003: The shipper account number {number} is not valid for this user."

# Countries without postal codes (a missing postalCode is fine there); everywhere else DHL wants one.
NO_POSTCODE_COUNTRIES = frozenset(
    {"AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BZ", "CD", "CF", "CG", "CI", "CM", "DJ", "DM",
     "ER", "FJ", "GA", "GD", "GH", "GM", "GY", "HK", "IE", "JM", "KI", "KM", "KN", "LC", "ML", "MO", "MR",
     "MW", "NR", "QA", "RW", "SB", "SC", "SL", "SR", "ST", "SY", "TG", "TL", "TO", "TV", "UG", "VU", "YE", "ZW"}
)  # fmt: skip

EU_COUNTRIES = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
     "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
)  # fmt: skip

# Products offered per zone: (productCode, productName, base GBP, GBP per chargeable kg, transit days).
PRODUCTS = {
    "domestic": (("N", "DOMESTIC EXPRESS", 14.50, 1.10, 1), ("T", "DOMESTIC EXPRESS 12:00", 19.90, 1.30, 1)),
    "eu": (("U", "EXPRESS WORLDWIDE", 38.00, 4.20, 2), ("K", "EXPRESS 9:00", 61.00, 5.10, 2)),
    "world": (
        ("P", "EXPRESS WORLDWIDE NONDOC", 62.00, 7.80, 3),
        ("Y", "EXPRESS 12:00 NONDOC", 84.00, 8.90, 3),
    ),
}
VOLUMETRIC_DIVISOR = 5000  # cm^3 per kg (DHL Express's published divisor)
EUR_PER_GBP = 1.157608  # the OAS rates example's exchange rate

# The journey every shipment makes, one checkpoint per ``tracking_step_seconds`` (typeCodes and wording
# from the OAS tracking example). "{origin}"/"{destination}" are service areas.
JOURNEY = (
    ("PU", "Shipment picked up", "origin"),
    ("PL", "Processed at- {origin}", "origin"),
    ("DF", "Shipment has departed from a DHL facility- {origin}", "origin"),
    ("AF", "Arrived at DHL Sort Facility - {destination}", "destination"),
    ("CR", "Clearance processing complete at- {destination}", "destination"),  # customs only
    ("AR", "Arrived at DHL Delivery Facility - {destination}", "destination"),
    ("WC", "Shipment is out with courier for delivery", "destination"),
    ("OK", "Delivered", "destination"),
)
EXCEPTION_DEFAULT = ("BA", "Bad address - the consignee address is incorrect or incomplete")
