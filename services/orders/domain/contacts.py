"""Channel-independent clean-up of contact data: phones and personal names (addresses: see
services/orders/domain/addresses)."""

from __future__ import annotations

import functools
import unicodedata
from typing import Final

from shared import phones

# Countries where the family name is written first. Platforms build a display name as
# "first last", which reverses these names ("An Nguyễn Văn" for Nguyễn Văn An).
FAMILY_NAME_FIRST: Final[frozenset[str]] = frozenset({"VN", "CN", "JP", "KR", "TW", "HU"})


@functools.lru_cache(maxsize=4096)  # the buyer's and the recipient's phone are usually one
def normalise_phone(raw: str | None, region: str | None) -> str | None:
    """The phone in E.164, or None when it is missing, masked or unparseable. A bad phone never
    fails the order: the courier can still use the address, and the operator sees it missing."""
    return phones.normalise_phone(raw, region, require_valid=False)


def clean(value: object) -> str | None:
    """A stripped, NFC-normalised string, or None for missing/blank/non-string values."""
    if not isinstance(value, str):
        return None
    # NFC: the same Vietnamese letter can arrive precomposed or with combining marks.
    text = unicodedata.normalize("NFC", value).strip()
    return text or None


def full_name(
    given: str | None, family: str | None, country: str | None, fallback: str | None = None
) -> str | None:
    """The display name in the order `country` writes it, or `fallback` if no parts are known."""
    if not given and not family:
        return fallback
    parts = (family, given) if (country or "").upper() in FAMILY_NAME_FIRST else (given, family)
    return " ".join(p for p in parts if p)
