"""Producer SMS alerts: render a localised new-order alert within a segment budget.

Pure: no I/O. Shortening is deterministic and happens in this order:
1. drop trailing lines, replaced by "+N more items" / "+N món khác", keeping at least one line;
2. if even one full line does not fit: keep the most lines that fit with every name cut to its
   first word, then cut the longest name (the later line on a tie) by one trailing word at a time
   until the message fits. Names are cut only between words, never inside one;
3. if nothing fits, return the shortest one-word-per-name message with its real segment count.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from services.notifications.domain.encoding import (
    Encoding,
    count_segments,
    fold_vietnamese,
    replace_non_gsm,
)
from services.notifications.domain.templates import new_order_alert_template


@dataclass(frozen=True, slots=True)
class ProducerAlertLine:
    """One order line as a producer sees it: product name and quantity ordered."""

    name: str
    quantity: int

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("ProducerAlertLine.name must not be blank")
        if self.quantity < 1:
            raise ValueError(f"ProducerAlertLine.quantity must be >= 1, got {self.quantity}")


@dataclass(frozen=True, slots=True)
class RenderedSms:
    """A rendered SMS: its text, encoding, SMS part count and the template language used."""

    text: str
    encoding: Encoding
    segments: int
    language: str


def render_new_order_alert(
    *,
    order_ref: str,
    lines: list[ProducerAlertLine],
    pickup_start: datetime,
    pickup_end: datetime,
    language: str = "vi",
    diacritics: bool = False,
    tz: str = "Asia/Ho_Chi_Minh",
    segment_budget: int = 1,
) -> RenderedSms:
    """Render the SMS telling a producer about a new order.

    order_ref: shown after "#" (a leading "#" in the value is not doubled).
    lines: the producer's order lines, in display order; at least one.
    pickup_start, pickup_end: timezone-aware pickup window; shown in `tz`.
    language: producer's language ("vi", "en", "vi-VN"...); unknown languages fall back to "en".
    diacritics: False folds the text and replaces any other non-GSM character with "?", so
        the result is always GSM-7; True keeps the text (NFC), usually making it UCS-2.
    tz: IANA time zone of the recipient.
    segment_budget: the most SMS parts the alert should take; shortening keeps within it
        whenever the smallest possible message does.
    """
    if segment_budget < 1:
        raise ValueError(f"segment_budget must be >= 1, got {segment_budget}")
    if not lines:
        raise ValueError("a new-order alert needs at least one line")
    for moment in (pickup_start, pickup_end):
        if moment.utcoffset() is None:
            raise ValueError(f"pickup times must be timezone-aware, got {moment!r}")
    if pickup_end < pickup_start:
        raise ValueError("pickup_end is before pickup_start")
    ref = _clean(order_ref, diacritics).lstrip("#")
    if not ref:
        raise ValueError("order_ref must not be blank")

    resolved, template = new_order_alert_template(language)
    zone = ZoneInfo(tz)
    start, end = pickup_start.astimezone(zone), pickup_end.astimezone(zone)
    quantities = [line.quantity for line in lines]

    def render(names: list[list[str]]) -> RenderedSms:
        text = template.render(
            order_ref=ref,
            lines=[(q, " ".join(n)) for q, n in zip(quantities[: len(names)], names, strict=True)],
            more=len(lines) - len(names),
            start=start,
            end=end,
        )
        text = replace_non_gsm(fold_vietnamese(text)) if not diacritics else _nfc(text)
        measured = count_segments(text)
        return RenderedSms(text, measured.encoding, measured.segments, resolved)

    # A name made only of invisible characters folds to nothing; "?" keeps the line readable.
    words = [_clean(line.name, diacritics).split() or ["?"] for line in lines]
    return _shorten(words, render, segment_budget)


def _shorten(
    words: list[list[str]], render: Callable[[list[list[str]]], RenderedSms], budget: int
) -> RenderedSms:
    for shown in range(len(words), 0, -1):
        sms = render(words[:shown])
        if sms.segments <= budget:
            return sms
    minimal: list[RenderedSms] = []
    for shown in range(len(words), 0, -1):
        minimal.append(render([name[:1] for name in words[:shown]]))
        if minimal[-1].segments > budget:
            continue  # even one word per name is too long with this many lines
        names = [list(name) for name in words[:shown]]
        while (sms := render(names)).segments > budget:
            names[_longest_cuttable(names)].pop()
        return sms
    # min() keeps the first of equals, i.e. the one showing more lines.
    return min(minimal, key=lambda sms: (sms.segments, len(sms.text)))


def _longest_cuttable(names: list[list[str]]) -> int:
    """Index of the longest name with more than one word; the later line wins a tie."""
    candidates = [i for i, name in enumerate(names) if len(name) > 1]
    return max(candidates, key=lambda i: (len(" ".join(names[i])), i))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _clean(value: str, diacritics: bool) -> str:
    """NFC, optionally folded, with runs of whitespace (newlines too) collapsed to one space."""
    value = _nfc(value) if diacritics else replace_non_gsm(fold_vietnamese(value))
    return " ".join(value.split())
