"""WooCommerce: the `order.created` / `order.updated` webhook body (REST API v3 order)."""

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
    payment,
    phone,
)
from services.orders.adapters.platforms.payload import (
    Json,
    id_field,
    int_field,
    list_field,
    local_time,
    money_field,
    number_money,
    object_field,
)
from services.orders.domain.contacts import clean, full_name
from services.orders.domain.errors import InvalidOrderPayload
from services.orders.domain.model import Buyer, CanonicalOrder, OrderLine

CHANNEL: Final = "woocommerce"
_INTENT: Final = {"cancelled": CANCELLED, "failed": CANCELLED, "refunded": RETURNING}
# Not an order yet: the buyer is still in the checkout.
NOT_AN_ORDER: Final = frozenset({"checkout-draft", "trash"})


def read_external_id(payload: Json) -> str:
    """The order's WooCommerce id (the webhook reads it too, before the rest of the order)."""
    return id_field(payload.get("id"), "id")


def parse_woocommerce_order(payload: Json, *, account: str) -> CanonicalOrder:
    if not isinstance(payload, Mapping):
        raise InvalidOrderPayload("WooCommerce order must be a JSON object")
    external_id = read_external_id(payload)
    currency = currency_code(payload.get("currency"))
    status = clean(payload.get("status")) or "pending"
    # WooCommerce keeps every amount before tax, with the tax beside it. A shop whose prices
    # include tax gets them back with it, as its buyers saw them; otherwise tax comes on top.
    taxes_included = payload.get("prices_include_tax") is True

    def amount(parent: Json, field: str, where: str, tax_field: str | None = None) -> int:
        value = money_field(parent.get(field), f"{where}{field}", currency, default=0)
        if taxes_included and tax_field:
            value += money_field(parent.get(tax_field), f"{where}{tax_field}", currency, default=0)
        return value

    lines = []
    for i, item in enumerate(list_field(payload, "line_items")):
        where = f"line_items[{i}]."
        quantity = int_field(item.get("quantity"), f"{where}quantity", minimum=1)
        # subtotal is the line before its coupons, total after; `price` (total / quantity,
        # often not a whole minor unit) only stands in when the line has neither.
        if "subtotal" in item or "total" in item:
            gross = amount(item, "subtotal", where, "subtotal_tax")
            net = amount(item, "total", where, "total_tax") if "total" in item else gross
        else:
            gross = net = number_money(item.get("price"), f"{where}price", currency) * quantity
        unit_price, discount = line_price(gross, net, quantity, f"line_items[{i}]")
        lines.append(
            OrderLine(
                channel_line_id=str(item.get("id")) if item.get("id") is not None else None,
                channel_sku=clean(item.get("sku")),
                name=clean(item.get("name")) or "",
                quantity=quantity,
                unit_price=unit_price,
                discount=discount,
            )
        )
    if not lines:
        raise InvalidOrderPayload("line_items is missing or empty")
    # Fee lines are charges (a cash-on-delivery fee); a negative one is a discount.
    fees = [
        amount(fee, "total", f"fee_lines[{i}].", "total_tax")
        for i, fee in enumerate(list_field(payload, "fee_lines"))
    ]
    billing, shipping = object_field(payload, "billing"), object_field(payload, "shipping")
    country = country_code(shipping.get("country") or billing.get("country"))
    total = money_field(payload.get("total"), "total", currency)
    placed = _time(payload, "date_created")
    cod = clean(payload.get("payment_method")) == "cod"
    ship_to = shipping if clean(shipping.get("address_1")) else billing
    given, family = clean(ship_to.get("first_name")), clean(ship_to.get("last_name"))
    return build(
        CHANNEL,
        account,
        external_id,
        channel_order_name=f"#{clean(str(payload.get('number') or external_id))}",
        status=_INTENT.get(status, ACTIVE),
        channel_status=status,
        placed_at=placed,
        updated_at=_time(payload, "date_modified")
        if payload.get("date_modified_gmt") or (payload.get("date_modified"))
        else placed,
        currency=currency,
        lines=lines,
        subtotal=sum(ln.unit_price * ln.quantity - ln.discount for ln in lines),
        shipping_fee=amount(payload, "shipping_total", "", "shipping_tax"),
        # discount_total is the coupons, which WooCommerce takes off the lines' totals.
        discount_total=-sum(f for f in fees if f < 0),
        fee_total=sum(f for f in fees if f > 0),
        tax_total=amount(payload, "total_tax", ""),
        taxes_included=taxes_included,
        total=total,
        payment=payment(
            method=clean(payload.get("payment_method")) or "unknown",
            cod=cod,
            # COD orders are "processing" with date_paid null until the courier pays out.
            paid=payload.get("date_paid") is not None or payload.get("date_paid_gmt") is not None,
            total=total,
        ),
        buyer=Buyer(
            name=full_name(
                clean(billing.get("first_name")), clean(billing.get("last_name")), country
            ),
            given_name=clean(billing.get("first_name")),
            family_name=clean(billing.get("last_name")),
            phone=phone(billing.get("phone"), country),
            email=clean(billing.get("email")),
        ),
        shipping_address=address(
            country=country,
            recipient=full_name(given, family, country),
            recipient_given_name=given,
            recipient_family_name=family,
            phone=ship_to.get("phone") or billing.get("phone"),
            line1=ship_to.get("address_1"),
            line2=ship_to.get("address_2"),
            # Vietnamese shops carry the ward or, with the state hidden, the province here.
            city=ship_to.get("city"),
            province=ship_to.get("state"),
            postal_code=ship_to.get("postcode"),
        ),
    )


def _time(payload: Json, field: str):
    # *_gmt has no offset and is UTC; the plain field is the shop's local time (offset unknown).
    if payload.get(f"{field}_gmt"):
        return local_time(payload[f"{field}_gmt"], f"{field}_gmt", 0)
    return local_time(payload.get(field), field, 7)
