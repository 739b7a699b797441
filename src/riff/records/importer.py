"""Record CSV imports through the catalog's per-row-validated importer.

Two layouts are recognised by their header:

- the **Discogs inventory export** (Seller dashboard -> Inventory -> Export): ``listing_id, artist, title,
  label, catno, format, release_id, status, price, listed, comments, media_condition, sleeve_condition,
  accept_offer, external_id, weight, format_quantity, location, quantity``; it carries no currency, so the
  caller says which (the Discogs account's);
- the **storefront sync CSV** of the record shop's old tool (its ``listings`` table: ``listing_id, status,
  condition, sleeve_condition, posted, price_value, price_currency, release_id, release_title,
  artist_names, primary_artist, genres, styles, image_uri, ...``).

Each row is checked in two parts, and every problem is reported with the row number, the file's own
column name and the reason: the record fields (``RecordFields``: release id, grades, ...) here, then the
product fields by the catalog pipeline (``riff.catalog.importer.plan_import``) on the row rewritten as a
RIFF CSV row. Good rows then go through ``apply_plan`` (products, stock movements: idempotent by SKU) and
get their ``records`` row and, when the file names a Discogs listing, the product's Discogs listing link.
Dry runs and skip-invalid behave exactly as for the RIFF CSV.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from riff.catalog import importer as catalog_importer
from riff.catalog.csv_io import ATTRIBUTE_PREFIX, CSV_COLUMNS, CsvTable, read_csv
from riff.catalog.models import MovementReason
from riff.catalog.repository import ProductRepository
from riff.catalog.schemas import ImportReport, ImportRowError, ImportRowResult
from riff.channels.models import Listing, ListingState
from riff.channels.repository import ListingRepository
from riff.core.errors import ValidationFailed
from riff.core.logging import get_logger
from riff.records import service
from riff.records.consts import RECORDS_CATEGORY_SLUG
from riff.records.repository import RecordRepository
from riff.records.schemas import RecordFields

log = get_logger(__name__)

DISCOGS_CHANNEL = "discogs"
ORIGIN_DISCOGS = "discogs"

# Discogs listing status -> product status and the listing's state in RIFF.
PRODUCT_STATUS = {"For Sale": "active", "Draft": "draft", "Sold": "sold", "Expired": "archived"}
LISTING_STATE = {
    "For Sale": ListingState.LIVE,
    "Draft": ListingState.PENDING,
    "Sold": ListingState.SOLD,
    "Expired": ListingState.ENDED,
}
# Discogs' genre list has one name with commas in it; protect it before splitting a joined list.
_COMMA_GENRE = "Folk, World, & Country"
_SPLIT = re.compile(r"\s*[;|]\s*|,\s+")
ATTRIBUTE_COLUMNS = tuple(
    ATTRIBUTE_PREFIX + name
    for name in ("format", "artist", "label", "catalog_number", "media_condition", "sleeve_condition")
)
RIFF_HEADER = [*CSV_COLUMNS, *ATTRIBUTE_COLUMNS]


def split_list(text: str | None) -> list[str]:
    if not text or not text.strip():
        return []
    protected = text.replace(_COMMA_GENRE, "\x00")
    return [part.replace("\x00", _COMMA_GENRE).strip() for part in _SPLIT.split(protected) if part.strip()]


def _int_or_text(text: str | None) -> Any:
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _moment(text: str | None) -> Any:
    """'2019-03-26 07:18:25' (Discogs' export, no zone: taken as UTC) or ISO 8601 -> aware ISO text."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # RecordFields reports it
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


@dataclass
class ConvertedRow:
    sku: str | None
    record: dict[str, Any]
    product: dict[str, str]  # RIFF CSV cells, without the derived record attributes
    listing_id: str | None = None
    listing_status: str | None = None
    errors: list[tuple[str | None, str]] = field(default_factory=list)  # (source column, reason)


@dataclass(frozen=True)
class RecordCsvFormat:
    name: str
    required_columns: tuple[str, ...]
    convert: Callable[[dict[str, str], str], ConvertedRow]
    # record field / RIFF CSV column -> the file's column (for error messages)
    columns: Mapping[str, str | None]

    def column_for(self, name: str | None) -> str | None:
        if name is None:
            return None
        base = name.split(".", 1)[0] if not name.startswith(ATTRIBUTE_PREFIX) else name
        return self.columns.get(name, self.columns.get(base, name))


def _status(raw: str, row: ConvertedRow, column: str) -> str:
    status = raw.strip() or "For Sale"
    if status not in PRODUCT_STATUS:
        row.errors.append(
            (column, f"unknown Discogs status {status!r} (expected {', '.join(PRODUCT_STATUS)})")
        )
        return ""
    return status


def _quantity(text: str, status: str) -> str:
    if status == "Sold":
        return "0"
    return text.strip() or "1"


def _convert_discogs(cells: dict[str, str], currency: str) -> ConvertedRow:
    get = lambda name: cells.get(name, "").strip()  # noqa: E731
    listing_id = get("listing_id")
    sku = get("external_id") or (f"DISCOGS-{listing_id}" if listing_id else None)
    row = ConvertedRow(
        sku=sku,
        record={
            "release_id": _int_or_text(get("release_id")),
            "artist": get("artist") or None,
            "title": get("title") or None,
            "labels": [get("label")] if get("label") else [],
            "catalog_number": get("catno") or None,
            "format_text": get("format") or None,
            "media_condition": get("media_condition") or None,
            "sleeve_condition": get("sleeve_condition") or None,
            "listed_at": _moment(get("listed")),
        },
        product={},
        listing_id=listing_id or None,
    )
    status = _status(get("status"), row, "status")
    row.listing_status = status or None
    quantity = _quantity(get("quantity"), status)
    row.product = {
        "sku": sku or "",
        "price": get("price"),
        "currency": currency,
        "description": cells.get("comments", ""),
        "quantity": quantity,
        "is_stocked_item": "true" if quantity.isdigit() and int(quantity) > 1 else "false",
        "status": PRODUCT_STATUS.get(status, ""),
    }
    return row


def _convert_legacy(cells: dict[str, str], currency: str) -> ConvertedRow:
    get = lambda name: cells.get(name, "").strip()  # noqa: E731
    listing_id = get("listing_id")
    sku = get("external_id") or (f"DISCOGS-{listing_id}" if listing_id else None)
    year = get("release_year")
    primary = get("primary_artist")
    names = get("artist_names")
    row = ConvertedRow(
        sku=sku,
        record={
            "release_id": _int_or_text(get("release_id")),
            "artist": names or primary or None,
            "artists": [primary] if primary else [],
            "title": get("release_title") or None,
            "labels": split_list(get("label_names")),
            "catalog_number": get("catalog_number") or None,
            "format_text": get("format_names") or None,
            "year": _int_or_text(year) if year not in ("", "0") else None,
            "genres": split_list(get("genres")),
            "styles": split_list(get("styles")),
            "media_condition": get("condition") or None,
            "sleeve_condition": get("sleeve_condition") or None,
            "have_count": _int_or_text(get("community_have")),
            "want_count": _int_or_text(get("community_want")),
            "cover_image_url": get("image_uri") or None,
            "listed_at": _moment(get("posted")),
        },
        product={},
        listing_id=listing_id or None,
    )
    status = _status(get("status"), row, "status")
    row.listing_status = status or None
    row.product = {
        "sku": sku or "",
        "price": get("price_value"),
        "currency": get("price_currency") or currency,
        "description": cells.get("comments", ""),
        "quantity": _quantity("", status),
        "is_stocked_item": "false",
        "status": PRODUCT_STATUS.get(status, ""),
    }
    return row


DISCOGS_EXPORT = RecordCsvFormat(
    name="Discogs inventory export",
    required_columns=("listing_id", "release_id", "price", "media_condition"),
    convert=_convert_discogs,
    columns={
        "sku": "external_id",
        "title": "title",
        "artist": "artist",
        "labels": "label",
        "catalog_number": "catno",
        "format_text": "format",
        "listed_at": "listed",
        "condition": "media_condition",
        "description": "comments",
        "currency": None,
        "category": None,
        "attributes": "format",
        ATTRIBUTE_PREFIX + "format": "format",
        ATTRIBUTE_PREFIX + "artist": "artist",
        ATTRIBUTE_PREFIX + "label": "label",
        ATTRIBUTE_PREFIX + "catalog_number": "catno",
        ATTRIBUTE_PREFIX + "media_condition": "media_condition",
        ATTRIBUTE_PREFIX + "sleeve_condition": "sleeve_condition",
    },
)
LEGACY_SYNC_CSV = RecordCsvFormat(
    name="storefront sync CSV",
    required_columns=("listing_id", "price_value", "release_title"),
    convert=_convert_legacy,
    columns={
        "sku": "listing_id",
        "title": "release_title",
        "artist": "artist_names",
        "artists": "primary_artist",
        "labels": "label_names",
        "format_text": "format_names",
        "year": "release_year",
        "media_condition": "condition",
        "condition": "condition",
        "price": "price_value",
        "currency": "price_currency",
        "description": "comments",
        "have_count": "community_have",
        "want_count": "community_want",
        "cover_image_url": "image_uri",
        "listed_at": "posted",
        "category": None,
        "quantity": "status",
        "attributes": "format_names",
        ATTRIBUTE_PREFIX + "format": "format_names",
        ATTRIBUTE_PREFIX + "artist": "artist_names",
        ATTRIBUTE_PREFIX + "label": "label_names",
        ATTRIBUTE_PREFIX + "catalog_number": "catalog_number",
        ATTRIBUTE_PREFIX + "media_condition": "condition",
        ATTRIBUTE_PREFIX + "sleeve_condition": "sleeve_condition",
    },
)
FORMATS = {"discogs": DISCOGS_EXPORT, "legacy": LEGACY_SYNC_CSV}


def detect_format(header: list[str]) -> RecordCsvFormat:
    columns = set(header)
    if {"listing_id", "media_condition"} <= columns and ({"artist", "catno"} & columns):
        return DISCOGS_EXPORT
    if "price_value" in columns or "primary_artist" in columns or "release_title" in columns:
        return LEGACY_SYNC_CSV
    raise ValidationFailed(
        "unrecognised header: expected a Discogs inventory export (listing_id, artist, title, label, catno, "
        "format, release_id, status, price, ..., media_condition, sleeve_condition) or the storefront sync "
        "CSV (listing_id, status, condition, sleeve_condition, price_value, price_currency, release_id, "
        "release_title, artist_names, ...)",
        field="file",
    )


def _check_header(fmt: RecordCsvFormat, header: list[str]) -> None:
    missing = [c for c in fmt.required_columns if c not in header]
    if missing:
        problems = [
            {"row": 1, "column": c, "sku": None, "reason": f"the header has no {c!r} column"} for c in missing
        ]
        raise ValidationFailed(
            f"the {fmt.name} header is not usable: {missing[0]}: the header has no {missing[0]!r} column",
            field=missing[0],
            details=problems,
        )


@dataclass
class _Row:
    number: int
    converted: ConvertedRow
    fields: RecordFields | None = None


def _validate_record(row: _Row, fmt: RecordCsvFormat) -> list[ImportRowError]:
    converted = row.converted
    errors = [
        ImportRowError(row=row.number, column=column, sku=converted.sku, reason=reason)
        for column, reason in converted.errors
    ]
    try:
        row.fields = RecordFields.model_validate(
            {k: v for k, v in converted.record.items() if v not in (None, [])}
        )
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else None
            reason = str(error["msg"]).removeprefix("Value error, ")
            errors.append(
                ImportRowError(row=row.number, column=fmt.column_for(name), sku=converted.sku, reason=reason)
            )
    if converted.listing_id is not None and not converted.listing_id.isdigit():
        errors.append(
            ImportRowError(
                row=row.number,
                column="listing_id",
                sku=converted.sku,
                reason="must be a Discogs listing id (digits)",
            )
        )
    return errors


def _riff_cells(row: _Row) -> list[str]:
    assert row.fields is not None
    values = service.record_values(row.fields.model_dump(exclude_unset=True))
    attributes = service.record_attributes(values)
    condition = service.condition_for(values["media_condition"])
    cells = {
        **row.converted.product,
        "title": service.product_title(values["artist"], values["title"]),
        "year": str(values["year"]) if values["year"] else "",
        "condition": condition.value if condition else "",
        "category": RECORDS_CATEGORY_SLUG,
        **{ATTRIBUTE_PREFIX + name: str(value) for name, value in attributes.items()},
    }
    return [cells.get(column, "") for column in RIFF_HEADER]


def import_records(
    session: Session,
    data: bytes,
    *,
    actor: str,
    source: str = "records.csv",
    layout: str | None = None,
    currency: str = "USD",
    account_id: int | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import a Discogs inventory export or the storefront sync CSV (``layout`` "discogs"/"legacy", or
    detected from the header). The report lists every bad row (row, the file's column, reason) and what
    each good row did or would do; nothing is written while a row is bad unless ``skip_invalid``."""
    table = read_csv(data)
    fmt = FORMATS[layout] if layout else detect_format(table.header)
    _check_header(fmt, table.header)
    service.ensure_category(session)

    rows: list[_Row] = []
    errors: list[ImportRowError] = []
    listings = ListingRepository(session)
    for number, cells in table.records:
        padded = cells + [""] * (len(table.header) - len(cells))
        row = _Row(number, fmt.convert(dict(zip(table.header, padded, strict=False)), currency.upper()))
        row_errors = _validate_record(row, fmt)
        linked = (
            listings.by_remote_id(DISCOGS_CHANNEL, row.converted.listing_id)
            if row.converted.listing_id
            else None
        )
        if linked is not None and linked.product.sku != row.converted.sku:
            row_errors.append(
                ImportRowError(
                    row=number,
                    column="listing_id",
                    sku=row.converted.sku,
                    reason=f"Discogs listing {row.converted.listing_id} is already linked to SKU {linked.product.sku}",
                )
            )
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append(row)

    riff_table = CsvTable(header=list(RIFF_HEADER), records=[(r.number, _riff_cells(r)) for r in rows])
    plan = catalog_importer.plan_import(session, riff_table, catalog_importer.RIFF_CSV)
    for error in plan.errors:
        errors.append(error.model_copy(update={"column": fmt.column_for(error.column)}))
    errors.sort(key=lambda e: e.row)

    by_number = {r.number: r for r in rows}
    results: list[ImportRowResult] = []
    record_changes: dict[int, list[str]] = {}
    records = RecordRepository(session).get_many(p.product.id for p in plan.rows if p.product is not None)
    for planned in plan.rows:
        row = by_number[planned.row]
        assert row.fields is not None
        changed = list(planned.changed)
        if planned.product is not None:
            record = records.get(planned.product.id)
            new = service.record_values(
                {
                    **(service.current_fields(record) if record else {}),
                    **row.fields.model_dump(exclude_unset=True),
                }
            )
            differs = record is None or any(
                getattr(record, k) != v for k, v in new.items() if k != "search_text"
            )
            if differs:
                changed.append("record")
        record_changes[planned.row] = changed
        action = planned.action if planned.action != "unchanged" or changed == planned.changed else "updated"
        results.append(ImportRowResult(row=planned.row, sku=planned.sku, action=action, changed=changed))

    bad_rows = len({e.row for e in errors})
    write = not dry_run and (skip_invalid or not errors)
    if write:
        catalog_importer.apply_plan(session, plan, actor=actor, source=source)
        products = ProductRepository(session).get_by_skus(p.sku for p in plan.rows)
        for planned in plan.rows:
            row = by_number[planned.row]
            product = products[planned.sku]
            assert row.fields is not None
            service.set_record(
                session,
                product,
                row.fields.model_dump(exclude_unset=True),
                actor=actor,
                reason=MovementReason.IMPORT,
                reference=f"{source[:160]} row {planned.row}",
                derive_title=False,
            )
            _link_listing(session, product.id, row.converted, account_id)
        log.info(
            "records.import.apply.success",
            source=source,
            layout=fmt.name,
            rows=len(plan.rows),
            skipped=bad_rows,
        )
    elif errors and not dry_run:
        log.info("records.import.apply.refused", source=source, layout=fmt.name, bad_rows=bad_rows)

    def count(action: str) -> int:
        return sum(1 for r in results if r.action == action)

    return ImportReport(
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        written=write,
        created=count("created"),
        updated=count("updated"),
        unchanged=count("unchanged"),
        skipped=bad_rows if skip_invalid else 0,
        rows=results,
        errors=errors,
    )


def _link_listing(session: Session, product_id: int, row: ConvertedRow, account_id: int | None) -> None:
    """The file names the product's Discogs listing: record it, so the sync and orders find the product."""
    if row.listing_id is None or row.listing_status is None:
        return
    repository = ListingRepository(session)
    listing = repository.for_product_channel(product_id, DISCOGS_CHANNEL)
    state = LISTING_STATE[row.listing_status]
    if listing is None:
        repository.create(
            Listing(
                product_id=product_id,
                channel=DISCOGS_CHANNEL,
                account_id=account_id,
                remote_id=row.listing_id,
                state=state,
                extras={"origin": ORIGIN_DISCOGS},
            )
        )
        return
    listing.remote_id = row.listing_id
    listing.state = state
    listing.account_id = listing.account_id or account_id
    session.flush()
