"""Render a message in the recipient's language, time zone and alphabet, within its segment budget.

Pure: no I/O. Shortening is deterministic and happens in this order:
1. drop trailing lines, replaced by "+N more items" / "+N món khác", keeping at least one line;
2. if even one full line does not fit: keep the most lines that fit with every name cut to its
   first word, then cut the longest name (the later line on a tie) by one trailing word at a time
   until the message fits. Names are cut only between words, never inside one;
3. if nothing fits, return the shortest one-word-per-name message with its real segment count.
A digest of several orders first drops trailing orders ("+2 more"), then shows names by their
first word, then order references only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from services.notifications.domain.encoding import (
    Encoding,
    count_segments,
    fold_vietnamese,
    replace_non_gsm,
)
from services.notifications.domain.templates import (
    LATIN_SCRIPT,
    NEW_ORDER,
    NEW_ORDERS_DIGEST,
    sms_template,
    subject_template,
)


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
class DigestOrder:
    """One order of a digest: its reference and lines."""

    order_ref: str
    lines: tuple[ProducerAlertLine, ...]


@dataclass(frozen=True, slots=True)
class RenderedSms:
    """A rendered SMS: its text, encoding, SMS part count and the template language used."""

    text: str
    encoding: Encoding
    segments: int
    language: str


def render_sms(
    message_type: str,
    *,
    language: str | None,
    diacritics: bool = False,
    tz: str = "Asia/Ho_Chi_Minh",
    context: Mapping[str, Any] | None = None,
    lines: Sequence[ProducerAlertLine] = (),
    segment_budget: int = 1,
) -> RenderedSms:
    """Render `message_type` for one recipient.

    context: template values; strings are cleaned like the text (folded when `diacritics` is
        False), datetimes are converted to `tz`. `ref` loses a leading "#".
    lines: order lines shown in the template's item list, shortened to fit `segment_budget`.
    diacritics: False folds Latin-script languages to GSM-7 (anything left that is not GSM-7
        becomes "?"); Japanese and Thai are never folded, they travel as UCS-2. True keeps them
        only while the message fits `segment_budget`: past it, the text is folded, because every
        extra segment is paid for by the producer and folded Vietnamese still reads.
    """
    if segment_budget < 1:
        raise ValueError(f"segment_budget must be >= 1, got {segment_budget}")
    resolved, template = sms_template(message_type, language)
    fold = not diacritics and resolved in LATIN_SCRIPT
    ctx = _context(context or {}, fold, ZoneInfo(tz), resolved)
    quantities = [line.quantity for line in lines]

    def render(names: list[list[str]]) -> RenderedSms:
        shown = [(q, " ".join(n)) for q, n in zip(quantities[: len(names)], names, strict=True)]
        return _finish(
            template.render(ctx, lines=shown, more=len(lines) - len(names)), fold, resolved
        )

    rendered = render([]) if not lines else _shorten(_words(lines, fold), render, segment_budget)
    if rendered.segments > segment_budget and not fold and resolved in LATIN_SCRIPT:
        return render_sms(
            message_type,
            language=language,
            diacritics=False,
            tz=tz,
            context=context,
            lines=lines,
            segment_budget=segment_budget,
        )
    return rendered


def render_digest(
    *,
    orders: Sequence[DigestOrder],
    pickup_start: datetime,
    pickup_end: datetime,
    language: str | None,
    diacritics: bool = False,
    tz: str = "Asia/Ho_Chi_Minh",
    segment_budget: int = 1,
) -> RenderedSms:
    """One SMS for several new orders of one producer (a single order renders as a new order)."""
    if not orders:
        raise ValueError("a digest needs at least one order")
    if len(orders) == 1:
        return render_new_order_alert(
            order_ref=orders[0].order_ref,
            lines=list(orders[0].lines),
            pickup_start=pickup_start,
            pickup_end=pickup_end,
            language=language or "en",
            diacritics=diacritics,
            tz=tz,
            segment_budget=segment_budget,
        )
    resolved, template = sms_template(NEW_ORDERS_DIGEST, language)
    fold = not diacritics and resolved in LATIN_SCRIPT
    ctx = _context(
        {"start": pickup_start, "end": pickup_end, "count": len(orders)},
        fold,
        ZoneInfo(tz),
        resolved,
    )
    refs = [_clean(o.order_ref, fold).lstrip("#") or "?" for o in orders]
    words = [_words(o.lines, fold) for o in orders]

    def render(shown: int, mode: str) -> RenderedSms:
        entries: list[tuple[str, list[tuple[int, str]]]] = []
        for ref, order, names in zip(refs[:shown], orders[:shown], words[:shown], strict=True):
            if mode == "refs":
                entries.append((ref, []))
                continue
            cut = names if mode == "full" else [n[:1] for n in names]
            entries.append(
                (ref, [(ln.quantity, " ".join(n)) for ln, n in zip(order.lines, cut, strict=True)])
            )
        text = template.render(ctx, orders=entries, more=len(orders) - shown)
        return _finish(text, fold, resolved)

    tried: list[RenderedSms] = []
    for mode in ("full", "first_word", "refs"):
        for shown in range(len(orders), 0, -1):
            tried.append(render(shown, mode))
            if tried[-1].segments <= segment_budget:
                return tried[-1]
    return min(tried, key=lambda sms: (sms.segments, len(sms.text)))


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
    """
    if segment_budget < 1:
        raise ValueError(f"segment_budget must be >= 1, got {segment_budget}")
    if not lines:
        raise ValueError("a new-order alert needs at least one line")
    _check_window(pickup_start, pickup_end)
    if not _clean(order_ref, not diacritics).lstrip("#"):
        raise ValueError("order_ref must not be blank")
    return render_sms(
        NEW_ORDER,
        language=language,
        diacritics=diacritics,
        tz=tz,
        context={"ref": order_ref, "start": pickup_start, "end": pickup_end},
        lines=lines,
        segment_budget=segment_budget,
    )


