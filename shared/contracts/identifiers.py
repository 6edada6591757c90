"""Identifiers as operators have them: producer ids, SKUs, channel SKUs and channel accounts.

An identifier is any printable text of up to 255 characters, such as `htx-mật-ong`, `0042`,
`hg.honey_500` or Lazada's own sample SKU `test2022 02`. It is trimmed and kept in NFC (the same
Vietnamese letter arrives precomposed or with combining marks, and both must name one product);
its case is kept and it is compared exactly, so "ABC" and "abc" are two ids. Control and format
characters (Unicode category C) and line breaks are refused: they are invisible, so two ids that
look the same would differ.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Final

from pydantic import AfterValidator, WithJsonSchema

MAX_IDENTIFIER_LENGTH: Final = 255
_LINE_BREAKS: Final = frozenset({"Zl", "Zp"})


def identifier(value: str) -> str:
    """The stored form of `value`; raises ValueError saying what makes it no identifier."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_IDENTIFIER_LENGTH:
        raise ValueError(
            f"is {len(text)} characters long, at most {MAX_IDENTIFIER_LENGTH} are allowed"
        )
    if not text.isprintable():  # also False for spaces other than " ", which are allowed
        for position, char in enumerate(text, start=1):
            category = unicodedata.category(char)
            if category.startswith("C") or category in _LINE_BREAKS:
                raise ValueError(
                    f"contains the invisible character U+{ord(char):04X} at position {position}"
                )
    return text


Identifier = Annotated[
    str,
    AfterValidator(identifier),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_IDENTIFIER_LENGTH}),
]
