"""Lazada: the push (message_type 0, one per order line) and the `/order/get` and
`/order/items/get` responses, which the adapter fetches and combines as
`{"order": <GetOrder response>, "items": <GetOrderItems response>}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from services.orders.adapters.platforms.common import (
    ACTIVE,
    CANCELLED,
    RETURNING,
    address,
    build,
    country_code,
    currency_code,
    line_price,
    masked,
    order_discount,
    payment,
)
from services.orders.adapters.platforms.payload import (
    Json,
    id_field,
    local_time,
    money_field,
    number_money,
    object_field,
    text,
)
from services.orders.domain.contacts import clean, full_name
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine

CHANNEL: Final = "lazada"
_CANCELLED_ITEM: Final = frozenset({"canceled", "cancelled", "failed", "lost_by_3pl"})
_RETURNED_ITEM: Final = frozenset({"returned", "shipped_back", "shipped_back_success"})
_SITE_CURRENCY: Final = {
    "VN": "VND",
    "TH": "THB",
    "MY": "MYR",
    "SG": "SGD",
    "PH": "PHP",
    "ID": "IDR",
}


def _data(body: object) -> object:
    return body.get("data", body) if isinstance(body, Mapping) else body


def parse_lazada_order(detail: Json, *, account: str) -> CanonicalOrder:
    if not isinstance(detail, Mapping):
        raise InvalidOrderPayload("Lazada detail must be a JSON object")
    order = _data(detail.get("order"))
    items = _data(detail.get("items"))
    if not isinstance(order, Mapping) or not isinstance(items, list) or not items:
        raise InvalidOrderPayload("Lazada detail needs `order` and a non-empty `items` list")
    items = [i for i in items if isinstance(i, Mapping)]
    external_id = id_field(order.get("order_id") or order.get("order_number"), "order_id")
    shipping = object_field(order, "address_shipping")
    country = country_code(shipping.get("country"))
    currency = currency_code(
        next((i.get("currency") for i in items if i.get("currency")), None),
        _SITE_CURRENCY.get(country),
    )
    # One row per unit and no quantity field: group the rows by SKU and count them.
    grouped: dict[str, list[Json]] = {}
    for i, item in enumerate(items):
        key = clean(item.get("sku")) or clean(item.get("shop_sku")) or f"item-{i}"
        grouped.setdefault(key, []).append(item)
    lines, statuses = [], set()
    for key, rows in grouped.items():
        first = rows[0]
        # Each row is one unit: item_price before, paid_price after its share of the vouchers.
        gross = net = 0
        for row in rows:
            price = money_field(row.get("item_price"), f"items[{key}].item_price", currency)
            gross += price
            net += money_field(
                row.get("paid_price"), f"items[{key}].paid_price", currency, default=price
            )
        unit_price, discount = line_price(gross, net, len(rows), f"items[{key}]")
        row_status = [clean(r.get("status")) or "pending" for r in rows]
        statuses.update(row_status)
        cancelled = sum(s in _CANCELLED_ITEM for s in row_status)
        lines.append(
            OrderLine(
                channel_line_id=key,
                channel_sku=clean(first.get("sku")),
                name=clean(first.get("name")) or "",
                quantity=len(rows),
                unit_price=unit_price,
                discount=discount,
                cancelled_quantity=cancelled,
            )
        )
    # shipping_fee is what the buyer pays for shipping, after the shipping discounts.
    fee = _order_money(order, "shipping_fee", currency)
    # `voucher` is the seller's and Lazada's vouchers together, also spread over the items'
    # paid_price; `price` is the items before them. Lazada states no total: the buyer pays
    # the items and the shipping, less the vouchers.
    voucher = _order_money(order, "voucher", currency)
    total = number_money(order.get("price"), "price", currency) + fee - voucher
    cod = (clean(order.get("payment_method")) or "").upper() == "COD"
    given, family = clean(shipping.get("first_name")), clean(shipping.get("last_name"))
    status = "/".join(sorted(statuses))
    intent = ACTIVE
    if statuses and statuses <= _CANCELLED_ITEM:
        intent = CANCELLED
    elif statuses and statuses <= (_RETURNED_ITEM | _CANCELLED_ITEM):
        intent = RETURNING
    return build(
        CHANNEL,
        account,
        external_id,
        channel_order_name=text(order.get("order_number")) or external_id,
        status=intent,
        channel_status=status,  # per item: an order can hold mixed statuses
        placed_at=local_time(order.get("created_at"), "created_at", 7),
        updated_at=local_time(order.get("updated_at") or order.get("created_at"), "updated_at", 7),
        currency=currency,
        lines=lines,
        subtotal=sum(ln.unit_price * ln.quantity - ln.discount for ln in lines),
        shipping_fee=fee,
        discount_total=order_discount(voucher, lines),
        total=total,
        taxes_included=True,
        payment=payment(
            method=clean(order.get("payment_method")) or "unknown",
            cod=cod,
            paid=not cod,
            total=total,
        ),
        buyer=Buyer(
            name=masked(
                full_name(
                    clean(order.get("customer_first_name")),
                    clean(order.get("customer_last_name")),
                    country,
                )
            ),
        ),
        shipping_address=address(
            country=country,
            recipient=masked(full_name(given, family, country)),
            phone=shipping.get("phone"),
            line1=shipping.get("address1"),
            line2=shipping.get("address2"),
            province=shipping.get("address3"),
            district=shipping.get("address4"),
            ward=shipping.get("address5"),
            city=shipping.get("city"),
            postal_code=shipping.get("post_code"),
        ),
    )


def _order_money(order: Json, field: str, currency: str) -> int:
    # Lazada sends these as JSON numbers or decimal strings, empty or absent when zero.
    raw = order.get(field)
    return number_money(None if raw == "" else raw, field, currency, default=0)
