"""Product import as a small pipeline, so other file formats (Discogs inventory CSVs) reuse it:

    cells --RowFormat.map_row--> field dict --ImportRow--> typed row --plan--> create/update/unchanged

A ``RowFormat`` knows one file layout: its columns and how a row's cells become ``ImportRow`` fields
(empty cell = ``None``). Everything after that is shared: type checks (pydantic), whole-product rules
(service.prepare_create / prepare_changes: category, attributes, decade, one-of-a-kind quantity) and
the write, which is idempotent by SKU. Nothing is written while any row is invalid, unless the caller
asks to skip invalid rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.orm import Session

from riff.catalog import service
from riff.catalog.attributes import coerce_text
from riff.catalog.categories import CategoryIndex
from riff.catalog.csv_io import ATTRIBUTE_PREFIX, CSV_COLUMNS, CsvTable, read_csv
from riff.catalog.models import Condition, MovementReason, Product, ProductStatus
from riff.catalog.repository import ProductRepository
from riff.catalog.schemas import (
    CategorySlug,
    Currency,
    Decade,
    ImportReport,
    ImportRowError,
    ImportRowResult,
    ModelText,
    Price,
    ProductCreate,
    Quantity,
    ShortText,
    Sku,
    Title,
    Year,
)
from riff.core.errors import RiffError, ValidationFailed
from riff.core.logging import get_logger

log = get_logger(__name__)

ProgressCallback = Callable[[str, int, int], None]  # (phase, done, total)
# An empty cell in one of these leaves the product's value alone (they have no "empty" value);
# an empty cell in any other column clears that field.
KEEP_WHEN_EMPTY = frozenset(
    {"title", "price", "currency", "condition", "quantity", "is_stocked_item", "status"}
)


class ImportRow(BaseModel):
    """One row after its format's mapping: only the fields the file has a column for are set."""

    model_config = ConfigDict(extra="forbid")

    sku: Sku
    title: Title | None = None
    brand: ShortText | None = None
    model: ModelText | None = None
    year: Year | None = None
    decade: Decade | None = None
    finish: ShortText | None = None
    condition: Condition | None = None
    category: CategorySlug | None = None
    description: str | None = None
    price: Price | None = None
    currency: Currency | None = None
    cost: Price | None = None
    quantity: Quantity | None = None
    is_stocked_item: bool | None = None
    status: ProductStatus | None = None
    attributes: dict[str, str | None] = {}

    @field_validator("condition", "status", mode="before")
    @classmethod
    def _enum_spelling(cls, value: Any) -> Any:
        # "Very Good" / "very-good" as people type it -> very_good
        return value.strip().lower().replace(" ", "_").replace("-", "_") if isinstance(value, str) else value

    @field_validator("price", "cost", mode="before")
    @classmethod
    def _plain_decimal(cls, value: Any) -> Any:
        if isinstance(value, str) and "," in value:
            raise ValueError("use a dot for decimals and no thousands separator, e.g. 1249.00")
        return value


@dataclass(frozen=True)
class RowFormat:
    name: str
    columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    map_row: Callable[[dict[str, str]], dict[str, Any]]
    attribute_prefix: str | None = None

    def column_for(self, field_name: str | None) -> str | None:
        if field_name is None:
            return None
        if field_name.startswith("attributes.") and self.attribute_prefix is not None:
            return self.attribute_prefix + field_name.split(".", 1)[1]
        return field_name

    def check_header(self, header: list[str]) -> None:
        problems: list[dict[str, Any]] = []
        seen: set[str] = set()
        for name in header:
            if name in seen:
                problems.append({"row": 1, "column": name, "sku": None, "reason": "column appears twice"})
            seen.add(name)
            known = name in self.columns or (
                self.attribute_prefix is not None
                and name.startswith(self.attribute_prefix)
                and len(name) > len(self.attribute_prefix)
            )
            if not known:
                reason = (
                    f"unknown column (known: {', '.join(self.columns)}, {self.attribute_prefix or ''}<name>)"
                )
                problems.append({"row": 1, "column": name or "(blank)", "sku": None, "reason": reason})
        for required in self.required_columns:
            if required not in seen:
                problems.append(
                    {
                        "row": 1,
                        "column": required,
                        "sku": None,
                        "reason": f"the header has no {required!r} column",
                    }
                )
        if problems:
            raise ValidationFailed(
                f"the {self.name} header is not usable: {problems[0]['column']}: {problems[0]['reason']}",
                field=problems[0]["column"],
                details=problems,
            )


