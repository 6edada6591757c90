"""Money as integers in the currency's minor units, converted exactly from decimal strings, and
the one rule an order's amounts obey (`computed_total`, checked by `amount_problems`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Protocol

from services.orders.domain.errors import InvalidMoney, UnknownCurrency

# Decimal places per ISO 4217 code. Deliberately small: an unknown currency is an error rather than
# a guess, because guessing the exponent wrong scales every amount of the order by 100.
CURRENCY_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "VND": 0,
        "JPY": 0,
        "KRW": 0,
        "USD": 2,
        "EUR": 2,
        "THB": 2,
        "IDR": 2,
        "SGD": 2,
        "MYR": 2,
        "PHP": 2,
        "CNY": 2,
        "LAK": 2,
        "KHR": 2,
    }
)

# Amounts are stored as PostgreSQL bigint downstream; anything larger is a malformed payload.
MAX_MINOR_UNITS: Final[int] = 2**63 - 1

# Plain decimal notation only: platforms send "250000" or "12.50", never exponents, NaN,
# thousands separators or underscores, so anything else is more likely corruption than money.
_DECIMAL_STRING = re.compile(r"([+-]?)(\d+)(?:\.(\d+))?")


def currency_exponent(currency: str) -> int:
    """Number of decimal places of `currency` (an ISO 4217 code, upper case)."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"unknown currency {currency!r}") from None


def to_minor_units(amount: str | int | Decimal, currency: str) -> int:
    """Convert a decimal amount to an integer count of `currency`'s minor units, exactly.

    "250000" VND -> 250000, "12.50" USD -> 1250, "250000.00" VND -> 250000 (trailing zeros carry
    no value). An amount whose value needs more decimals than the currency has ("12.345" USD,
    "1000.5" VND) raises `InvalidMoney`: rounding would silently change what the buyer owes.
    Floats are refused outright because they cannot represent most decimal amounts.
    """
    exponent = currency_exponent(currency)
    if isinstance(amount, str):  # nearly every amount: read in integers, no Decimal
        return _string_to_minor_units(amount, currency, exponent)
    value = _as_decimal(amount)
    if value.adjusted() + exponent > 18:  # cheap guard before building a huge integer
        raise InvalidMoney(f"amount {amount!r} {currency} is out of range")
    sign, digits, places = value.as_tuple()
    assert isinstance(places, int)  # finite decimals always have an integer exponent
    coefficient = int("".join(map(str, digits)))
    shift = places + exponent
    if shift >= 0:
        minor = coefficient * 10**shift
    else:
        minor, remainder = divmod(coefficient, 10**-shift)
        if remainder:
            raise _too_precise(amount, currency, exponent)
    if minor > MAX_MINOR_UNITS:
        raise InvalidMoney(f"amount {amount!r} {currency} is out of range")
    return -minor if sign else minor


def _string_to_minor_units(amount: str, currency: str, exponent: int) -> int:
    match = _DECIMAL_STRING.fullmatch(amount.strip())
    if match is None:
        raise InvalidMoney(f"amount {amount!r} is not a plain decimal number")
    sign, whole, fraction = match.groups()
    whole = whole.lstrip("0")
    if len(whole) + exponent > 19:  # cheap guard before building a huge integer
        raise InvalidMoney(f"amount {amount!r} {currency} is out of range")
    fraction = (fraction or "").rstrip("0")  # trailing zeros carry no value
    if len(fraction) > exponent:
        raise _too_precise(amount, currency, exponent)
    minor = int(whole or "0") * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    if minor > MAX_MINOR_UNITS:
        raise InvalidMoney(f"amount {amount!r} {currency} is out of range")
    return -minor if sign == "-" else minor


def _too_precise(amount: object, currency: str, exponent: int) -> InvalidMoney:
    return InvalidMoney(
        f"amount {amount!r} has more precision than {currency} allows ({exponent} decimal places)"
    )


def format_minor_units(minor: int, currency: str) -> str:
    """The decimal string a platform expects for `minor` units: 1250 USD -> "12.50"."""
    exponent = currency_exponent(currency)
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


