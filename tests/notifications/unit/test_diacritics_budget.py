"""Diacritics are kept while they fit the segment budget, and folded past it."""

from datetime import UTC, datetime, timedelta

from services.notifications.domain.messages import ProducerAlertLine, render_new_order_alert

START = datetime(2026, 11, 29, 3, tzinfo=UTC)


def alert(ref: str, *names: str):
    return render_new_order_alert(
        order_ref=ref,
        lines=[ProducerAlertLine(name=n, quantity=2) for n in names],
        pickup_start=START,
        pickup_end=START + timedelta(hours=2),
        language="vi",
        diacritics=True,
    )


def test_a_short_alert_keeps_the_diacritics_the_producer_asked_for() -> None:
    sms = alert("#1042", "Mật ong")
    assert sms.encoding == "UCS-2" and sms.segments == 1
    assert "Mật ong" in sms.text


def test_an_alert_that_would_cost_two_ucs2_segments_is_folded_into_one_gsm7_segment() -> None:
    sms = alert("123456789012345678", "Bánh đa nem Làng Chều", "Nón lá Chuông", "Gạo Séng Cù")
    assert sms.encoding == "GSM-7" and sms.segments == 1
    assert "2 Banh da nem Lang Cheu, 2 Non la Chuong, 2 Gao Seng Cu" in sms.text
