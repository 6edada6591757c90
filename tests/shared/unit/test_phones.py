"""Phone normalisation to E.164 (with Vietnam's 2018 renumbering) and masking for logs."""

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from shared.phones import _vn_mobile, _with_phonenumbers, mask_phone, normalise_phone

# The handbook's 2018 table, written out rather than derived from the code under test.
LEGACY_TO_CURRENT = [
    *[(f"016{d}", f"03{d}") for d in "23456789"],  # Viettel
    ("0120", "070"), ("0121", "079"), ("0122", "077"), ("0126", "076"), ("0128", "078"),
    ("0123", "083"), ("0124", "084"), ("0125", "085"), ("0127", "081"), ("0129", "082"),
    ("0186", "056"), ("0188", "058"),  # Vietnamobile
    ("0199", "059"),  # Gmobile
]  # fmt: skip


def test_national_vietnamese_number_normalises_to_e164() -> None:
    assert normalise_phone("0912 345 678") == "+84912345678"
    assert normalise_phone("+84 91-234-5678") == "+84912345678"


def test_legacy_11_digit_number_is_invalid_to_phonenumbers_without_mapping() -> None:
    assert not phonenumbers.is_valid_number(phonenumbers.parse("01623456789", "VN"))


@pytest.mark.parametrize(("old", "new"), LEGACY_TO_CURRENT)
def test_legacy_prefix_maps_to_its_2018_prefix(old: str, new: str) -> None:
    assert normalise_phone(f"{old}3456789") == f"+84{new[1:]}3456789"


@pytest.mark.parametrize(
    "raw", ["0162 345 6789", "+84 162 345 6789", "0084-162-345-6789", "841623456789"]
)
def test_legacy_number_maps_in_any_written_form(raw: str) -> None:
    assert normalise_phone(raw) == "+84323456789"


def test_current_10_digit_numbers_are_not_remapped() -> None:
    # 0123... and 0162... prefixes of a modern 10-digit number are not legacy prefixes.
    assert normalise_phone("0123456789") is None  # 012x is unassigned since 2018
    assert normalise_phone("0843456789") == "+84843456789"


@pytest.mark.parametrize("raw", ["", "   ", "abc", "12345", "0912", "01303456789"])
def test_invalid_numbers_normalise_to_none(raw: str) -> None:
    assert normalise_phone(raw) is None


def test_other_regions_parse_their_national_numbers() -> None:
    assert normalise_phone("090-1234-5678", region="JP") == "+819012345678"
    assert normalise_phone("0917 123 4567", region="ph") == "+639171234567"


def test_mask_keeps_country_code_network_and_last_two_digits() -> None:
    assert mask_phone("+84912345678") == "+8491*****78"
    assert mask_phone("+819012345678") == "+8190******78"


def test_mask_never_shows_the_middle_digits() -> None:
    assert "34567" not in mask_phone("+84912345678")


def test_mask_handles_numbers_without_country_code() -> None:
    assert mask_phone("0912 345 678") == "09******78"


def test_mask_hides_short_numbers_entirely_and_never_raises() -> None:
    assert mask_phone("1234") == "****"
    assert mask_phone("") == ""
    assert mask_phone("not a phone") == ""


_SEPARATOR = st.sampled_from(["", " ", ".", "-"])


@given(
    prefix=st.sampled_from(["0", "+84"]),
    digits=st.from_regex(r"\A[35789][0-9]{8}\Z"),
    cuts=st.lists(st.tuples(st.integers(0, 9), _SEPARATOR), max_size=4),
)
@example(prefix="0", digits="912345678", cuts=[(3, " "), (6, " ")])
def test_the_vietnamese_mobile_shortcut_gives_the_librarys_answer(prefix, digits, cuts):
    raw = prefix + digits
    for at, separator in sorted(cuts, reverse=True):
        raw = raw[: len(prefix) + at] + separator + raw[len(prefix) + at :]
    assert _vn_mobile(raw) is not None, raw
    assert _vn_mobile(raw) == _with_phonenumbers(raw, "VN", require_valid=False)


@given(st.text(alphabet="+0123456789 .-()０９", max_size=16))
def test_the_shortcut_answers_only_when_the_library_agrees(raw):
    fast = _vn_mobile(raw)
    assert fast is None or fast == _with_phonenumbers(raw, "VN", require_valid=False)
