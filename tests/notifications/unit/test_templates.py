"""Every message type in every language it promises, Babel money and dates in the recipient's
time zone, GSM-7 for Latin scripts without diacritics, budgets kept, digests shortened."""

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import templates as t
from services.notifications.domain.encoding import is_gsm7
from services.notifications.domain.messages import (
    DigestOrder,
    ProducerAlertLine,
    render_digest,
    render_sms,
    render_subject,
)

START = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
PRODUCER = [
    t.NEW_ORDER,
    t.NEW_ORDERS_DIGEST,
    t.PICKUP_REMINDER,
    t.PICKUP_CHANGED,
    t.PICKUP_CANCELLED,
    t.LOW_STOCK,
]
BUYER = [t.ORDER_CONFIRMED, t.SHIPPED, t.OUT_FOR_DELIVERY, t.DELIVERED, t.ORDER_CANCELLED]
CONTEXT = {
    "ref": "#1001",
    "start": START,
    "end": START + timedelta(hours=2),
    "available": 3,
    "threshold": 5,
    "total": 900_000,
    "currency": "VND",
    "count": 2,
    "orders": [],
    "tracking_url": "https://t.example/x",
    "cod": 900_000,
}
LINES = [ProducerAlertLine("Mật ong bạc hà", 2)]


@pytest.mark.parametrize("message_type", PRODUCER)
@pytest.mark.parametrize("language", ["vi", "en", "ja", "th", "id", "fil"])
def test_producer_alerts_exist_in_six_languages(message_type, language):
    assert (f"sms:{message_type}", language) in t._COMPILED
    if message_type != t.NEW_ORDERS_DIGEST:
        sms = render_sms(message_type, language=language, context=CONTEXT, lines=LINES)
        assert sms.language == language
        assert "#1001" in sms.text or "Mat ong" in sms.text or "Mật ong" in sms.text


@pytest.mark.parametrize("message_type", BUYER)
def test_buyer_messages_are_complete_in_vietnamese_and_english(message_type):
    for language in ("vi", "en"):
        sms = render_sms(message_type, language=language, context=CONTEXT, segment_budget=2)
        assert sms.language == language and "#1001" in sms.text
        assert is_gsm7(sms.text) and sms.segments <= 2
        assert "#1001" in render_subject(message_type, language, CONTEXT)


def test_a_buyer_message_in_a_language_without_a_template_falls_back_to_english():
    sms = render_sms(t.DELIVERED, language="ja", context=CONTEXT)
    assert sms.language == "en" and sms.text == "Your order #1001 was delivered. Thank you!"


def test_tagalog_is_filipino():
    assert render_sms(t.PICKUP_CANCELLED, language="tl", context=CONTEXT).language == "fil"


def test_an_unknown_message_type_is_a_precise_error():
    with pytest.raises(t.UnknownTemplate, match="producer.teleport"):
        render_sms("producer.teleport", language="vi", context=CONTEXT)


@pytest.mark.parametrize(
    ("language", "currency", "amount", "shown"),
    [
        ("vi", "VND", 900_000, "900.000 VND"),
        ("en", "VND", 900_000, "900,000 VND"),
        ("en", "USD", 1234, "12.34 USD"),
        ("en", "JPY", 5000, "5,000 JPY"),
    ],
)
def test_money_is_formatted_by_babel_from_minor_units(language, currency, amount, shown):
    sms = render_sms(
        t.ORDER_CONFIRMED,
        language=language,
        context={**CONTEXT, "total": amount, "currency": currency},
    )
    assert shown in sms.text


def test_dates_are_shown_in_the_recipients_time_zone_and_language():
    window = {**CONTEXT, "start": START, "end": START + timedelta(hours=2)}
    assert (
        "09:00-11:00 29/11"
        in render_sms(t.PICKUP_CHANGED, language="vi", tz="Asia/Manila", context=window).text
    )
    assert (
        "10:00-12:00 11/29"
        in render_sms(t.PICKUP_CHANGED, language="ja", tz="Asia/Tokyo", context=window).text
    )
    assert (
        "29 Nov"
        in render_sms(t.PICKUP_CHANGED, language="id", tz="Asia/Jakarta", context=window).text
    )
    thai = render_sms(t.PICKUP_CHANGED, language="th", tz="Asia/Bangkok", context=window)
    assert "08:00-10:00 29/11" in thai.text and thai.encoding == "UCS-2"


def test_japanese_and_thai_are_never_folded_to_question_marks():
    sms = render_sms(
        t.NEW_ORDER, language="ja", context=CONTEXT, lines=[ProducerAlertLine("はちみつ", 2)]
    )
    assert "はちみつ×2" in sms.text and "?" not in sms.text and sms.encoding == "UCS-2"


@pytest.mark.parametrize("language", ["vi", "en", "id", "fil"])
def test_latin_script_producer_alerts_are_gsm7_and_fit_one_segment(language):
    for message_type in (
        t.NEW_ORDER,
        t.PICKUP_REMINDER,
        t.PICKUP_CHANGED,
        t.PICKUP_CANCELLED,
        t.LOW_STOCK,
    ):
        sms = render_sms(message_type, language=language, context=CONTEXT, lines=LINES * 6)
        assert sms.encoding == "GSM-7" and sms.segments == 1, (message_type, sms.text)


def _orders(n: int, lines: int = 2) -> list[DigestOrder]:
    names = ["Mật ong bạc hà Mèo Vạc 500 g", "Hồng trà Shan tuyết hộp 100 g", "Nước mắm"]
    return [
        DigestOrder(
            f"#{1000 + i}", tuple(ProducerAlertLine(names[j % 3], j + 1) for j in range(lines))
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("count", [2, 3, 5, 12, 40])
@pytest.mark.parametrize("language", ["vi", "en", "id", "fil"])
def test_a_digest_of_any_size_fits_one_segment_and_is_deterministic(count, language):
    kwargs = dict(
        orders=_orders(count),
        pickup_start=START,
        pickup_end=START + timedelta(hours=2),
        language=language,
    )
    sms = render_digest(**kwargs)
    assert sms.segments == 1 and sms.encoding == "GSM-7"
    assert sms == render_digest(**kwargs)
    assert f"{count}" in sms.text and "#1000" in sms.text


def test_a_long_digest_drops_trailing_orders_then_details():
    sms = render_digest(
        orders=_orders(12), pickup_start=START, pickup_end=START + timedelta(hours=2), language="en"
    )
    assert sms.text.startswith("12 new orders: #1000")
    assert "more. Pickup 08:00-10:00 29 Nov." in sms.text
