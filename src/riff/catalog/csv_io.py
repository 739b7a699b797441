"""Reading and writing product CSV files (Python's csv module), independent of what the rows mean.

Row numbers follow what a spreadsheet shows: the header is row 1, the first data row is row 2, and a
blank line still takes up its row number (blank rows are skipped, not renumbered).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from riff.catalog.attributes import render_text
from riff.catalog.models import Product
from riff.core.errors import ValidationFailed

# The RIFF product CSV: these columns, then one ``attr.<name>`` column per typed attribute.
CSV_COLUMNS: tuple[str, ...] = (
    "sku",
    "title",
    "brand",
    "model",
    "year",
    "decade",
    "finish",
    "condition",
    "category",
    "description",
    "price",
    "currency",
    "cost",
    "quantity",
    "is_stocked_item",
    "status",
)
ATTRIBUTE_PREFIX = "attr."
MAX_IMPORT_BYTES = 50 * 1024 * 1024
MAX_FIELD_BYTES = 1024 * 1024  # long HTML descriptions exceed csv's 128 KiB default
DELIMITERS = (",", ";", "\t")
HEADER_ROW = 1

csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_BYTES))


@dataclass
class CsvTable:
    header: list[str]
    records: list[tuple[int, list[str]]]  # (spreadsheet row number, cells)


def decode(data: bytes) -> str:
    if not data.strip():
        raise ValidationFailed("the file is empty", field="file")
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(f"the file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB", field="file")
    if b"\x00" in data:
        raise ValidationFailed("this is not a CSV file (it contains binary data)", field="file")
    try:
        # utf-8-sig drops the byte-order mark Excel writes at the start of "CSV UTF-8" files.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"the file is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8'", field="file"
        ) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most fields (European Excel writes ';')."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: len(next(csv.reader([first_line], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def read_csv(data: bytes) -> CsvTable:
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    row_number = 0
    try:
        for cells in reader:
            row_number += 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                if row_number != HEADER_ROW:
                    # Keep the documented numbering: the header is row 1 even after leading blank lines.
                    row_number = HEADER_ROW
                header = [normalise_column(cell) for cell in cells]
                continue
            records.append((row_number, cells))
    except csv.Error as exc:
        raise ValidationFailed(f"row {row_number + 1}: not valid CSV ({exc})", field="file") from None
    if header is None:
        raise ValidationFailed("the file has no header row", field="file")
    return CsvTable(header=header, records=records)


def normalise_column(name: str) -> str:
    name = name.strip().lower()
    if name.startswith(ATTRIBUTE_PREFIX):
        return ATTRIBUTE_PREFIX + name[len(ATTRIBUTE_PREFIX) :].strip().replace(" ", "_")
    return name.replace(" ", "_")


# -- writing ----------------------------------------------------------------------------------------


def export_header(attribute_names: Sequence[str]) -> list[str]:
    return [*CSV_COLUMNS, *(ATTRIBUTE_PREFIX + name for name in attribute_names)]


def product_row(product: Product, attribute_names: Sequence[str]) -> list[str]:
    """One product as CSV cells; reading them back with the RIFF format gives the same values."""
    attributes = product.attributes or {}
    return [
        product.sku,
        product.title,
        product.brand or "",
        product.model or "",
        "" if product.year is None else str(product.year),
        product.decade or "",
        product.finish or "",
        product.condition.value,
        product.category.slug if product.category else "",
        product.description or "",
        f"{product.base_price:.2f}",
        product.currency,
        "" if product.cost is None else f"{product.cost:.2f}",
        str(product.quantity),
        "true" if product.is_stocked_item else "false",
        product.status.value,
        *(render_text(attributes.get(name)) for name in attribute_names),
    ]


def csv_lines(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """Each row as one CSV-encoded string (RFC 4180 quoting, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
