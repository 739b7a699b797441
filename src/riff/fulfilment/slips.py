"""Packing slips and pick lists as PDF (reportlab). Pure: orders in, bytes out.

A packing slip goes in the box: the shop, the buyer's address, the lines, and a Code 128 barcode of
RIFF's order reference so the parcel is scanned back to its order. A pick list gathers the items of
several orders for one walk through the stock room."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from riff.carriers.contract import Party
from riff.channels.registry import channel_class
from riff.orders.models import Order

MARGIN = 50


def order_reference(order: Order) -> str:
    """What the barcode on a slip encodes: stable, short, and unique across channels."""
    return f"RIFF-O{order.id}"


def _channel_name(slug: str) -> str:
    try:
        return str(channel_class(slug).display_name)
    except Exception:  # an order from a channel whose adapter is not installed
        return slug


def _address(address: Mapping[str, Any] | None, fallback_name: str | None) -> list[str]:
    address = address or {}
    lines = [
        address.get("name") or fallback_name,
        address.get("line1"),
        address.get("line2"),
        " ".join(str(part) for part in (address.get("postal_code"), address.get("city")) if part),
        address.get("region"),
        address.get("country_code"),
    ]
    return [str(line) for line in lines if line]


def _text(
    canvas: Canvas, x: float, y: float, lines: Sequence[str], size: int = 10, leading: int = 13
) -> float:
    canvas.setFont("Helvetica", size)
    for line in lines:
        canvas.drawString(x, y, line[:80])
        y -= leading
    return y


def _slip_page(canvas: Canvas, order: Order, shop: Party, skus: Mapping[int, str]) -> None:
    width, height = A4
    canvas.setFont("Helvetica-Bold", 18)
    canvas.drawString(MARGIN, height - MARGIN - 10, "Packing slip")
    shop_lines = [
        shop.company or shop.name or "",
        shop.line1 or "",
        " ".join(p for p in (shop.postal_code, shop.city) if p),
    ]
    _text(canvas, MARGIN, height - MARGIN - 32, [line for line in shop_lines if line], 9, 11)
    reference = order_reference(order)
    barcode = Code128(reference, barHeight=36, barWidth=1.1, humanReadable=True)
    barcode.drawOn(canvas, width - MARGIN - barcode.width, height - MARGIN - 50)
    y = height - MARGIN - 110
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(MARGIN, y, "Ship to")
    canvas.drawString(width / 2, y, "Order")
    _text(canvas, MARGIN, y - 16, _address(order.shipping_address, order.buyer_name))
    placed = order.placed_at or order.received_at
    _text(
        canvas,
        width / 2,
        y - 16,
        [
            f"{_channel_name(order.channel)} order {order.remote_order_id}",
            f"Placed {placed:%d %b %Y}" if placed else "",
            f"Buyer {order.buyer_name or '-'}",
        ],
    )
    y -= 120
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(MARGIN, y, "SKU")
    canvas.drawString(MARGIN + 110, y, "Item")
    canvas.drawRightString(width - MARGIN, y, "Qty")
    canvas.line(MARGIN, y - 4, width - MARGIN, y - 4)
    canvas.setFont("Helvetica", 10)
    for line in order.lines:
        y -= 16
        canvas.drawString(MARGIN, y, (line.sku or skus.get(line.product_id or 0) or "-")[:18])
        canvas.drawString(MARGIN + 110, y, (line.title or line.remote_listing_id or "-")[:70])
        canvas.drawRightString(width - MARGIN, y, str(line.quantity))
    canvas.setFont("Helvetica-Oblique", 10)
    canvas.drawString(
        MARGIN,
        MARGIN + 20,
        "Thank you for your order. Questions? Reply through the marketplace you bought on.",
    )
    canvas.showPage()


def packing_slips(orders: Sequence[Order], shop: Party, skus: Mapping[int, str] | None = None) -> bytes:
    """One A4 page per order."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setTitle("Packing slip" if len(orders) == 1 else f"Packing slips ({len(orders)} orders)")
    canvas.setAuthor("RIFF")
    for order in orders:
        _slip_page(canvas, order, shop, skus or {})
    canvas.save()
    return buffer.getvalue()


def pick_list(orders: Sequence[Order], skus: Mapping[int, str] | None = None) -> bytes:
    """Every line of ``orders`` grouped by SKU, with the orders it is for and a box to tick."""
    grouped: dict[str, dict[str, Any]] = {}
    for order in orders:
        for line in order.lines:
            key = (
                line.sku
                or (skus or {}).get(line.product_id or 0)
                or f"(no SKU) {line.title or line.remote_listing_id or '?'}"
            )
            entry = grouped.setdefault(key, {"title": line.title or "", "quantity": 0, "orders": []})
            entry["quantity"] += line.quantity
            entry["orders"].append(f"{order.channel}:{order.remote_order_id}")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setTitle(f"Pick list ({len(orders)} orders)")
    canvas.setAuthor("RIFF")
    width, height = A4
    y = height - MARGIN

    def header() -> float:
        canvas.setFont("Helvetica-Bold", 18)
        canvas.drawString(
            MARGIN, height - MARGIN - 10, f"Pick list: {len(orders)} orders, {len(grouped)} SKUs"
        )
        canvas.setFont("Helvetica-Bold", 10)
        top = height - MARGIN - 40
        for x, title in ((MARGIN + 18, "SKU"), (MARGIN + 120, "Item"), (width - MARGIN - 150, "Orders")):
            canvas.drawString(x, top, title)
        canvas.drawRightString(width - MARGIN, top, "Qty")
        canvas.line(MARGIN, top - 4, width - MARGIN, top - 4)
        return top - 4

    y = header()
    for sku in sorted(grouped):
        entry = grouped[sku]
        if y < MARGIN + 40:
            canvas.showPage()
            y = header()
        y -= 18
        canvas.rect(MARGIN, y - 2, 10, 10)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(MARGIN + 18, y, sku[:18])
        canvas.drawString(MARGIN + 120, y, entry["title"][:45])
        canvas.setFont("Helvetica", 8)
        canvas.drawString(width - MARGIN - 150, y, ", ".join(entry["orders"])[:40])
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawRightString(width - MARGIN, y, str(entry["quantity"]))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