def _riff_map_row(cells: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    attributes: dict[str, str | None] = {}
    for column, value in cells.items():
        text: str | None = value if value.strip() else None
        if column.startswith(ATTRIBUTE_PREFIX):
            attributes[column[len(ATTRIBUTE_PREFIX) :]] = text
        elif column == "description":
            fields[column] = value if text is not None else None  # keep the text exactly as written
        else:
            fields[column] = text.strip() if text is not None else None
    if attributes:
        fields["attributes"] = attributes
    return fields


RIFF_CSV = RowFormat(
    name="RIFF CSV",
    columns=CSV_COLUMNS,
    required_columns=("sku",),
    map_row=_riff_map_row,
    attribute_prefix=ATTRIBUTE_PREFIX,
)


@dataclass
class PlannedRow:
    row: int
    sku: str
    action: str  # created | updated | unchanged
    create: ProductCreate | None = None
    product: Product | None = None
    changes: service.PreparedChanges | None = None
    changed: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    rows: list[PlannedRow]
    errors: list[ImportRowError]

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


def plan_import(
    session: Session, table: CsvTable, fmt: RowFormat, *, progress: ProgressCallback | None = None
) -> ImportPlan:
    """Validate every row and decide what it would do, without writing anything."""
    fmt.check_header(table.header)
    categories = CategoryIndex.load(session)
    parsed: list[tuple[int, ImportRow]] = []
    errors: list[ImportRowError] = []
    first_row_for_sku: dict[str, int] = {}
    for row_number, cells in table.records:
        row_errors = _parse_row(row_number, cells, table.header, fmt, parsed)
        if row_errors:
            errors.extend(row_errors)
            continue
        number, row = parsed[-1]
        if row.sku in first_row_for_sku:
            parsed.pop()
            reason = f"SKU already in row {first_row_for_sku[row.sku]}"
            errors.append(ImportRowError(row=number, column="sku", sku=row.sku, reason=reason))
        else:
            first_row_for_sku[row.sku] = number

    existing = ProductRepository(session).get_by_skus(row.sku for _, row in parsed)
    planned: list[PlannedRow] = []
    for done, (number, row) in enumerate(parsed, start=1):
        try:
            planned.append(_plan_row(session, number, row, existing.get(row.sku), categories))
        except RiffError as exc:
            column = fmt.column_for(exc.field)
            errors.append(ImportRowError(row=number, column=column, sku=row.sku, reason=exc.message))
        except ValidationError as exc:
            for error in exc.errors():
                column = fmt.column_for(".".join(str(p) for p in error["loc"]))
                errors.append(ImportRowError(row=number, column=column, sku=row.sku, reason=error["msg"]))
        if progress is not None:
            progress("validate", done, len(parsed))
    errors.sort(key=lambda e: e.row)
    return ImportPlan(rows=planned, errors=errors)


def _parse_row(
    row_number: int, cells: list[str], header: list[str], fmt: RowFormat, parsed: list[tuple[int, ImportRow]]
) -> list[ImportRowError]:
    sku_column = header.index("sku")
    sku_guess = (cells[sku_column].strip() or None) if sku_column < len(cells) else None
    extra = [c for c in cells[len(header) :] if c.strip()]
    if extra:
        reason = f"has {len(cells)} cells but the header has {len(header)} columns"
        return [ImportRowError(row=row_number, column=None, sku=sku_guess, reason=reason)]
    # Spreadsheets drop trailing empty cells; a short row means those cells are empty.
    padded = cells + [""] * (len(header) - len(cells))
    mapped = fmt.map_row(dict(zip(header, padded, strict=False)))
    if mapped.get("sku") is None:
        return [
            ImportRowError(
                row=row_number, column="sku", sku=None, reason="the SKU is empty; every row needs one"
            )
        ]
    try:
        parsed.append((row_number, ImportRow.model_validate(mapped)))
    except ValidationError as exc:
        found: list[ImportRowError] = []
        for error in exc.errors():
            loc = ".".join(str(p) for p in error["loc"])
            column = fmt.column_for(loc) or loc
            reason = str(error["msg"]).removeprefix("Value error, ")
            found.append(ImportRowError(row=row_number, column=column, sku=sku_guess, reason=reason))
        return found
    return []


def _plan_row(
    session: Session, number: int, row: ImportRow, product: Product | None, categories: CategoryIndex
) -> PlannedRow:
    given = row.model_fields_set
    if product is None:
        missing = [name for name in ("title", "price") if getattr(row, name) is None]
        if missing:
            raise ValidationFailed(f"{missing[0]} is required for a new product", field=missing[0])
        category = categories.resolve(row.category)
        schema = categories.schema_for(category)
        attributes = {
            name: value
            for name, text in row.attributes.items()
            if (value := coerce_text(name, text or "", schema)) is not None
        }
        values: dict[str, Any] = {
            name: getattr(row, name)
            for name in given
            if name != "attributes" and getattr(row, name) is not None
        }
        values["attributes"] = attributes
        create = ProductCreate.model_validate(values)
        service.prepare_create(session, create, categories=categories)
        return PlannedRow(row=number, sku=row.sku, action="created", create=create, changed=[])

    sent: dict[str, Any] = {}
    for name in given - {"sku", "attributes"}:
        value = getattr(row, name)
        if value is None and name in KEEP_WHEN_EMPTY:
            continue
        sent[name] = value
    if row.attributes:
        category = categories.resolve(row.category) if "category" in sent else product.category
        schema = categories.schema_for(category)
        sent["attributes"] = {
            name: coerce_text(name, text or "", schema) for name, text in row.attributes.items()
        }
    changes = service.prepare_changes(session, product, sent, categories=categories)
    action = "updated" if changes.changed else "unchanged"
    return PlannedRow(
        row=number, sku=row.sku, action=action, product=product, changes=changes, changed=changes.changed
    )


def apply_plan(
    session: Session,
    plan: ImportPlan,
    *,
    actor: str,
    source: str,
    progress: ProgressCallback | None = None,
) -> None:
    """Write the planned creates (in one batch) and updates; quantities move with reason ``import``."""
    creates = [p for p in plan.rows if p.create is not None]
    if creates:
        service.create_products(
            session,
            [(p.create, _reference(source, p.row)) for p in creates if p.create is not None],
            actor=actor,
            reason=MovementReason.IMPORT,
        )
    done = len(creates)
    total = len(plan.rows)
    if progress is not None:
        progress("write", done, total)
    for planned in plan.rows:
        if planned.action != "updated" or planned.product is None or planned.changes is None:
            continue
        service.write_changes(
            session,
            planned.product,
            planned.changes,
            actor=actor,
            reason=MovementReason.IMPORT,
            reference=_reference(source, planned.row),
        )
        done += 1
        if progress is not None and done % 50 == 0:
            progress("write", done, total)
    if progress is not None:
        progress("write", total, total)


def _reference(source: str, row: int) -> str:
    return f"{source[:160]} row {row}"


def import_products(
    session: Session,
    data: bytes,
    *,
    actor: str,
    source: str = "upload.csv",
    dry_run: bool = False,
    skip_invalid: bool = False,
    fmt: RowFormat = RIFF_CSV,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a CSV file. The report lists every bad row (row, column, reason) and what each good row
    did or would do. ``written`` is false when nothing was written: a dry run, or invalid rows without
    ``skip_invalid`` (the caller turns that into a 422 / non-zero exit)."""
    plan = plan_import(session, read_csv(data), fmt, progress=progress)
    write = not dry_run and (skip_invalid or not plan.errors)
    if write:
        apply_plan(session, plan, actor=actor, source=source, progress=progress)
        log.info(
            "catalog.import.apply.success",
            source=source,
            rows=len(plan.rows),
            skipped=plan.bad_rows,
            actor=actor,
        )
    elif plan.errors and not dry_run:
        log.info("catalog.import.apply.refused", source=source, bad_rows=plan.bad_rows, actor=actor)
    return _report(plan, dry_run=dry_run, skip_invalid=skip_invalid, written=write)


def _report(plan: ImportPlan, *, dry_run: bool, skip_invalid: bool, written: bool) -> ImportReport:
    def count(action: str) -> int:
        return sum(1 for p in plan.rows if p.action == action)

    return ImportReport(
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        written=written,
        created=count("created"),
        updated=count("updated"),
        unchanged=count("unchanged"),
        skipped=plan.bad_rows if skip_invalid else 0,
        rows=[ImportRowResult(row=p.row, sku=p.sku, action=p.action, changed=p.changed) for p in plan.rows],
        errors=plan.errors,
    )


def error_rows(errors: Sequence[ImportRowError]) -> list[dict[str, Any]]:
    return [e.model_dump() for e in errors]
