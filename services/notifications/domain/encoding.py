"""SMS character encoding: GSM 03.38 septets, UCS-2 code units and segment counting.

Pure functions, no I/O. A message is GSM-7 only if every character is in the GSM 03.38 basic
set or its extension table; one other character switches the whole message to UCS-2.
Segments are counted by walking characters, because a part boundary may not split a
two-septet extension character (GSM-7) or a surrogate pair (UCS-2).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet in code order 0x00-0x7F. 0x1B (ESC) is left out: it introduces an
# extension character and is never a character of the text. 0x09 is capital Ç, as in 3GPP TS 23.038.
GSM7_BASIC_CHARS: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# Extension table: each costs ESC + the character, i.e. two septets.
GSM7_EXTENSION_CHARS: frozenset[str] = frozenset("\f^{}\\[~]|€")
GSM7_CHARS: frozenset[str] = GSM7_BASIC_CHARS | GSM7_EXTENSION_CHARS

GSM7_SINGLE_SEPTETS = 160
GSM7_PART_SEPTETS = 153  # 7 septets of each part go to the concatenation header
UCS2_SINGLE_UNITS = 70
UCS2_PART_UNITS = 67  # 3 UTF-16 code units of each part go to the concatenation header


@dataclass(frozen=True, slots=True)
class SmsEncoding:
    """How a text travels as SMS.

    encoding: "GSM-7" or "UCS-2".
    segments: number of SMS parts the text needs; at least 1, an empty text is one GSM-7 SMS.
    units: septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2
        (a character outside the Basic Multilingual Plane counts 2).
    """

    encoding: Encoding
    segments: int
    units: int


def is_gsm7(text: str) -> bool:
    """True if every character of `text` is in the GSM 03.38 basic set or extension table."""
    return all(ch in GSM7_CHARS for ch in text)


def septet_length(text: str) -> int:
    """Septets needed to send `text` as GSM-7; raises ValueError if it is not GSM-7."""
    total = 0
    for index, ch in enumerate(text):
        if ch not in GSM7_CHARS:
            raise ValueError(f"{ch!r} (U+{ord(ch):04X}) at index {index} is not in GSM 03.38")
        total += 2 if ch in GSM7_EXTENSION_CHARS else 1
    return total


def count_segments(text: str) -> SmsEncoding:
    """Encoding, SMS part count and unit count of `text`, exactly as given.

    The text is not normalised here: callers that build messages normalise to NFC first,
    because decomposed Vietnamese costs more UCS-2 units.
    """
    if is_gsm7(text):
        costs = [2 if ch in GSM7_EXTENSION_CHARS else 1 for ch in text]
        return _fit("GSM-7", costs, GSM7_SINGLE_SEPTETS, GSM7_PART_SEPTETS)
    costs = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return _fit("UCS-2", costs, UCS2_SINGLE_UNITS, UCS2_PART_UNITS)


def _fit(encoding: Encoding, costs: list[int], single: int, part: int) -> SmsEncoding:
    units = sum(costs)
    if units <= single:
        return SmsEncoding(encoding, 1, units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:  # the character moves whole to the next part
            segments += 1
            used = 0
        used += cost
    return SmsEncoding(encoding, segments, units)


# Applied after NFC and before stripping marks. NFD does not decompose đ/Đ (they are base letters
# with a stroke), so they need an explicit entry. U+00D0 (Eth) looks identical to Đ and turns up
# in legacy data typed as Đ. The punctuation entries are what Vietnamese keyboards and word
# processors insert in place of plain ASCII.
_FOLD_TABLE = str.maketrans(
    {
        "đ": "d",
        "Đ": "D",
        "Ð": "D",
        "\u2018": "'",  # ‘
        "\u2019": "'",  # ’
        "\u201a": "'",  # ‚
        "\u201c": '"',  # “
        "\u201d": '"',  # ”
        "\u201e": '"',  # „
        "\u00ab": '"',  # «
        "\u00bb": '"',  # »
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
        "\u2022": "-",  # bullet
        "\u2026": "...",  # …
        "\u20ab": "d",  # ₫, the dong sign: "50.000₫" -> "50.000d"
        "\u00a0": " ",  # no-break space
        "\u202f": " ",  # narrow no-break space
        "\u2009": " ",  # thin space
        "\u200b": "",  # zero-width space
    }
)


def fold_vietnamese(text: str) -> str:
    """Remove Vietnamese diacritics ("không dấu") and map typographic punctuation to ASCII.

    Steps: NFC; đ/Đ and punctuation table; NFD; drop combining diacritical marks (U+0300-U+036F)
    that sit on a Latin letter; NFC again. Marks on other scripts are kept, so Japanese or Thai
    text is unchanged rather than corrupted (stripping the dakuten of が would give か).
    Every Vietnamese letter folds to plain ASCII, including those already in GSM-7 such as é or à.
    """
    decomposed = unicodedata.normalize(
        "NFD", unicodedata.normalize("NFC", text).translate(_FOLD_TABLE)
    )
    kept: list[str] = []
    base_is_latin = False
    for ch in decomposed:
        if not unicodedata.combining(ch):
            base_is_latin = unicodedata.name(ch, "").startswith("LATIN ")
        elif base_is_latin and "\u0300" <= ch <= "\u036f":
            continue
        kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept))


def replace_non_gsm(text: str, replacement: str = "?") -> str:
    """Replace every character outside GSM 03.38 with `replacement` (itself GSM-7)."""
    if not is_gsm7(replacement):
        raise ValueError(f"replacement {replacement!r} is not GSM-7")
    return "".join(ch if ch in GSM7_CHARS else replacement for ch in text)
