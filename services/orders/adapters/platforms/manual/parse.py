"""Manual orders typed in by the operator (phone, Zalo, market stall): the `POST /orders` body,
and CSV rows (one row per line, rows sharing `order_ref` make one order)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from services.orders.adapters.platforms.common import (
    ACTIVE,
    address,
    build,
    country_code,
    currency_code,
    payment,
    phone,
)
from services.orders.adapters.platforms.payload import (
    Json,
    id_field,
    int_field,
    number_money,
    object_field,
)
from services.orders.domain.contacts import clean
from services.orders.domain.errors import InvalidOrderPayload, OrderError
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine

CHANNEL: Final = "manual"
CSV_COLUMNS: Final = (
    "order_ref",
    "account",
    "placed_at",
    "currency",
    "sku",
    "name",
    "quantity",
    "unit_price",
    "discount",
    "shipping_fee",
    "discount_total",
    "total",
    "payment_method",
    "paid",
    "buyer_name",
    "buyer_phone",
    "buyer_email",
    "recipient",
    "phone",
    "line1",
    "line2",
    "ward",
    "district",
    "province",
    "country",
    "postal_code",
)


def parse_manual_order(body: Json, *, now: datetime) -> CanonicalOrder:
    """`now` stands in for placed_at when the operator did not give one."""
    if not isinstance(body, Mapping):
        raise InvalidOrderPayload("the order must be a JSON object")
    account = clean(body.get("account")) or "phone"
    external_id = id_field(body.get("order_ref") or body.get("external_id"), "order_ref")
    currency = currency_code(body.get("currency"), "VND")
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidOrderPayload("lines is missing or empty")
    lines = []
    for i, item in enumerate(raw_lines):
        where = f"lines[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidOrderPayload(f"{where} must be an object")
        sku = clean(item.get("sku"))
        lines.append(
            OrderLine(
                sku=sku,  # the operator types our own SKU
                channel_sku=sku,
                name=clean(item.get("name")) or sku or "",
                quantity=int_field(item.get("quantity"), f"{where}.quantity", minimum=1),
                unit_price=number_money(item.get("unit_price"), f"{where}.unit_price", currency),
                discount=number_money(
                    item.get("discount"), f"{where}.discount", currency, default=0
                ),
            )
        )
    fee = number_money(body.get("shipping_fee"), "shipping_fee", currency, default=0)
    discount = number_money(body.get("discount_total"), "discount_total", currency, default=0)
    subtotal = sum(ln.unit_price * ln.quantity - ln.discount for ln in lines)
    # The total the buyer agreed to, when the operator typed one: checked against the lines,
    # never replaced by them, so a typing mistake waits for the operator instead of being
    # collected.
    total = number_money(body.get("total"), "total", currency, default=subtotal - discount + fee)
    pay = object_field(body, "payment")
    method = clean(pay.get("method")) or "cod"
    buyer, ship = object_field(body, "buyer"), object_field(body, "shipping_address")
    country = country_code(ship.get("country"))
    placed = body.get("placed_at")
    try:
        placed_at = datetime.fromisoformat(placed) if isinstance(placed, str) else now
    except ValueError:
        raise InvalidOrderPayload(f"placed_at is not an ISO 8601 time: {placed!r}") from None
    if placed_at.tzinfo is None:
        placed_at = placed_at.replace(tzinfo=UTC)
    return build(
        CHANNEL,
        account,
        external_id,
        channel_order_name=external_id,
        status=ACTIVE,
        channel_status="manual",
        placed_at=placed_at,
        updated_at=placed_at,
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        shipping_fee=fee,
        discount_total=discount,
        total=total,
        taxes_included=True,  # the operator types what the buyer pays
        payment=payment(
            method=method, cod=method == "cod", paid=pay.get("paid") is True, total=total
        ),
        buyer=Buyer(
            name=clean(buyer.get("name")),
            phone=phone(buyer.get("phone"), country),
            email=clean(buyer.get("email")),
        ),
        shipping_address=address(
            country=country,
            recipient=ship.get("recipient") or buyer.get("name"),
            phone=ship.get("phone") or buyer.get("phone"),
            line1=ship.get("line1"),
            line2=ship.get("line2"),
            ward=ship.get("ward"),
            district=ship.get("district"),
            province=ship.get("province"),
            postal_code=ship.get("postal_code"),
        )
        if ship
        else None,
    )


def parse_manual_csv(
    text: str, *, now: datetime
) -> tuple[list[CanonicalOrder], list[dict[str, Any]]]:
    """The orders in a CSV export, and an error per order that could not be read (with its
    rows), so one bad order never blocks the others."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"order_ref", "sku", "quantity", "unit_price"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidOrderPayload(f"CSV lacks the columns {sorted(missing)}")
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(reader, start=2):
        groups.setdefault((row.get("order_ref") or "").strip(), []).append((number, row))
    orders, errors = [], []
    for ref, rows in groups.items():
        first = rows[0][1]
        try:
            body = {
                "order_ref": ref or None,
                "account": first.get("account") or "import",
                "placed_at": first.get("placed_at") or None,
                "currency": first.get("currency") or "VND",
                "shipping_fee": first.get("shipping_fee") or 0,
                "discount_total": first.get("discount_total") or None,
                "total": first.get("total") or None,
                "payment": {
                    "method": first.get("payment_method") or "cod",
                    "paid": (first.get("paid") or "").lower() in ("1", "true", "yes"),
                },
                "buyer": {
                    "name": first.get("buyer_name"),
                    "phone": first.get("buyer_phone"),
                    "email": first.get("buyer_email"),
                },
                "shipping_address": {
                    k: first.get(k)
                    for k in (
                        "recipient",
                        "phone",
                        "line1",
                        "line2",
                        "ward",
                        "district",
                        "province",
                        "country",
                        "postal_code",
                    )
                },
                "lines": [
                    {
                        "sku": r.get("sku"),
                        "name": r.get("name"),
                        "quantity": r.get("quantity"),
                        "unit_price": (r.get("unit_price") or "").strip() or None,
                        "discount": (r.get("discount") or "").strip() or None,
                    }
                    for _, r in rows
                ],
            }
            orders.append(parse_manual_order(body, now=now))
        except OrderError as exc:
            errors.append({"order_ref": ref, "rows": [n for n, _ in rows], "error": str(exc)})
    return orders, errors
