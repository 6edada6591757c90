"""Money as integers in the currency's minor units, converted exactly from decimal strings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

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
        f"amount {amount!r} has more precision than {currency} allows "
        f"({exponent} decimal places)"
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
