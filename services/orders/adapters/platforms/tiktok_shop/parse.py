"""TikTok Shop: the order status webhook (type 1: `order_id`, `order_status`) and the Get Order
Detail response (API 202309) fetched after it. Line items come one per unit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from services.orders.adapters.platforms.common import (
    ACTIVE,
    CANCELLED,
    address,
    build,
    country_code,
    currency_code,
    line_price,
    masked,
    payment,
)
from services.orders.adapters.platforms.payload import (
    Json,
    id_field,
    list_field,
    money_field,
    object_field,
    unix_time,
)
from services.orders.domain.contacts import clean
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine

CHANNEL: Final = "tiktok-shop"
ORDER_STATUS_CHANGE: Final = 1
# The webhook says CANCEL where the API says CANCELLED.
WEBHOOK_STATUS: Final = {"CANCEL": "CANCELLED"}
_INTENT: Final = {"CANCELLED": CANCELLED}
# Charges the buyer pays besides shipping: US retail delivery fee, Thailand's small-order fee,
# Indonesia's service fee.
_BUYER_FEES: Final = ("retail_delivery_fee", "small_order_fee", "buyer_service_fee")


def detail_order(detail: Json) -> Json:
    if "line_items" in detail:
        return detail
    orders = list_field(object_field(detail, "data"), "orders")
    if not orders:
        raise InvalidOrderPayload(
            f"TikTok order detail: {clean(detail.get('message')) or 'no order in data.orders'}"
        )
    return orders[0]


def parse_tiktok_order(detail: Json, *, account: str) -> CanonicalOrder:
    if not isinstance(detail, Mapping):
        raise InvalidOrderPayload("TikTok order detail must be a JSON object")
    order = detail_order(detail)
    external_id = id_field(order.get("id"), "id")
    pay = object_field(order, "payment")
    currency = currency_code(pay.get("currency"))
    grouped: dict[str, list[Json]] = {}
    for i, item in enumerate(list_field(order, "line_items")):
        key = clean(item.get("seller_sku")) or clean(item.get("sku_id")) or f"item-{i}"
        grouped.setdefault(key, []).append(item)
    if not grouped:
        raise InvalidOrderPayload("line_items is missing or empty")
    lines = []
    for key, rows in grouped.items():
        first = rows[0]
        # Each row is one unit: original_price before, sale_price after the seller's and
        # TikTok's product discounts.
        gross = net = 0
        for row in rows:
            price = money_field(
                row.get("original_price") or row.get("sale_price"), f"{key}.price", currency
            )
            gross += price
            net += money_field(row.get("sale_price"), f"{key}.sale_price", currency, default=price)
        unit_price, discount = line_price(gross, net, len(rows), key)
        lines.append(
            OrderLine(
                channel_line_id=key,
                channel_sku=clean(first.get("seller_sku")),
                name=clean(first.get("product_name")) or "",
                quantity=len(rows),
                unit_price=unit_price,
                discount=discount,
                cancelled_quantity=sum(clean(r.get("display_status")) == "CANCELLED" for r in rows),
            )
        )
    status = clean(order.get("status")) or "UNKNOWN"
    total = money_field(pay.get("total_amount"), "payment.total_amount", currency)

    def amount(field: str) -> int:
        return money_field(pay.get(field), f"payment.{field}", currency, default=0)

    recipient = object_field(order, "recipient_address")
    country = country_code(recipient.get("region_code"))
    levels = {
        clean(d.get("address_level")): clean(d.get("address_name"))
        for d in list_field(recipient, "district_info")
    }
    cod = order.get("is_cod") is True
    return build(
        CHANNEL,
        account,
        external_id,
        channel_order_name=external_id,
        status=_INTENT.get(status, ACTIVE),
        channel_status=status,
        placed_at=unix_time(order.get("create_time"), "create_time"),
        updated_at=unix_time(order.get("update_time") or order.get("create_time"), "update_time"),
        currency=currency,
        lines=lines,
        # sub_total is after the seller's and TikTok's product discounts, which are on the
        # lines: seller_discount and platform_discount are not taken off again.
        subtotal=money_field(
            pay.get("sub_total"),
            "payment.sub_total",
            currency,
            default=sum(ln.unit_price * ln.quantity - ln.discount for ln in lines),
        ),
        shipping_fee=amount("shipping_fee"),  # after the shipping discounts
        fee_total=sum(amount(f) for f in _BUYER_FEES),
        tax_total=amount("tax"),
        # total_amount = sub_total + shipping_fee + taxes + fees: taxes come on top.
        taxes_included=False,
        total=total,
        payment=payment(
            method=clean(order.get("payment_method_name")) or "unknown",
            cod=cod,
            paid=not cod and order.get("paid_time") is not None,
            total=total,
        ),
        # Masked once TikTok ships: masked values are kept out of the canonical buyer.
        buyer=Buyer(name=masked(recipient.get("name")), email=clean(order.get("buyer_email"))),
        shipping_address=address(
            country=country,
            recipient=masked(recipient.get("name")),
            phone=recipient.get("phone_number"),
            line1=recipient.get("address_line1"),
            line2=recipient.get("address_line2"),
            province=levels.get("L1"),
            district=levels.get("L2") if "L3" in levels else None,
            ward=levels.get("L3") or levels.get("L2"),
            postal_code=recipient.get("postal_code"),
        ),
    )
