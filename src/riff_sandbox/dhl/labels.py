"""Real PDF documents for sandbox shipments (reportlab): a 4x6 inch label with both addresses, a Code 128
barcode of the waybill number and the number in clear, and a one-page commercial invoice for customs.
Every page says SANDBOX so a printed one is never mistaken for a real waybill."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, inch
from reportlab.pdfgen.canvas import Canvas

LABEL_SIZE = (4 * inch, 6 * inch)


def _address_lines(details: Mapping[str, Any]) -> list[str]:
    postal = details.get("postalAddress") or {}
    contact = details.get("contactInformation") or {}
    lines = [str(contact.get("fullName") or "")]
    if contact.get("companyName") and contact.get("companyName") != contact.get("fullName"):
        lines.append(str(contact["companyName"]))
    lines += [str(postal.get(key) or "") for key in ("addressLine1", "addressLine2", "addressLine3")]
    lines.append(" ".join(str(postal.get(key) or "") for key in ("postalCode", "cityName")).strip())
    lines.append(str(postal.get("countryCode") or ""))
    if contact.get("phone"):
        lines.append(f"Tel {contact['phone']}")
    return [line for line in lines if line.strip()]


def _block(canvas: Canvas, x: float, y: float, title: str, lines: Sequence[str], size: int) -> float:
    canvas.setFont("Helvetica-Bold", 7)
    canvas.drawString(x, y, title)
    y -= size + 3
    canvas.setFont("Helvetica", size)
    for line in lines:
        canvas.drawString(x, y, line[:48])
        y -= size + 2
    return y


def render_label(shipment: Mapping[str, Any]) -> bytes:
    """One 4x6 inch page per piece, as DHL prints them."""
    request = shipment["request"]
    packages = (request.get("content") or {}).get("packages") or [{}]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LABEL_SIZE, invariant=1)
    canvas.setTitle(f"DHL Express label {shipment['shipmentTrackingNumber']} (sandbox)")
    canvas.setAuthor("RIFF DHL sandbox")
    for piece, package in enumerate(packages, start=1):
        _label_page(canvas, shipment, package, piece, len(packages))
    canvas.save()
    return buffer.getvalue()


def _label_page(
    canvas: Canvas, shipment: Mapping[str, Any], package: Mapping[str, Any], piece: int, pieces: int
) -> None:
    request = shipment["request"]
    details = request.get("customerDetails") or {}
    number = str(shipment["shipmentTrackingNumber"])
    width, height = LABEL_SIZE
    margin = 12
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(margin, height - 28, "DHL EXPRESS")
    canvas.setFont("Helvetica-Bold", 9)
    canvas.drawRightString(
        width - margin, height - 24, f"{shipment['productName']} ({request.get('productCode')})"
    )
    canvas.setFont("Helvetica", 7)
    canvas.drawRightString(width - margin, height - 34, f"Piece {piece}/{pieces}")
    canvas.line(margin, height - 42, width - margin, height - 42)
    y = _block(canvas, margin, height - 54, "FROM", _address_lines(details.get("shipperDetails") or {}), 7)
    canvas.line(margin, y, width - margin, y)
    y = _block(canvas, margin, y - 12, "TO", _address_lines(details.get("receiverDetails") or {}), 10)
    canvas.line(margin, y, width - margin, y)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(margin, y - 12, f"Weight: {package.get('weight', '?')} kg")
    canvas.drawString(
        margin + 100, y - 12, f"Date: {str(request.get('plannedShippingDateAndTime', ''))[:10]}"
    )
    references = [r.get("value") for r in request.get("customerReferences") or [] if isinstance(r, dict)]
    if references:
        canvas.drawString(margin, y - 22, f"Ref: {references[0]}")
    barcode = Code128(number, barHeight=60, barWidth=1.4, humanReadable=False)
    barcode.drawOn(canvas, (width - barcode.width) / 2, 70)
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawCentredString(width / 2, 52, f"WAYBILL {number[:2]} {number[2:6]} {number[6:]}")
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawCentredString(width / 2, 24, "SANDBOX - NOT A REAL WAYBILL - DO NOT SHIP")
    canvas.showPage()


def render_invoice(shipment: Mapping[str, Any]) -> bytes:
    request = shipment["request"]
    content = request.get("content") or {}
    declaration = content.get("exportDeclaration") or {}
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setTitle(f"Commercial invoice {shipment['shipmentTrackingNumber']} (sandbox)")
    width, height = A4
    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(40, height - 50, "COMMERCIAL INVOICE")
    canvas.setFont("Helvetica", 9)
    canvas.drawString(
        40, height - 66, f"Waybill {shipment['shipmentTrackingNumber']} - sandbox, not a customs document"
    )
    details = request.get("customerDetails") or {}
    _block(canvas, 40, height - 96, "EXPORTER", _address_lines(details.get("shipperDetails") or {}), 9)
    _block(canvas, 300, height - 96, "CONSIGNEE", _address_lines(details.get("receiverDetails") or {}), 9)
    y = height - 230
    canvas.setFont("Helvetica-Bold", 9)
    for x, title in ((40, "#"), (60, "Description"), (330, "HS code"), (410, "Qty"), (450, "Unit value")):
        canvas.drawString(x, y, title)
    canvas.setFont("Helvetica", 9)
    currency = content.get("declaredValueCurrency") or ""
    for item in declaration.get("lineItems") or []:
        y -= 14
        codes = item.get("commodityCodes") or [{}]
        canvas.drawString(40, y, str(item.get("number", "")))
        canvas.drawString(60, y, str(item.get("description", ""))[:50])
        canvas.drawString(330, y, str(codes[0].get("value", "")))
        canvas.drawString(410, y, str((item.get("quantity") or {}).get("value", "")))
        canvas.drawString(450, y, f"{item.get('price', '')} {currency}")
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(
        40,
        y - 24,
        f"Declared value: {content.get('declaredValue', '')} {currency}  Incoterm: {content.get('incoterm', '')}",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
