"""Tiki: no push. The poller pulls its event queue (ORDER_CREATED_SUCCESSFULLY,
ORDER_STATUS_UPDATED), acks, then fetches `GET /integration/v2/orders/{code}`, parsed here."""

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
    order_discount,
    payment,
    phone,
)
from services.orders.adapters.platforms.payload import (
    Json,
    id_field,
    int_field,
    list_field,
    local_time,
    number_money,
    object_field,
)
from services.orders.domain.contacts import clean
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine

CHANNEL: Final = "tiki"
ORDER_EVENTS: Final = frozenset({"ORDER_CREATED_SUCCESSFULLY", "ORDER_STATUS_UPDATED"})
_INTENT: Final = {"canceled": CANCELLED, "closed": CANCELLED, "returned": RETURNING}
VIETNAM_UTC_OFFSET: Final = 7  # Tiki's dates carry no zone: they are Vietnam time


def parse_tiki_order(detail: Json, *, account: str) -> CanonicalOrder:
    if not isinstance(detail, Mapping):
        raise InvalidOrderPayload("Tiki order must be a JSON object")
    data = detail.get("data")
    order: Json = data if isinstance(data, Mapping) else detail
    external_id = id_field(order.get("code"), "code")
    currency = "VND"
    lines = []
    for i, item in enumerate(list_field(order, "items")):
        where = f"items[{i}]"
        product, inv = object_field(item, "product"), object_field(item, "invoice")
        quantity = int_field(item.get("qty"), f"{where}.qty", minimum=1)
        lines.append(
            OrderLine(
                channel_line_id=str(item.get("id")) if item.get("id") is not None else None,
                # The seller's own SKU, not Tiki's 13-digit one.
                channel_sku=clean(product.get("seller_product_code")),
                name=clean(product.get("name")) or "",
                quantity=quantity,
                unit_price=number_money(inv.get("price"), f"{where}.invoice.price", currency),
                discount=number_money(
                    inv.get("discount_amount"), f"{where}.discount", currency, default=0
                ),
                cancelled_quantity=quantity if item.get("is_cancelled") is True else 0,
            )
        )
    if not lines:
        raise InvalidOrderPayload("items is missing or empty")
    status = clean(order.get("status")) or "unknown"
    inv = object_field(order, "invoice")
    total = number_money(inv.get("grand_total"), "invoice.grand_total", currency)

    def amount(field: str) -> int:
        return number_money(inv.get(field), f"invoice.{field}", currency, default=0)

    method = clean(object_field(order, "payment").get("method")) or "unknown"
    cod = method == "cod"
    ship = object_field(object_field(order, "shipping"), "address")
    customer = object_field(order, "customer")
    return build(
        CHANNEL,
        account,
        external_id,
        channel_order_name=external_id,
        status=_INTENT.get(status, ACTIVE),
        channel_status=status,
        placed_at=local_time(order.get("created_at"), "created_at", VIETNAM_UTC_OFFSET),
        updated_at=local_time(
            order.get("updated_at") or order.get("created_at"), "updated_at", VIETNAM_UTC_OFFSET
        ),
        currency=currency,
        lines=lines,
        # invoice.subtotal is before discounts; ours is after the lines' own.
        subtotal=sum(ln.unit_price * ln.quantity - ln.discount for ln in lines),
        shipping_fee=amount("shipping_amount_after_discount"),
        # discount_amount is every discount, the items' included.
        discount_total=order_discount(amount("discount_amount"), lines),
        fee_total=amount("handling_fee") + amount("other_fee"),
        total=total,
        taxes_included=True,  # Vietnamese prices include VAT
        payment=payment(
            method=method,
            cod=cod,
            paid=not cod,
            total=total,
            # The cash the courier collects, which vouchers may make lower than the total.
            collect=number_money(
                inv.get("collectible_amount"), "collectible_amount", currency, default=total
            ),
        ),
        buyer=Buyer(
            name=clean(customer.get("full_name")),
            phone=phone(customer.get("phone"), "VN"),
            email=clean(customer.get("email")),
        ),
        shipping_address=address(
            country=country_code(ship.get("country")),
            recipient=ship.get("full_name"),
            phone=ship.get("phone"),
            line1=ship.get("street"),
            ward=ship.get("ward"),
            district=ship.get("district"),
            province=ship.get("region"),
        ),
    )
