"""Orders as CSV for accounting (``GET /api/orders/export.csv``): one row per order, oldest first, with
amounts, marketplace fees, net and the shipment (carrier, tracking, label cost).

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
apostrophe: buyer names and titles come from strangers on marketplaces."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

from riff.fulfilment.models import Shipment
from riff.orders.models import Order

COLUMNS = [
    "received_at",
    "placed_at",
    "paid_at",
    "channel",
    "order_id",
    "riff_order_id",
    "status",
    "buyer_name",
    "buyer_email",
    "ship_to_country",
    "currency",
    "subtotal",
    "shipping",
    "tax",
    "total",
    "fees",
    "net",
    "items",
    "skus",
    "quantity",
    "carrier",
    "tracking_number",
    "label_cost",
    "label_currency",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str | None) -> str:
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _when(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else ""


def order_row(order: Order, shipment: Shipment | None, skus: Mapping[int, str] | None = None) -> list[str]:
    net = order.total - order.fees if order.total is not None and order.fees is not None else order.total
    address = order.shipping_address or {}
    return [
        _when(order.received_at),
        _when(order.placed_at),
        _when(order.paid_at),
        order.channel,
        safe_text(order.remote_order_id),
        str(order.id),
        order.status.value,
        safe_text(order.buyer_name),
        safe_text(order.buyer_email),
        safe_text(str(address.get("country_code") or "")),
        order.currency or "",
        _amount(order.subtotal),
        _amount(order.shipping),
        _amount(order.tax),
        _amount(order.total),
        _amount(order.fees),
        _amount(net),
        safe_text(" | ".join(line.title or line.remote_listing_id or "" for line in order.lines)),
        safe_text(" | ".join(line.sku or (skus or {}).get(line.product_id or 0, "") for line in order.lines)),
        str(sum(line.quantity for line in order.lines)),
        shipment.carrier if shipment else "",
        safe_text(shipment.tracking_number) if shipment else "",
        _amount(shipment.price) if shipment else "",
        (shipment.price_currency or "") if shipment else "",
    ]


def csv_chunks(rows: Iterable[list[str]]) -> Iterator[str]:
    """The header, then each row, CSV-encoded (RFC 4180 quoting, CRLF line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for row in rows:
        writer.writerow(row)
        yield flush()
