"""Jinja2 templates for producer SMS, one per language, kept as strings (no file I/O).

Each template owns its language's wording and date format. Templates are written with
diacritics; the renderer folds them when the producer wants none. Plain text: no autoescape.
"""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, StrictUndefined, Template

DEFAULT_LANGUAGE = "en"

# Month abbreviations spelt out, because strftime("%b") depends on the process locale.
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Context: order_ref, lines (quantity, name) pairs, more (lines left out), start and end
# (pickup window, already in the recipient's time zone).
_ITEMS = (
    "{% for quantity, name in lines %}{{ quantity }} {{ name }}"
    "{{ '' if loop.last else ', ' }}{% endfor %}"
)
NEW_ORDER_ALERT_TEMPLATES: dict[str, str] = {
    "vi": (
        "Đơn mới #{{ order_ref }}: " + _ITEMS + "{% if more %}, +{{ more }} món khác{% endif %}. "
        "Lấy hàng {{ start | hhmm }}-{{ end | hhmm }} {{ start | dd_mm }}"
        "{% if end.date() != start.date() %}-{{ end | dd_mm }}{% endif %}."
    ),
    "en": (
        "New order #{{ order_ref }}: "
        + _ITEMS
        + "{% if more %}, +{{ more }} more item{{ 's' if more > 1 else '' }}{% endif %}. "
        "Pickup {{ start | hhmm }}-{{ end | hhmm }} {{ start | d_mon }}"
        "{% if end.date() != start.date() %}-{{ end | d_mon }}{% endif %}."
    ),
}


def _hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def _dd_mm(moment: datetime) -> str:
    return f"{moment:%d/%m}"


def _d_mon(moment: datetime) -> str:
    return f"{moment.day} {_EN_MONTHS[moment.month - 1]}"


_ENV = Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)
_ENV.filters.update(hhmm=_hhmm, dd_mm=_dd_mm, d_mon=_d_mon)
_COMPILED: dict[str, Template] = {
    language: _ENV.from_string(source) for language, source in NEW_ORDER_ALERT_TEMPLATES.items()
}


def resolve_language(language: str) -> str:
    """The template language for a producer's setting: "vi-VN" -> "vi"; unknown -> "en"."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return primary if primary in _COMPILED else DEFAULT_LANGUAGE


def new_order_alert_template(language: str) -> tuple[str, Template]:
    """The resolved language and its compiled new-order template."""
    resolved = resolve_language(language)
    return resolved, _COMPILED[resolved]
