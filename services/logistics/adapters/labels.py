"""The A6 shipping label: sender and recipient, the COD amount, the tracking barcode (Code 128)
and a QR code of the product's story page in the catalog.

Text is folded to ASCII: the PDF's built-in fonts lack Vietnamese letters, and carriers' label
printers read the folded form (as on SMS) without fail.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any
from urllib.parse import quote

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode import code128, qr
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas


def fold(text: str | None) -> str:
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def money(amount: int, currency: str | None) -> str:
    return f"{amount:,}".replace(",", ".") + f" {currency or ''}".rstrip()


def story_url(base_url: str, sku: str) -> str:
    """The catalog's story page of `sku`, which holds the SKU as one percent-encoded segment."""
    return f"{base_url.rstrip('/')}/p/{quote(sku, safe='')}"


def render_label(shipment: dict[str, Any], base_url: str) -> bytes:
    width, height = A6
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A6, pageCompression=0)  # readable text: tests, audits
    tracking = shipment.get("tracking_number") or shipment["shipment_id"]
    pdf.setTitle(f"Label {tracking}")
    y = height - 10 * mm

    def line(text: str, size: float = 8, bold: bool = False) -> None:
        nonlocal y
        pdf.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        pdf.drawString(6 * mm, y, fold(text)[:70])
        y -= size + 3

    line(f"OVOP pickup  {shipment.get('order_ref') or ''}", 11, bold=True)
    contact, loc = shipment.get("contact") or {}, shipment.get("location") or {}
    line("FROM", 7, bold=True)
    line(contact.get("name", shipment["producer_id"]))
    line(", ".join(p for p in (loc.get("village"), loc.get("district"), loc.get("province")) if p))
    line(contact.get("phone", ""))
    to = shipment.get("shipping_address") or {}
    line("TO", 7, bold=True)
    line(to.get("recipient") or "(recipient on the order)", 9, bold=True)
    line(", ".join(p for p in (to.get("line1"), to.get("line2")) if p))
    line(", ".join(p for p in (to.get("ward"), to.get("district"), to.get("province")) if p))
    line(to.get("phone") or "")
    cod = shipment.get("cod_amount") or 0
    line(f"COD: {money(cod, shipment.get('currency'))}" if cod else "COD: none (prepaid)", 12,
         bold=True)
    items = shipment.get("lines") or []
    for item in items[:3]:
        line(f"{item['quantity']} x {item['name']}", 7)
    barcode = code128.Code128(tracking, barHeight=14 * mm, barWidth=0.28 * mm, humanReadable=True)
    barcode.drawOn(pdf, 5 * mm, 24 * mm)
    if items:
        url = story_url(base_url, items[0]["sku"])
        widget = qr.QrCodeWidget(url)
        x0, y0, x1, y1 = widget.getBounds()
        size = 22 * mm
        drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, pdf, width - size - 4 * mm, 2 * mm)
        pdf.setFont("Helvetica", 6)
        pdf.drawString(6 * mm, 6 * mm, fold(url)[:60])
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
