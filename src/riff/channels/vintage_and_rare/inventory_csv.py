"""The inventory export (CSV in the bulk-upload template's columns) -> normalized rows.

Headers are lower-cased with spaces as underscores (``product id`` -> ``product_id``); the export's trailing
unnamed column is dropped. ``external_id`` is often empty: V&R does not reliably keep it, so nothing may
depend on it (the batched ID resolution matches on brand and model when it is missing).
"""

from __future__ import annotations

import csv
import dataclasses
import re
import sys
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from riff.channels.contract import RemoteListing, RemoteState
from riff.channels.errors import ChannelError
from riff.channels.vintage_and_rare import consts

REQUIRED_COLUMNS = ("brand_name", "product_id", "product_model_name", "product_price", "product_sold")
# Descriptions are long HTML; the csv module's default field limit (128 KiB) is too small for a few.
FIELD_SIZE_LIMIT = min(sys.maxsize, 16 * 1024 * 1024)


def normalize_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


@dataclasses.dataclass(frozen=True)
class InventoryRow:
    product_id: int
    brand: str
    model: str
    external_id: str | None
    price: Decimal | None
    sold: bool
    year: str | None
    finish: str | None
    category: str | None
    image_urls: tuple[str, ...]
    raw: dict[str, str]

    @property
    def title(self) -> str:
        return " ".join(part for part in (self.brand, self.model, self.year) if part)


def parse_rows(path: Path) -> Iterator[InventoryRow]:
    """Stream the rows of a downloaded export. Raises ``ChannelError`` when it is not the export at all."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ChannelError("the V&R export is empty", channel=consts.SLUG) from None
        columns = [normalize_header(name) for name in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            sample = ",".join(header)[:200]
            raise ChannelError(
                f"the V&R export lacks columns {', '.join(missing)} (got: {sample})", channel=consts.SLUG
            )
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            raw = {column: value for column, value in zip(columns, values, strict=False) if column}
            row = _row(raw)
            if row is not None:
                yield row


def _row(raw: dict[str, str]) -> InventoryRow | None:
    try:
        product_id = int(raw.get("product_id", "").strip())
    except ValueError:
        return None
    images = tuple(u.strip() for u in (raw.get("image_url") or "").split("|") if u.strip())
    return InventoryRow(
        product_id=product_id,
        brand=(raw.get("brand_name") or "").strip(),
        model=(raw.get("product_model_name") or "").strip(),
        external_id=(raw.get("external_id") or "").strip() or None,
        price=_decimal(raw.get("product_price")),
        sold=(raw.get("product_sold") or "").strip().lower() in ("yes", "1", "true", "sold"),
        year=(raw.get("product_year") or "").strip() or None,
        finish=(raw.get("product_finish") or "").strip() or None,
        category=(raw.get("category_name") or "").strip() or None,
        image_urls=images,
        raw=raw,
    )


def _decimal(value: Any) -> Decimal | None:
    text = str(value or "").strip().replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def remote_listing(row: InventoryRow, base_url: str, currency: str) -> RemoteListing:
    raw = {k: v for k, v in row.raw.items() if k != "product_description"}
    return RemoteListing(
        remote_id=str(row.product_id),
        sku=row.external_id,
        title=row.title,
        price=row.price,
        currency=currency,
        quantity=0 if row.sold else 1,
        state=RemoteState.SOLD if row.sold else RemoteState.LIVE,
        url=base_url.rstrip("/") + consts.PRODUCT_PATH.format(id=row.product_id),
        raw=raw,
    )
