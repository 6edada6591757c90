"""Matching keys for Vietnamese place names: the raw text is never changed, a key is built from a
copy. Two keys per name:

- `exact`: NFC, case-folded, type words stripped ("TP.", "Tỉnh", "Phường", "Q.", "District"...),
  hyphens and dashes as spaces, each syllable's tone mark moved to its end, so that the old and
  the new tone placement ("Hoà"/"Hòa", "Thuỷ"/"Thủy") give one key;
- `plain`: the same without any diacritic ("Ha Noi"), for text typed without them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

# The five tone marks as combining characters; the other marks (circumflex, breve, horn) make
# other letters and stay in the exact key.
_TONES: Final = {"\u0300": "`", "\u0301": "'", "\u0303": "~", "\u0309": "?", "\u0323": "."}
_SEPARATORS: Final = re.compile(r"[\s\-\u2010-\u2015,.;:/()]+")
_QUOTES: Final = re.compile(r"['\u2018\u2019`]")
_GLUED_NUMBER: Final = re.compile(r"^(p|q|f)(\d+)$")  # "P4", "Q1", "F7": ward or district 4, 1, 7

# Type words, longest first, matched on whole leading (or, for English, trailing) words.
_LEADING: Final = tuple(
    tuple(words.split())
    for words in (
        "thành phố",
        "thị xã",
        "thị trấn",
        "đặc khu",
        "tỉnh",
        "quận",
        "huyện",
        "phường",
        "xã",
        "tp",
        "tx",
        "tt",
        "p",
        "q",
        "h",
        "x",
        "f",
    )
)
_TRAILING: Final = ("city", "province", "district", "ward", "commune", "town")
# Words that say which kind of unit a text names, whatever its name.
DISTRICT_WORDS: Final = frozenset({"quận", "huyện", "thị xã", "q", "tx", "district"})
WARD_WORDS: Final = frozenset(
    {"phường", "xã", "thị trấn", "đặc khu", "p", "x", "tt", "f", "ward", "commune"}
)
CITY_WORDS: Final = frozenset({"thành phố", "tp", "city"})
# The same, spelled out: in free text, "P." or "Q." may be something else ("P. 302", a room).
SPELLED_WARD_WORDS: Final = frozenset({"phường", "xã", "thị trấn", "đặc khu", "ward", "commune"})
SPELLED_DISTRICT_WORDS: Final = frozenset({"quận", "huyện", "thị xã", "district"})


@functools.lru_cache(maxsize=16384)  # per syllable: a few thousand exist
def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=16384)
def _exact_syllable(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    tones = "".join(_TONES[c] for c in decomposed if c in _TONES)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return base + tones


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFC", text).casefold()
    words: list[str] = []
    for word in _SEPARATORS.split(_QUOTES.sub("", folded)):
        if not word:
            continue
        glued = _GLUED_NUMBER.match(word)
        if glued:
            words += [glued[1], glued[2]]
        else:
            words.append(str(int(word)) if word.isdigit() else word)
    return words


# Type words by the plain form of their first word, longest first.
_BY_FIRST_WORD: Final[dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]] = {}
for _words_of in _LEADING:
    _BY_FIRST_WORD.setdefault(_plain(_words_of[0]), []).append(
        (_words_of, tuple(_plain(w) for w in _words_of))
    )


def _leading_type(words: list[str], plain: list[str]) -> tuple[str, ...] | None:
    """The type word that starts `words` (a word typed without diacritics matches its plain
    form), leaving at least one word of name."""
    for candidate, candidate_plain in _BY_FIRST_WORD.get(plain[0], ()) if words else ():
        n = len(candidate)
        if len(words) > n and all(
            w == c or (w == p and p == cp)
            for w, p, c, cp in zip(words[:n], plain[:n], candidate, candidate_plain, strict=True)
        ):
            return candidate
    return None


@dataclass(frozen=True)
class Name:
    """A place name read from text: its keys, and the type word it carried, if any."""

    exact: str
    plain: str
    kind: str | None  # the type word as written in _LEADING/_TRAILING ("quận", "district"...)

    @property
    def compact(self) -> str:
        return self.plain.replace(" ", "")


def read(text: str, strip: bool = True) -> Name:
    """The keys of `text`, with at most one type word stripped ("Phường 4" -> "4") unless
    `strip` is false (for a name that starts like a type word: "Xa Loi" may be "Xá Lợi")."""
    words = _words(text)
    plain = [_plain(w) for w in words]
    kind: str | None = None
    leading = _leading_type(words, plain) if strip else None
    if leading is not None:
        kind, words, plain = " ".join(leading), words[len(leading) :], plain[len(leading) :]
    elif strip and len(words) > 1 and plain[-1] in _TRAILING:
        kind, words, plain = plain[-1], words[:-1], plain[:-1]
    exact = " ".join(_exact_syllable(w) for w in words)
    return Name(exact=exact, plain=" ".join(plain), kind=kind)
