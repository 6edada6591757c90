"""Jinja2 templates, one per message type and language, kept as strings (no file I/O).

Templates are written with diacritics; the renderer folds Latin-script text when the recipient
wants none. Money and dates are formatted with Babel in the recipient's locale; times arrive
already converted to the recipient's time zone. Plain text: no autoescape. A language without a
template for a message type falls back to English.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, get_currency_precision
from jinja2 import Environment, StrictUndefined, Template, pass_context

DEFAULT_LANGUAGE = "en"
# Languages written in the Latin script: folding diacritics makes them GSM-7. Japanese and Thai
# cannot be GSM-7 at all, so they always travel as UCS-2 whatever the diacritics setting.
LATIN_SCRIPT = frozenset({"vi", "en", "id", "fil"})
BABEL_LOCALES = {"vi": "vi", "en": "en", "ja": "ja", "th": "th", "id": "id", "fil": "fil"}

NEW_ORDER = "producer.new_order"
NEW_ORDERS_DIGEST = "producer.new_orders_digest"
PICKUP_REMINDER = "producer.pickup_reminder"
PICKUP_CHANGED = "producer.pickup_changed"
PICKUP_CANCELLED = "producer.pickup_cancelled"
LOW_STOCK = "producer.low_stock"
ORDER_CONFIRMED = "buyer.order_confirmed"
SHIPPED = "buyer.shipped"
OUT_FOR_DELIVERY = "buyer.out_for_delivery"
DELIVERED = "buyer.delivered"
ORDER_CANCELLED = "buyer.order_cancelled"

# A pickup window in the recipient's words: "08:00-10:00 29/11" (both dates if it spans midnight).
_W = (
    "{{ start | hhmm }}-{{ end | hhmm }} {{ start | day }}"
    "{% if end.date() != start.date() %}-{{ end | day }}{% endif %}"
)


def _items(sep: str = ", ", fmt: str = "{{ q }} {{ n }}") -> str:
    return "{% for q, n in lines %}" + fmt + "{{ '' if loop.last else '" + sep + "' }}{% endfor %}"


_I = _items()
_I_JA = _items("、", "{{ n }}×{{ q }}")
_I_TH = _items(", ", "{{ n }} {{ q }}")
_PROMO = "{% if promo %} {{ promo }}{% endif %}"
_NAME = "{% for q, n in lines %}{{ n }}{% endfor %}"  # a product name, cut like a line


def _more(text: str) -> str:
    return "{% if more %}" + text + "{% endif %}"


def _digest(open_: str, sep: str, more: str, items: str = _I) -> str:
    return (
        open_
        + "{% for ref, lines in orders %}#{{ ref }}{% if lines %} ("
        + items
        + "){% endif %}{{ '' if loop.last else '"
        + sep
        + "' }}{% endfor %}"
        + _more(more)
    )


SMS_TEMPLATES: dict[str, dict[str, str]] = {
    NEW_ORDER: {
        "vi": "Đơn mới #{{ ref }}: "
        + _I
        + _more(", +{{ more }} món khác")
        + ". Lấy hàng "
        + _W
        + ".",
        "en": "New order #{{ ref }}: "
        + _I
        + _more(", +{{ more }} more item{{ 's' if more > 1 else '' }}")
        + ". Pickup "
        + _W
        + ".",
        "id": "Pesanan baru #{{ ref }}: "
        + _I
        + _more(", +{{ more }} item lain")
        + ". Dijemput "
        + _W
        + ".",
        "fil": "Bagong order #{{ ref }}: "
        + _I
        + _more(", +{{ more }} pang item")
        + ". Kukunin "
        + _W
        + ".",
        "ja": "新規注文#{{ ref }}: " + _I_JA + _more("、他{{ more }}点") + "。集荷 " + _W,
        "th": "ออเดอร์ใหม่ #{{ ref }}: " + _I_TH + _more(" +อีก {{ more }} รายการ") + " รับ " + _W,
    },
    NEW_ORDERS_DIGEST: {
        "vi": _digest("{{ count }} đơn mới: ", "; ", "; +{{ more }} đơn khác")
        + ". Lấy hàng "
        + _W
        + ".",
        "en": _digest("{{ count }} new orders: ", "; ", "; +{{ more }} more")
        + ". Pickup "
        + _W
        + ".",
        "id": _digest("{{ count }} pesanan baru: ", "; ", "; +{{ more }} lain")
        + ". Dijemput "
        + _W
        + ".",
        "fil": _digest("{{ count }} bagong order: ", "; ", "; +{{ more }} pa")
        + ". Kukunin "
        + _W
        + ".",
        "ja": _digest("新規注文{{ count }}件: ", "; ", "; 他{{ more }}件", _I_JA) + "。集荷 " + _W,
        "th": _digest("ออเดอร์ใหม่ {{ count }} รายการ: ", "; ", "; +อีก {{ more }}", _I_TH)
        + " รับของ "
        + _W,
    },
    PICKUP_REMINDER: {
        "vi": "Nhắc: xe lấy đơn #{{ ref }} lúc "
        + _W
        + ". Chuẩn bị: "
        + _I
        + _more(", +{{ more }} món khác")
        + ".",
        "en": "Reminder: pickup of order #{{ ref }} at "
        + _W
        + ". Prepare: "
        + _I
        + _more(", +{{ more }} more")
        + ".",
        "id": "Pengingat: penjemputan #{{ ref }} "
        + _W
        + ". Siapkan: "
        + _I
        + _more(", +{{ more }} lain")
        + ".",
        "fil": "Paalala: kukunin ang order #{{ ref }} "
        + _W
        + ". Ihanda: "
        + _I
        + _more(", +{{ more }} pa")
        + ".",
        "ja": "集荷のお知らせ #{{ ref }} " + _W + "。準備: " + _I_JA + _more("、他{{ more }}点"),
        "th": "เตือน: รับของ #{{ ref }} " + _W + " เตรียม: " + _I_TH + _more(" +อีก {{ more }}"),
    },
    PICKUP_CHANGED: {
        "vi": "Đổi lịch lấy đơn #{{ ref }}: " + _W + ".",
        "en": "Pickup of order #{{ ref }} moved to " + _W + ".",
        "id": "Jadwal jemput #{{ ref }} diubah: " + _W + ".",
        "fil": "Inilipat ang pagkuha ng order #{{ ref }}: " + _W + ".",
        "ja": "集荷日時変更 #{{ ref }}: " + _W,
        "th": "เปลี่ยนเวลารับของ #{{ ref }}: " + _W,
    },
    PICKUP_CANCELLED: {
        "vi": "Hủy lấy hàng đơn #{{ ref }}. Không cần chuẩn bị đơn này.",
        "en": "Pickup of order #{{ ref }} cancelled. No need to prepare it.",
        "id": "Penjemputan #{{ ref }} dibatalkan. Tidak perlu disiapkan.",
        "fil": "Kinansela ang pagkuha ng order #{{ ref }}. Hindi na kailangang ihanda.",
        "ja": "集荷キャンセル #{{ ref }}。準備は不要です。",
        "th": "ยกเลิกการรับของ #{{ ref }} ไม่ต้องเตรียม",
    },
    LOW_STOCK: {
        "vi": "Sắp hết hàng: " + _NAME + " còn {{ available }} (ngưỡng {{ threshold }}). "
        "Hãy bổ sung.",
        "en": "Low stock: " + _NAME + ": {{ available }} left (threshold {{ threshold }}). Please "
        "restock.",
        "id": "Stok menipis: " + _NAME + " sisa {{ available }} (batas {{ threshold }}). "
        "Mohon diisi.",
        "fil": "Paubos na: " + _NAME + ", {{ available }} na lang (limit {{ threshold }}).",
        "ja": "在庫僅少: " + _NAME + " 残り{{ available }}(基準{{ threshold }})。"
        "補充してください。",
        "th": "สินค้าใกล้หมด: " + _NAME + " เหลือ {{ available }} (ขั้นต่ำ {{ threshold }})",
    },
    ORDER_CONFIRMED: {
        "vi": "Đơn #{{ ref }} đã được xác nhận. Tổng {{ total | money(currency) }}. Cảm ơn bạn!",
        "en": "Your order #{{ ref }} is confirmed. Total {{ total | money(currency) }}. Thank you!",
    },
    SHIPPED: {
        "vi": "Đơn #{{ ref }} đã được gửi đi."
        "{% if tracking_url %} Theo dõi: {{ tracking_url }}{% endif %}",
        "en": "Your order #{{ ref }} has shipped."
        "{% if tracking_url %} Track it: {{ tracking_url }}{% endif %}",
    },
    OUT_FOR_DELIVERY: {
        "vi": "Đơn #{{ ref }} đang được giao hôm nay."
        "{% if cod %} Vui lòng chuẩn bị {{ cod | money(currency) }}.{% endif %}",
        "en": "Your order #{{ ref }} is out for delivery today."
        "{% if cod %} Please have {{ cod | money(currency) }} ready.{% endif %}",
    },
    DELIVERED: {
        "vi": "Đơn #{{ ref }} đã giao thành công. Cảm ơn bạn!" + _PROMO,
        "en": "Your order #{{ ref }} was delivered. Thank you!" + _PROMO,
    },
    ORDER_CANCELLED: {
        "vi": "Đơn #{{ ref }} đã bị hủy"
        "{% if partial %} một phần ({{ partial }} sản phẩm){% endif %}."
        "{% if after_pickup %} Hàng sẽ được hoàn về.{% endif %}",
        "en": "Your order #{{ ref }} was cancelled{% if partial %} in part ({{ partial }} item"
        "{{ 's' if partial > 1 else '' }}){% endif %}."
        "{% if after_pickup %} The parcel will be returned.{% endif %}",
    },
}

EMAIL_SUBJECTS: dict[str, dict[str, str]] = {
    ORDER_CONFIRMED: {"vi": "Đơn #{{ ref }} đã được xác nhận", "en": "Order #{{ ref }} confirmed"},
    SHIPPED: {"vi": "Đơn #{{ ref }} đã được gửi đi", "en": "Order #{{ ref }} has shipped"},
    OUT_FOR_DELIVERY: {
        "vi": "Đơn #{{ ref }} đang được giao",
        "en": "Order #{{ ref }} is out for delivery",
    },
    DELIVERED: {"vi": "Đơn #{{ ref }} đã giao", "en": "Order #{{ ref }} delivered"},
    ORDER_CANCELLED: {"vi": "Đơn #{{ ref }} đã bị hủy", "en": "Order #{{ ref }} cancelled"},
}


def _locale(ctx: Any) -> str:
    return BABEL_LOCALES.get(ctx.get("language", DEFAULT_LANGUAGE), DEFAULT_LANGUAGE)


def _hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


@pass_context
def _day(ctx: Any, moment: datetime) -> str:
    language = ctx.get("language", DEFAULT_LANGUAGE)
    if language == "vi":
        return f"{moment:%d/%m}"
    # Short numeric dates in UCS-2 languages, where every character is dear.
    if language == "ja":
        return f"{moment.month}/{moment.day}"
    if language == "th":
        return f"{moment.day}/{moment.month}"
    return format_date(moment, "d MMM", locale=_locale(ctx))


@pass_context
def _money(ctx: Any, amount_minor: int, currency: str) -> str:
    """Integer minor units as the recipient reads money: 900000 VND -> "900.000 VND" in vi."""
    amount = Decimal(amount_minor).scaleb(-get_currency_precision(currency))
    # The ISO code rather than a symbol: "₫" is not GSM-7 and "$" is ambiguous across APEC.
    return format_currency(amount, currency, format="#,##0.## ¤¤", locale=_locale(ctx))


_ENV = Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)
_ENV.filters.update(hhmm=_hhmm, day=_day, money=_money)
_COMPILED: dict[tuple[str, str], Template] = {
    (kind, language): _ENV.from_string(source)
    for table, kind_prefix in ((SMS_TEMPLATES, "sms"), (EMAIL_SUBJECTS, "subject"))
    for message_type, by_language in table.items()
    for language, source in by_language.items()
    for kind in (f"{kind_prefix}:{message_type}",)
}


class UnknownTemplate(LookupError):
    """No template at all (not even English) for this message type."""


def resolve_language(language: str | None, message_type: str = NEW_ORDER) -> str:
    """The template language for a setting: "vi-VN" -> "vi"; unknown -> "en"."""
    primary = (language or "").strip().lower().replace("_", "-").split("-")[0]
    primary = {"tl": "fil"}.get(primary, primary)  # Tagalog: Filipino's ISO 639-1 code
    return primary if (f"sms:{message_type}", primary) in _COMPILED else DEFAULT_LANGUAGE


def sms_template(message_type: str, language: str | None) -> tuple[str, Template]:
    """The resolved language and its compiled template; UnknownTemplate if the type has none."""
    if (f"sms:{message_type}", DEFAULT_LANGUAGE) not in _COMPILED:
        raise UnknownTemplate(f"no template for message type {message_type!r}")
    resolved = resolve_language(language, message_type)
    return resolved, _COMPILED[(f"sms:{message_type}", resolved)]


def subject_template(message_type: str, language: str) -> Template:
    key = (f"subject:{message_type}", language)
    if key not in _COMPILED:
        key = (f"subject:{message_type}", DEFAULT_LANGUAGE)
    if key not in _COMPILED:
        raise UnknownTemplate(f"no email subject for message type {message_type!r}")
    return _COMPILED[key]
