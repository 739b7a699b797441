"""The records vocabulary: Discogs' grading scale, format words, and how a grade maps to RIFF's condition.

Grades are Discogs' own strings (https://www.discogs.com/developers/#page:marketplace, listing
``condition``/``sleeve_condition``; Goldmine-style scale) because that is how record shops speak.
"""

from __future__ import annotations

import enum

from riff.catalog.models import Condition

RECORDS_CATEGORY_SLUG = "records"
RECORDS_CATEGORY_NAME = "Records"


class MediaGrade(enum.StrEnum):
    MINT = "Mint (M)"
    NEAR_MINT = "Near Mint (NM or M-)"
    VERY_GOOD_PLUS = "Very Good Plus (VG+)"
    VERY_GOOD = "Very Good (VG)"
    GOOD_PLUS = "Good Plus (G+)"
    GOOD = "Good (G)"
    FAIR = "Fair (F)"
    POOR = "Poor (P)"


class SleeveGrade(enum.StrEnum):
    MINT = "Mint (M)"
    NEAR_MINT = "Near Mint (NM or M-)"
    VERY_GOOD_PLUS = "Very Good Plus (VG+)"
    VERY_GOOD = "Very Good (VG)"
    GOOD_PLUS = "Good Plus (G+)"
    GOOD = "Good (G)"
    FAIR = "Fair (F)"
    POOR = "Poor (P)"
    GENERIC = "Generic"
    NOT_GRADED = "Not Graded"
    NO_COVER = "No Cover"


# Short forms people type in spreadsheets -> the grade.
GRADE_ALIASES: dict[str, str] = {
    "m": MediaGrade.MINT,
    "mint": MediaGrade.MINT,
    "nm": MediaGrade.NEAR_MINT,
    "m-": MediaGrade.NEAR_MINT,
    "nm or m-": MediaGrade.NEAR_MINT,
    "near mint": MediaGrade.NEAR_MINT,
    "vg+": MediaGrade.VERY_GOOD_PLUS,
    "very good plus": MediaGrade.VERY_GOOD_PLUS,
    "vg": MediaGrade.VERY_GOOD,
    "very good": MediaGrade.VERY_GOOD,
    "g+": MediaGrade.GOOD_PLUS,
    "good plus": MediaGrade.GOOD_PLUS,
    "g": MediaGrade.GOOD,
    "good": MediaGrade.GOOD,
    "f": MediaGrade.FAIR,
    "fair": MediaGrade.FAIR,
    "p": MediaGrade.POOR,
    "poor": MediaGrade.POOR,
    "generic": SleeveGrade.GENERIC,
    "not graded": SleeveGrade.NOT_GRADED,
    "no cover": SleeveGrade.NO_COVER,
}

# The media grade decides the product's (platform-neutral) condition.
CONDITION_BY_GRADE: dict[MediaGrade, Condition] = {
    MediaGrade.MINT: Condition.NEW,
    MediaGrade.NEAR_MINT: Condition.EXCELLENT,
    MediaGrade.VERY_GOOD_PLUS: Condition.VERY_GOOD,
    MediaGrade.VERY_GOOD: Condition.GOOD,
    MediaGrade.GOOD_PLUS: Condition.FAIR,
    MediaGrade.GOOD: Condition.FAIR,
    MediaGrade.FAIR: Condition.POOR,
    MediaGrade.POOR: Condition.POOR,
}
# When a product has no grade (a record created as a plain product): the grade its condition implies.
GRADE_BY_CONDITION: dict[Condition, MediaGrade] = {
    Condition.NEW: MediaGrade.MINT,
    Condition.EXCELLENT: MediaGrade.NEAR_MINT,
    Condition.VERY_GOOD: MediaGrade.VERY_GOOD_PLUS,
    Condition.GOOD: MediaGrade.VERY_GOOD,
    Condition.FAIR: MediaGrade.GOOD,
    Condition.POOR: MediaGrade.POOR,
}

# Format words (from a release's format text, e.g. '2xLP, Album, RE' or '7", Single') -> the carrier.
CARRIER_BY_FORMAT_WORD: dict[str, str] = {
    "lp": "Vinyl",
    "ep": "Vinyl",
    '7"': "Vinyl",
    '10"': "Vinyl",
    '12"': "Vinyl",
    "vinyl": "Vinyl",
    "45 rpm": "Vinyl",
    "33 ⅓ rpm": "Vinyl",
    "78 rpm": "Vinyl",
    "shellac": "Shellac",
    "cd": "CD",
    "cdr": "CD",
    "sacd": "CD",
    "cass": "Cassette",
    "cassette": "Cassette",
    "dvd": "DVD",
    "box": "Box Set",
    "box set": "Box Set",
    "file": "File",
    "reel": "Reel-To-Reel",
}

# Facet kinds in ``record_facets``: exact, case-insensitive filters.
FACET_GENRE = "genre"
FACET_STYLE = "style"
FACET_FORMAT = "format"
FACET_LABEL = "label"
FACET_ARTIST = "artist"

MAX_LIST_ITEMS = 20  # artists, labels, formats, genres or styles per record
MAX_ITEM_CHARS = 200
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200

# Product attributes a record carries in the catalog's "records" category (its attribute schema is seeded
# by catalog migration 0003; the same definition is used when a database lacks the category).
MEDIA_GRADE_CODES: dict[MediaGrade, str] = {
    MediaGrade.MINT: "M",
    MediaGrade.NEAR_MINT: "NM",
    MediaGrade.VERY_GOOD_PLUS: "VG+",
    MediaGrade.VERY_GOOD: "VG",
    MediaGrade.GOOD_PLUS: "G+",
    MediaGrade.GOOD: "G",
    MediaGrade.FAIR: "F",
    MediaGrade.POOR: "P",
}
SLEEVE_GRADE_CODES: dict[SleeveGrade, str | None] = {
    **{SleeveGrade(grade.value): code for grade, code in MEDIA_GRADE_CODES.items()},
    SleeveGrade.GENERIC: "generic",
    SleeveGrade.NO_COVER: "none",
    SleeveGrade.NOT_GRADED: None,
}
FORMAT_CODES = ("lp", "ep", "single", "78", "cassette", "cd", "box_set")
RECORDS_ATTRIBUTE_SCHEMA: list[dict[str, object]] = [
    {"name": "format", "type": "choice", "choices": list(FORMAT_CODES), "required": True},
    {"name": "artist", "type": "str", "required": False},
    {"name": "label", "type": "str", "required": False},
    {"name": "catalog_number", "type": "str", "required": False},
    {
        "name": "media_condition",
        "type": "choice",
        "choices": list(MEDIA_GRADE_CODES.values()),
        "required": False,
    },
    {
        "name": "sleeve_condition",
        "type": "choice",
        "choices": [*MEDIA_GRADE_CODES.values(), "generic", "none"],
        "required": False,
    },
]
