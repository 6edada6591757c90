"""Pieces every channel parser uses to assemble a CanonicalOrder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from services.orders.domain import addresses
from services.orders.domain.contacts import clean, normalise_phone
from services.orders.domain.errors import InvalidMoney, InvalidOrderPayload
from services.orders.domain.model import (
    Address,
    CanonicalOrder,
    OrderLine,
    Payment,
    order_id_for,
)
from services.orders.domain.money import currency_exponent
from services.orders.domain.status import OrderStatus

ACTIVE, CANCELLED, RETURNING = (
    OrderStatus.PENDING_STOCK,
    OrderStatus.CANCELLED,
    (OrderStatus.RETURNING),
)
_COUNTRY_NAMES = {"vietnam": "VN", "viet nam": "VN", "việt nam": "VN", "thailand": "TH"}


def currency_code(raw: object, default: str | None = None) -> str:
    currency = (clean(raw) or default or "").upper()
    if not currency:
        raise InvalidOrderPayload("currency is missing")
    try:
        currency_exponent(currency)
    except InvalidMoney as exc:
        raise InvalidOrderPayload(f"currency: {exc}") from None
    return currency


def country_code(raw: object, default: str = "VN") -> str:
    value = clean(raw)
    if value is None:
        return default
    if len(value) == 2 and value.isalpha():
        return value.upper()
    return _COUNTRY_NAMES.get(value.casefold(), default)


def phone(raw: object, country: str) -> str | None:
    """E.164, or None when missing or masked ("84912***678")."""
    value = clean(raw) if isinstance(raw, str) else (str(raw) if isinstance(raw, int) else None)
    if value is None or "*" in value:
        return None
    return normalise_phone(value, country)


def masked(raw: object) -> str | None:
    """Platforms mask names once shipped ("N***n"): keep the text but never treat it as known."""
    value = clean(raw)
    return None if value is None or set(value) <= {"*"} else value


def address(*, country: str, **fields: Any) -> Address:
    """The platform's address fields as our Address, resolved against the administrative units
    in force (a Vietnamese address in the old three levels gets the province and ward of now)."""
    fields["phone"] = phone(fields.get("phone"), country)
    cleaned: dict[str, Any] = {k: clean(v) if k != "phone" else v for k, v in fields.items()}
    return addresses.resolved(Address(country=country, **cleaned))


def payment(
    *, method: str, cod: bool, paid: bool, total: int, collect: int | None = None
) -> Payment:
    return Payment(
        method="cod" if cod else (method or "unknown"),
        cod=cod,
        cod_amount=min(total, collect if collect is not None else total) if cod and not paid else 0,
        paid=paid,
    )


def line_price(gross: int, net: int, quantity: int, where: str) -> tuple[int, int]:
    """`(unit_price, discount)` of a line the platform states as a whole, before (`gross`) and
    after (`net`) its discounts. The line comes to `net` exactly; when `gross` does not divide
    by the quantity, the unit price is rounded up and the difference counts as discount."""
    unit_price = -(-gross // quantity)
    discount = unit_price * quantity - net
    if discount < 0:
        raise InvalidOrderPayload(f"{where} costs more after its discounts than before")
    return unit_price, discount


def order_discount(stated: int, lines: Sequence[OrderLine]) -> int:
    """The part of a platform's order-wide discount figure not already taken off the lines (a
    voucher the platform spreads over the items is in both). When the lines claim more than the
    figure, 0: the total check then shows the disagreement."""
    return max(0, stated - sum(line.discount for line in lines))


def build(
    channel: str, account: str, external_id: str, *, taxes_included: bool, **fields: Any
) -> CanonicalOrder:
    """The CanonicalOrder, with pydantic's complaints turned into one precise payload error.
    Each parser states whether its platform's prices include tax (`money.computed_total`)."""
    try:
        return CanonicalOrder(
            order_id=order_id_for(channel, account, external_id),
            channel=channel,
            account=account,
            external_id=external_id,
            taxes_included=taxes_included,
            **fields,
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'order'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidOrderPayload(f"{channel} order {external_id}: {problems}") from None