def render_subject(message_type: str, language: str, context: Mapping[str, Any]) -> str:
    """An email subject (emails keep their diacritics)."""
    ctx = _context(context, False, ZoneInfo("UTC"), language)
    return _nfc(subject_template(message_type, language).render(ctx))


def _check_window(start: datetime, end: datetime) -> None:
    for moment in (start, end):
        if moment.utcoffset() is None:
            raise ValueError(f"pickup times must be timezone-aware, got {moment!r}")
    if end < start:
        raise ValueError("pickup_end is before pickup_start")


# Values a template may leave out; anything else missing is a bug (StrictUndefined raises).
OPTIONAL: dict[str, Any] = {
    "promo": None,
    "tracking_url": "",
    "cod": 0,
    "partial": 0,
    "after_pickup": False,
}


def _context(values: Mapping[str, Any], fold: bool, zone: ZoneInfo, language: str) -> dict:
    ctx: dict[str, Any] = {**OPTIONAL, "language": language}
    for key, value in values.items():
        if isinstance(value, str):
            value = _clean(value, fold)
            if key == "ref":
                value = value.lstrip("#") or "?"
        elif isinstance(value, datetime):
            if value.utcoffset() is None:
                raise ValueError(f"{key} must be timezone-aware, got {value!r}")
            value = value.astimezone(zone)
        ctx[key] = value
    return ctx


def _finish(text: str, fold: bool, language: str) -> RenderedSms:
    text = replace_non_gsm(fold_vietnamese(text)) if fold else _nfc(text)
    measured = count_segments(text)
    return RenderedSms(text, measured.encoding, measured.segments, language)


def _words(lines: Sequence[ProducerAlertLine], fold: bool) -> list[list[str]]:
    # A name made only of invisible characters folds to nothing; "?" keeps the line readable.
    return [_clean(line.name, fold).split() or ["?"] for line in lines]


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


def _clean(value: str, fold: bool) -> str:
    """NFC, optionally folded, with runs of whitespace (newlines too) collapsed to one space."""
    value = replace_non_gsm(fold_vietnamese(value)) if fold else _nfc(value)
    return " ".join(value.split())
