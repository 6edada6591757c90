from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.orders.domain.errors import InvalidMoney, OrderError, UnknownCurrency
from services.orders.domain.model import to_minor_units
from services.orders.domain.money import MAX_MINOR_UNITS, format_minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("250000", "VND", 250000),
        ("250000.00", "VND", 250000),  # trailing zeros carry no value
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("12", "USD", 1200),
        ("1000", "JPY", 1000),
        ("99.99", "THB", 9999),
        ("15000.00", "IDR", 1500000),
        (" 7.05 ", "USD", 705),
        ("0", "VND", 0),
        (250000, "VND", 250000),
        (Decimal("19.99"), "USD", 1999),
    ],
)
def test_amount_converts_exactly_to_minor_units(
    amount: str | int | Decimal, currency: str, minor: int
) -> None:
    assert to_minor_units(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1000.5", "VND"), ("12.345", "USD"), ("100.1", "JPY"), (Decimal("0.001"), "USD")],
)
def test_amount_more_precise_than_the_currency_is_rejected_not_rounded(
    amount: str | Decimal, currency: str
) -> None:
    with pytest.raises(InvalidMoney, match="more precision"):
        to_minor_units(amount, currency)


def test_float_amount_is_rejected() -> None:
    with pytest.raises(InvalidMoney, match="float"):
        to_minor_units(12.5, "USD")  # type: ignore[arg-type]


def test_bool_amount_is_rejected() -> None:
    with pytest.raises(InvalidMoney):
        to_minor_units(True, "VND")


@pytest.mark.parametrize("amount", ["", "abc", "1e5", "NaN", "Infinity", "1,000", "1_000", "1."])
def test_malformed_amount_string_is_rejected(amount: str) -> None:
    with pytest.raises(InvalidMoney):
        to_minor_units(amount, "VND")


def test_non_finite_decimal_is_rejected() -> None:
    with pytest.raises(InvalidMoney):
        to_minor_units(Decimal("NaN"), "USD")


def test_amount_beyond_the_bigint_range_is_rejected() -> None:
    with pytest.raises(InvalidMoney, match="out of range"):
        to_minor_units(str(MAX_MINOR_UNITS + 1), "VND")
    with pytest.raises(InvalidMoney, match="out of range"):
        to_minor_units(Decimal("1E+400"), "VND")


@pytest.mark.parametrize("currency", ["XXX", "vnd", ""])
def test_unknown_currency_is_a_domain_error(currency: str) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        to_minor_units("1", currency)
    assert isinstance(caught.value, OrderError)


@pytest.mark.parametrize(
    ("minor", "currency", "text"), [(1250, "USD", "12.50"), (250000, "VND", "250000")]
)
def test_minor_units_format_back_to_the_platform_decimal_string(
    minor: int, currency: str, text: str
) -> None:
    assert format_minor_units(minor, currency) == text
    assert to_minor_units(text, currency) == minor


@given(
    sign=st.sampled_from(["", "+", "-"]),
    whole=st.from_regex(r"\A[0-9]{1,22}\Z"),
    fraction=st.one_of(st.just(None), st.from_regex(r"\A[0-9]{1,6}\Z")),
    currency=st.sampled_from(["VND", "USD", "JPY"]),
)
@example(sign="", whole="1234567890123456789012", fraction="5", currency="VND")  # both wrong
@example(sign="-", whole="9223372036854775808", fraction=None, currency="JPY")
def test_a_decimal_string_reads_as_its_exact_decimal_value(sign, whole, fraction, currency):
    """Strings take an integer-only fast path: it must agree with the exact Decimal reading,
    value for value and refusal for refusal."""
    text = f"{sign}{whole}" + (f".{fraction}" if fraction is not None else "")

    def outcome(amount):
        try:
            return to_minor_units(amount, currency)
        except InvalidMoney as exc:
            return type(exc), "precision" in str(exc)

    assert outcome(text) == outcome(Decimal(text))
