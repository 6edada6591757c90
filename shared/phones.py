"""Phone numbers: E.164 normalisation (with Vietnam's 2018 renumbering) and masking for logs.

Pure: `phonenumbers` only reads metadata bundled with the package. Orders (buyers' phones) and
notifications (producers' phones) both use it.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

# Vietnam moved 11-digit mobile numbers to 10 digits in 2018. Keys and values are national
# significant number prefixes (without the trunk 0): 0162xxxxxxx -> 032xxxxxxx.
LEGACY_VN_PREFIXES: dict[str, str] = {
    **{f"16{d}": f"3{d}" for d in "23456789"},  # Viettel 016[2-9] -> 03[2-9]
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",  # MobiFone
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",  # VinaPhone
    "186": "56", "188": "58",  # Vietnamobile
    "199": "59",  # Gmobile
}  # fmt: skip
_LEGACY_NSN_LENGTH = 10  # 11 digits nationally, including the trunk 0


def normalise_phone(
    raw: str | None, region: str | None = "VN", *, require_valid: bool = True
) -> str | None:
    """E.164 form of `raw` ("0912 345 678" -> "+84912345678"), or None if it is not usable.

    region: ISO 3166 code used when `raw` has no "+country" prefix. Legacy 11-digit Vietnamese
    mobile numbers are mapped to their current prefix first, since `phonenumbers` rejects them.
    A number masked by a platform ("*") is not usable. `require_valid=False` accepts a number of
    the right length for its country even when its range is unknown to the metadata, which lags
    behind new carrier ranges (dropping a real buyer's phone is worse than keeping it).
    """
    if not isinstance(raw, str) or not raw.strip() or "*" in raw:
        return None
    region = region.upper() if region else None
    if not require_valid and region == "VN":
        fast = _vn_mobile(raw)
        if fast is not None:
            return fast
    return _with_phonenumbers(raw, region, require_valid)


# A current Vietnamese mobile number as buyers type it ("0912 345 678", "+84 912-345-678"): its
# E.164 form needs no metadata when only the number's length is checked. Nearly every buyer's
# phone is one, and the library takes ~25 µs to parse it (tests/shared/unit/test_phones.py pins
# this shortcut to the library's answer).
_VN_MOBILE = re.compile(r"(?:\+84|0)([35789][0-9]{8})")
_SEPARATORS = re.compile(r"[ .\-]")


def _vn_mobile(raw: str) -> str | None:
    match = _VN_MOBILE.fullmatch(_SEPARATORS.sub("", raw))
    return "+84" + match.group(1) if match else None


def _with_phonenumbers(raw: str, region: str | None, require_valid: bool) -> str | None:
    try:
        number = phonenumbers.parse(_map_legacy_vn(raw, region or ""), region)
    except NumberParseException:
        return None
    check = phonenumbers.is_valid_number if require_valid else phonenumbers.is_possible_number
    if not check(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _map_legacy_vn(raw: str, region: str) -> str:
    """`raw` with a legacy Vietnamese mobile prefix replaced, or `raw` unchanged."""
    digits = re.sub(r"[^\d+]", "", raw)
    if digits.startswith("+84"):
        prefix, nsn = "+84", digits[3:]
    elif digits.startswith("0084"):
        prefix, nsn = "+84", digits[4:]
    elif region.upper() != "VN":
        return raw
    elif digits.startswith("84") and len(digits) == 2 + _LEGACY_NSN_LENGTH:
        prefix, nsn = "+84", digits[2:]
    elif digits.startswith("0") and not digits.startswith("00"):
        prefix, nsn = "0", digits[1:]
    else:
        return raw
    new = LEGACY_VN_PREFIXES.get(nsn[:3])
    if new is None or len(nsn) != _LEGACY_NSN_LENGTH:
        return raw
    return prefix + new + nsn[3:]


def mask_phone(phone: str) -> str:
    """Mask a phone number for logs: "+84912345678" -> "+8491*****78".

    Keeps the country code, the first two digits of the national number (the network) when it
    has at least 8 digits, and the last two; every other digit becomes "*". Numbers without a
    "+country" prefix are masked the same way without one; numbers of 4 digits or fewer are
    masked entirely. Never raises, so it is safe on any logged value.
    """
    try:
        number = phonenumbers.parse(phone, None)
        prefix = f"+{number.country_code}"
        digits = phonenumbers.national_significant_number(number)
    except NumberParseException:
        prefix, digits = "", re.sub(r"\D", "", phone)
    if len(digits) <= 4:
        return prefix + "*" * len(digits)
    head = digits[:2] if len(digits) >= 8 else ""
    return prefix + head + "*" * (len(digits) - len(head) - 2) + digits[-2:]