def _as_decimal(amount: object) -> Decimal:
    # bool is an int subclass; True as an amount is always a bug upstream.
    if isinstance(amount, (bool, float)):
        raise InvalidMoney(f"amount {amount!r} must be a decimal string or int, never float/bool")
    if isinstance(amount, int):
        return Decimal(amount)
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise InvalidMoney(f"amount {amount!r} is not a finite number")
        return amount
    if isinstance(amount, str) and _DECIMAL_STRING.fullmatch(amount.strip()):
        return Decimal(amount.strip())
    raise InvalidMoney(f"amount {amount!r} is not a plain decimal number")


class _LineAmounts(Protocol):
    @property
    def quantity(self) -> int: ...
    @property
    def unit_price(self) -> int: ...
    @property
    def discount(self) -> int: ...


class OrderAmounts(Protocol):
    """The amounts of a CanonicalOrder, all in `currency`'s minor units."""

    @property
    def currency(self) -> str: ...
    @property
    def lines(self) -> Sequence[_LineAmounts]: ...
    @property
    def subtotal(self) -> int: ...
    @property
    def discount_total(self) -> int: ...
    @property
    def shipping_fee(self) -> int: ...
    @property
    def fee_total(self) -> int: ...
    @property
    def tax_total(self) -> int: ...
    @property
    def taxes_included(self) -> bool: ...
    @property
    def total(self) -> int: ...


def lines_subtotal(order: OrderAmounts) -> int:
    """What the lines come to: each line's `unit_price` times the quantity ordered, less the
    line's own `discount`. Units cancelled later stay in: the amounts are those of the order as
    placed."""
    return sum(line.unit_price * line.quantity - line.discount for line in order.lines)


def computed_total(order: OrderAmounts) -> int:
    """What the buyer pays, from the parts of the order:

        total = subtotal - discount_total + shipping_fee + fee_total (+ tax_total)

    - `subtotal` is the lines after their own discounts (`lines_subtotal`), before anything
      that applies to the whole order.
    - `discount_total` is what is taken off the whole order and not off any line (an order
      voucher). A discount the platform spreads over the lines is in the lines, never here too.
    - `shipping_fee` is the shipping the buyer pays, after any shipping discount: never the
      carrier's estimate nor the seller's shipping cost.
    - `fee_total` is any other charge the buyer pays (a platform's small-order or service fee,
      a shop's cash-on-delivery fee, a tip, duties).
    - `tax_total` is added only when the platform adds tax on top of its prices
      (`taxes_included` false: Shopify `taxes_included: false`, WooCommerce's amounts, which it
      keeps before tax, TikTok Shop's US taxes). Where prices already include it, it is shown
      and not added.

    Every discount the buyer gets is taken off, whoever funds it: a platform voucher the
    platform pays back to the seller lowers what the buyer pays like a seller's voucher does.
    What the seller is paid (total plus platform subsidies, less commissions) is the platform's
    settlement, not part of the order.
    """
    tax_on_top = 0 if order.taxes_included else order.tax_total
    return order.subtotal - order.discount_total + order.shipping_fee + order.fee_total + tax_on_top


def amount_problems(order: OrderAmounts) -> list[str]:
    """Why the order's amounts do not add up (empty when they do), each naming the stated
    figure and the computed one. A total is never corrected: an order whose figures disagree
    waits for the operator, because the courier would collect the wrong cash."""

    def shown(minor: int) -> str:
        return f"{format_minor_units(minor, order.currency)} {order.currency}"

    problems = []
    from_lines = lines_subtotal(order)
    if order.subtotal != from_lines:
        problems.append(
            f"amounts_inconsistent: subtotal {shown(order.subtotal)} stated, "
            f"{shown(from_lines)} from the lines"
        )
    expected = computed_total(order)
    if order.total != expected:
        tax = "in prices" if order.taxes_included else "on top"
        problems.append(
            f"amounts_inconsistent: total {shown(order.total)} stated, {shown(expected)} "
            f"computed (subtotal {shown(order.subtotal)} - discounts "
            f"{shown(order.discount_total)} + shipping {shown(order.shipping_fee)} + fees "
            f"{shown(order.fee_total)}, tax {shown(order.tax_total)} {tax})"
        )
    return problems
