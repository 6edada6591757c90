"""Shopify: turn an Order resource (the `orders/create` / `orders/updated` webhook body) into a
CanonicalOrder. Unknown fields are ignored so Shopify can add fields without breaking us."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from pydantic import ValidationError

from services.orders.adapters.platforms.payload import (
    Json,
    money_field,
    object_field,
    timestamp_field,
)
from services.orders.adapters.platforms.shopify.contacts import (
    first_country,
    shopify_address,
    shopify_buyer,
)
from services.orders.domain.contacts import clean
from services.orders.domain.errors import InvalidMoney, InvalidOrderPayload
from services.orders.domain.model import CanonicalOrder, OrderLine, Payment, order_id_for
from services.orders.domain.money import currency_exponent
from services.orders.domain.status import OrderStatus

CHANNEL: Final = "shopify"
# partially_refunded: the buyer did pay; the refund is settled outside fulfilment.
_PAID_FINANCIAL_STATUSES: Final = frozenset({"paid", "partially_refunded"})
# COD is a manual payment method the shop names itself: "Cash on Delivery (COD)", "cod", or in
# Vietnamese shops "Thanh toán khi nhận hàng (COD)".
_COD_GATEWAY: Final = re.compile(r"\bcod\b|cash.on.delivery|khi (nhận|giao) hàng", re.IGNORECASE)


def parse_shopify_order(payload: Json, *, account: str) -> CanonicalOrder:
    """Parse a Shopify Order for the shop `account` (its myshopify domain).

    New orders start as PENDING_STOCK; an order with `cancelled_at` is CANCELLED. Line `sku` stays
    None until `map_skus`. Raises `InvalidOrderPayload` naming the field when a required field is
    missing or an amount is unusable.
    """
    if not isinstance(payload, Mapping):
        raise InvalidOrderPayload("Shopify order payload must be a JSON object")
    external_id = read_external_id(payload)
    try:
        return _parse(payload, account, external_id)
    except InvalidOrderPayload as exc:
        raise InvalidOrderPayload(f"Shopify order {external_id}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'order'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidOrderPayload(f"Shopify order {external_id}: {problems}") from exc


def _parse(payload: Json, account: str, external_id: str) -> CanonicalOrder:
    currency = _currency(payload)

    def amount(field: str, default: int | None = None) -> int:
        return money_field(payload.get(field), field, currency, default=default)

    lines = _lines(payload.get("line_items"), currency)
    placed_at = timestamp_field(payload, "created_at")
    total = amount("total_price")
    shipping_address = object_field(payload, "shipping_address")
    billing_address = object_field(payload, "billing_address")
    default_address = object_field(object_field(payload, "customer"), "default_address")
    country = first_country(shipping_address, billing_address, default_address)
    has_update_time = payload.get("updated_at") is not None
    shipping_fee, shipping_discount = _shipping(payload, currency)
    return CanonicalOrder(
        order_id=order_id_for(CHANNEL, account, external_id),
        channel=CHANNEL,
        account=account,
        external_id=external_id,
        channel_order_name=clean(payload.get("name")),
        status=OrderStatus.CANCELLED if payload.get("cancelled_at") else OrderStatus.PENDING_STOCK,
        channel_status=_channel_status(payload),
        placed_at=placed_at,
        updated_at=timestamp_field(payload, "updated_at") if has_update_time else placed_at,
        currency=currency,
        lines=lines,
        # subtotal_price is the lines after every discount allocated to them.
        subtotal=amount(
            "subtotal_price", sum(x.unit_price * x.quantity - x.discount for x in lines)
        ),
        shipping_fee=shipping_fee,
        # total_discounts counts the discounts already allocated to lines and shipping.
        discount_total=max(
            0, amount("total_discounts", 0) - sum(x.discount for x in lines) - shipping_discount
        ),
        fee_total=_fees(payload, currency),
        tax_total=amount("total_tax", 0),
        taxes_included=payload.get("taxes_included") is True,
        total=total,
        payment=_payment(payload, currency, total),
        buyer=shopify_buyer(payload, billing_address, country),
        shipping_address=shopify_address(shipping_address) if shipping_address else None,
    )


def _currency(payload: Json) -> str:
    currency = (clean(payload.get("currency")) or "").upper()
    if not currency:
        raise InvalidOrderPayload("currency is missing")
    try:
        currency_exponent(currency)
    except InvalidMoney as exc:
        raise InvalidOrderPayload(f"currency: {exc}") from None
    return currency


def read_external_id(payload: Json) -> str:
    raw = payload.get("id")
    # Shopify sends a JSON integer; bool is excluded because True is an int in Python.
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return str(raw)
    if isinstance(raw, str) and re.fullmatch(r"[1-9][0-9]*", raw.strip()):
        return raw.strip()
    raise InvalidOrderPayload(f"Shopify order payload has no usable id (got {raw!r})")


def _lines(raw: object, currency: str) -> list[OrderLine]:
    if not isinstance(raw, list) or not raw:
        raise InvalidOrderPayload("line_items is missing or empty")
    lines = []
    for i, item in enumerate(raw):
        where = f"line_items[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidOrderPayload(f"{where} is not an object")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise InvalidOrderPayload(
                f"{where}.quantity must be a positive integer, got {quantity!r}"
            )
        name = clean(item.get("name")) or clean(item.get("title"))  # "name" includes the variant
        line_id = item.get("id")
        lines.append(
            OrderLine(
                channel_line_id=str(line_id) if line_id is not None else None,
                channel_sku=clean(item.get("sku")),  # stripped: sellers type trailing spaces
                name=name or "",
                quantity=quantity,
                unit_price=money_field(item.get("price"), f"{where}.price", currency),
                discount=_line_discount(item, where, currency),
                cancelled_quantity=_removed(item, quantity),
            )
        )
    return lines


def _removed(item: Json, quantity: int) -> int:
    """Units removed by an order edit or a partial cancellation: `current_quantity` is what is
    left of the line (absent on older API versions: nothing removed)."""
    current = item.get("current_quantity")
    if isinstance(current, int) and not isinstance(current, bool) and 0 <= current <= quantity:
        return quantity - current
    return 0


def _line_discount(item: Json, where: str, currency: str) -> int:
    # discount_allocations replaced the deprecated total_discount; prefer it when present.
    allocations = item.get("discount_allocations")
    if isinstance(allocations, list) and allocations:
        return _allocated(item, where, currency)
    return money_field(item.get("total_discount"), f"{where}.total_discount", currency, default=0)


def _shipping(payload: Json, currency: str) -> tuple[int, int]:
    """What the buyer pays for shipping, and the shipping discounts taken off it: each shipping
    line's price less its discount allocations. `total_shipping_price_set` is before those
    discounts, so it stands in only when the order has no shipping lines."""
    raw = payload.get("shipping_lines")
    lines = [
        ln
        for ln in (raw if isinstance(raw, list) else [])
        if isinstance(ln, Mapping) and ln.get("is_removed") is not True
    ]
    if not lines:
        shop_money = object_field(object_field(payload, "total_shipping_price_set"), "shop_money")
        field = "total_shipping_price_set.shop_money.amount"
        return money_field(shop_money.get("amount"), field, currency, default=0), 0
    price = discount = 0
    for i, line in enumerate(lines):
        price += money_field(line.get("price"), f"shipping_lines[{i}].price", currency, default=0)
        discount += _allocated(line, f"shipping_lines[{i}]", currency)
    return price - discount, discount


def _allocated(item: Json, where: str, currency: str) -> int:
    allocations = item.get("discount_allocations")
    return sum(
        money_field(
            a.get("amount") if isinstance(a, Mapping) else None,
            f"{where}.discount_allocations[{j}].amount",
            currency,
        )
        for j, a in enumerate(allocations if isinstance(allocations, list) else [])
    )


def _fees(payload: Json, currency: str) -> int:
    """What the buyer pays besides the lines, shipping and tax: tips, additional fees, and
    duties unless the prices include them."""
    fees = money_field(payload.get("total_tip_received"), "total_tip_received", currency, default=0)
    sets = ["original_total_additional_fees_set"]
    if payload.get("duties_included") is not True:
        sets.append("original_total_duties_set")
    for name in sets:
        shop_money = object_field(object_field(payload, name), "shop_money")
        fees += money_field(
            shop_money.get("amount"), f"{name}.shop_money.amount", currency, default=0
        )
    return fees


def _payment(payload: Json, currency: str, total: int) -> Payment:
    names = payload.get("payment_gateway_names")
    gateways = [g for g in (names if isinstance(names, list) else []) if isinstance(g, str)]
    if isinstance(payload.get("gateway"), str):  # deprecated, but older payloads only have this
        gateways.append(payload["gateway"])
    cod = any(_COD_GATEWAY.search(g) for g in gateways)
    financial_status = payload.get("financial_status")
    paid = isinstance(financial_status, str) and financial_status in _PAID_FINANCIAL_STATUSES
    # COD orders stay financial_status "pending" until the courier remits the cash.
    outstanding = money_field(
        payload.get("total_outstanding"), "total_outstanding", currency, default=total
    )
    return Payment(
        method="cod" if cod else (clean(gateways[0]) if gateways else None) or "unknown",
        cod=cod,
        cod_amount=min(outstanding, total) if cod and not paid else 0,
        paid=paid,
    )


def _channel_status(payload: Json) -> str:
    # Shopify has no single status: keep "[cancelled/]<financial>/<fulfillment>" verbatim.
    parts = [
        str(payload.get("financial_status") or "unknown"),
        str(payload.get("fulfillment_status") or "unfulfilled"),
    ]
    return "/".join((["cancelled"] if payload.get("cancelled_at") else []) + parts)
