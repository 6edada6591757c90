"""Shopee Open Platform v2: the thin push (code 3: `ordersn`, `status`, `update_time`) and the
`v2.order.get_order_detail` response the adapter fetches after it."""

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
    masked,
    payment,
    phone,
)
from services.orders.adapters.platforms.payload import (
    Json,
    id_field,
    int_field,
    list_field,
    number_money,
    object_field,
    text,
    unix_time,
)
from services.orders.domain.contacts import clean
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine

CHANNEL: Final = "shopee"
ORDER_STATUS_PUSH: Final = 3
_INTENT: Final = {"CANCELLED": CANCELLED, "IN_CANCEL": ACTIVE, "TO_RETURN": RETURNING}


def detail_order(detail: Json) -> Json:
    """The order object out of a get_order_detail response (or the order itself)."""
    if "order_sn" in detail:
        return detail
    orders = list_field(object_field(detail, "response"), "order_list")
    if not orders:
        error = clean(detail.get("error")) or "no order in response.order_list"
        raise InvalidOrderPayload(f"Shopee order detail: {error}")
    return orders[0]


def parse_shopee_order(detail: Json, *, account: str) -> CanonicalOrder:
    if not isinstance(detail, Mapping):
        raise InvalidOrderPayload("Shopee order detail must be a JSON object")
    order = detail_order(detail)
    external_id = id_field(order.get("order_sn"), "order_sn")
    currency = currency_code(order.get("currency"))
    status = clean(order.get("order_status")) or "UNKNOWN"
    lines = []
    for i, item in enumerate(list_field(order, "item_list")):
        where = f"item_list[{i}]"
        quantity = int_field(item.get("model_quantity_purchased"), f"{where}.quantity", minimum=1)
        original = number_money(item.get("model_original_price"), f"{where}.price", currency)
        paid = number_money(
            item.get("model_discounted_price"), f"{where}.discounted", currency, default=original
        )
        if paid == 0 and clean(item.get("promotion_type")) == "bundle_deal":
            # Shopee does not spread a bundle deal over its items: the item says 0, and the
            # deal's discount is in total_amount only.
            paid = original
        lines.append(
            OrderLine(
                channel_line_id=f"{text(item.get('item_id'))}:{text(item.get('model_id')) or 0}",
                # The model's SKU when the item has variations, else the item's.
                channel_sku=clean(item.get("model_sku")) or clean(item.get("item_sku")),
                name=clean(item.get("item_name")) or "",
                quantity=quantity,
                unit_price=original,
                discount=max(0, (original - paid) * quantity),
            )
        )
    if not lines:
        raise InvalidOrderPayload("item_list is missing or empty")
    recipient = object_field(order, "recipient_address")
    country = country_code(recipient.get("region") or order.get("region"))
    total = number_money(order.get("total_amount"), "total_amount", currency)
    subtotal = sum(ln.unit_price * ln.quantity - ln.discount for ln in lines)
    shipping, voucher = _shipping_and_voucher(total, subtotal)
    cod = order.get("cod") is True
    vn = country == "VN"
    return build(
        CHANNEL,
        account,
        external_id,
        channel_order_name=external_id,
        status=_INTENT.get(status, ACTIVE),
        channel_status=status
        + (f"/{order['completed_scenario']}" if clean(order.get("completed_scenario")) else ""),
        placed_at=unix_time(order.get("create_time"), "create_time"),
        updated_at=unix_time(order.get("update_time"), "update_time"),
        currency=currency,
        lines=lines,
        subtotal=subtotal,
        shipping_fee=shipping,
        discount_total=voucher,
        total=total,
        taxes_included=True,
        payment=payment(
            method=clean(order.get("payment_method")) or "unknown",
            cod=cod,
            paid=not cod and order.get("pay_time") is not None,
            total=total,
        ),
        buyer=Buyer(name=masked(order.get("buyer_username")), phone=None),
        shipping_address=address(
            country=country,
            recipient=masked(recipient.get("name")),
            phone=recipient.get("phone"),
            line1=recipient.get("full_address"),
            # Vietnamese addresses are shifted one level: state = province, city = district,
            # district = ward (and town, when present, is the ward).
            ward=(recipient.get("town") or recipient.get("district"))
            if vn
            else recipient.get("district"),
            district=recipient.get("city") if vn else None,
            city=recipient.get("city"),
            province=recipient.get("state"),
            postal_code=recipient.get("zipcode"),
        ),
    )


def _shipping_and_voucher(total: int, subtotal: int) -> tuple[int, int]:
    """What the buyer paid for shipping, and the order vouchers, from `total_amount` (what the
    buyer pays: the items, plus the shipping the buyer bears, less Shopee's and the shop's
    vouchers). The order detail states neither: `estimated_shipping_fee` is Shopee's estimate
    and `actual_shipping_fee` the carrier's charge to the seller. What the total holds beyond
    the items is the buyer's shipping; when vouchers leave it below the items, the shortfall is
    the vouchers and the shipping 0. A voucher on an order whose buyer also paid shipping
    therefore shows as less shipping, not as a discount (the escrow detail would split them)."""
    beyond_items = total - subtotal
    return max(0, beyond_items), max(0, -beyond_items)


def buyer_phone(detail: Json, country: str = "VN") -> str | None:
    return phone(object_field(detail_order(detail), "recipient_address").get("phone"), country)
