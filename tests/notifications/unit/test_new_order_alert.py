"""Rendering the producer's new-order SMS: language, time zone, GSM-7 safety and shortening."""

from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifications.domain.encoding import is_gsm7
from services.notifications.domain.messages import (
    ProducerAlertLine,
    RenderedSms,
    render_new_order_alert,
)

START = datetime(2024, 11, 29, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
END = datetime(2024, 11, 29, 3, 0, tzinfo=UTC)
TWO_LINES = [ProducerAlertLine("Mật ong bạc hà", 2), ProducerAlertLine("Nước mắm", 1)]
TWELVE_NAMES = [
    "Mật ong bạc hà",
    "Nước mắm Phú Quốc",
    "Trà Shan tuyết cổ thụ",
    "Gạo ST25",
    "Cà phê Buôn Ma Thuột",
    "Hạt điều Bình Phước",
    "Bưởi da xanh",
    "Nem chua Thanh Hóa",
    "Chè Thái Nguyên",
    "Mắm tôm Hậu Lộc",
    "Bánh pía Sóc Trăng",
    "Kẹo dừa Bến Tre",
]
TWELVE_LINES = [ProducerAlertLine(name, i + 1) for i, name in enumerate(TWELVE_NAMES)]
LONG_NAME = " ".join(["Mật ong hoa cà phê nguyên chất Đắk Lắk thu hoạch vụ xuân"] * 4)


def alert(lines: list[ProducerAlertLine] = TWO_LINES, **kwargs: Any) -> RenderedSms:
    kwargs.setdefault("order_ref", "1001")
    return render_new_order_alert(lines=lines, pickup_start=START, pickup_end=END, **kwargs)


def test_vietnamese_alert_without_diacritics_is_one_gsm7_segment() -> None:
    sms = alert()
    assert sms.text == "Don moi #1001: 2 Mat ong bac ha, 1 Nuoc mam. Lay hang 08:00-10:00 29/11."
    assert (sms.encoding, sms.segments, sms.language) == ("GSM-7", 1, "vi")
    assert is_gsm7(sms.text)


def test_vietnamese_alert_with_diacritics_keeps_them_and_is_ucs2() -> None:
    sms = alert(diacritics=True, segment_budget=2)
    assert sms.text == "Đơn mới #1001: 2 Mật ong bạc hà, 1 Nước mắm. Lấy hàng 08:00-10:00 29/11."
    assert (sms.encoding, sms.segments) == ("UCS-2", 2)


def test_english_alert_shows_day_and_month_name() -> None:
    sms = alert(
        language="en",
        lines=[ProducerAlertLine("Mint honey", 2), ProducerAlertLine("Fish sauce", 1)],
    )
    assert sms.text == "New order #1001: 2 Mint honey, 1 Fish sauce. Pickup 08:00-10:00 29 Nov."
    assert (sms.encoding, sms.segments, sms.language) == ("GSM-7", 1, "en")


@pytest.mark.parametrize("language", ["fr", "ko", "", "xx-YY"])
def test_unknown_language_falls_back_to_english(language: str) -> None:
    sms = alert(language=language)
    assert sms.language == "en"
    assert sms.text.startswith("New order #1001: ")


def test_language_with_region_uses_its_primary_language() -> None:
    assert alert(language="vi_VN").language == "vi"
    assert alert(language="EN-ph").language == "en"


def test_pickup_window_is_shown_in_the_recipients_time_zone() -> None:
    assert "Lay hang 08:00-10:00 29/11." in alert(tz="Asia/Ho_Chi_Minh").text
    assert "Pickup 10:00-12:00 29 Nov." in alert(language="en", tz="Asia/Tokyo").text


def test_utc_evening_pickup_falls_on_the_next_local_day() -> None:
    sms = render_new_order_alert(
        order_ref="7",
        lines=TWO_LINES,
        language="en",
        pickup_start=datetime(2024, 11, 28, 23, 0, tzinfo=UTC),
        pickup_end=datetime(2024, 11, 29, 0, 30, tzinfo=UTC),
    )
    assert sms.text.endswith("Pickup 06:00-07:30 29 Nov.")


def test_pickup_window_across_midnight_shows_both_dates() -> None:
    sms = render_new_order_alert(
        order_ref="7",
        lines=TWO_LINES,
        pickup_start=datetime(2024, 11, 29, 15, 0, tzinfo=UTC),
        pickup_end=datetime(2024, 11, 29, 18, 0, tzinfo=UTC),
    )
    assert sms.text.endswith("Lay hang 22:00-01:00 29/11-30/11.")


def test_naive_pickup_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_new_order_alert(
            order_ref="1", lines=TWO_LINES, pickup_start=datetime(2024, 11, 29, 8), pickup_end=END
        )


def test_without_diacritics_any_product_name_yields_pure_gsm7() -> None:
    lines = [ProducerAlertLine("蜂蜜 🍯", 1), ProducerAlertLine("“Trà” – 50.000₫", 2)]
    sms = alert(lines=lines)
    assert is_gsm7(sms.text)
    assert '1 ?? ?, 2 "Tra" - 50.000d.' in sms.text


def test_typical_three_line_alert_fits_one_gsm7_segment() -> None:
    sms = alert(lines=TWELVE_LINES[:3])
    assert (sms.encoding, sms.segments) == ("GSM-7", 1)


def test_trailing_lines_are_replaced_by_a_vietnamese_count() -> None:
    sms = alert(lines=TWELVE_LINES, order_ref="A1234")
    assert sms.text == (
        "Don moi #A1234: 1 Mat ong bac ha, 2 Nuoc mam Phu Quoc, 3 Tra Shan tuyet co thu, "
        "4 Gao ST25, 5 Ca phe Buon Ma Thuot, +7 mon khac. Lay hang 08:00-10:00 29/11."
    )
    assert sms.segments == 1


def test_trailing_lines_are_replaced_by_an_english_count() -> None:
    sms = alert(lines=TWELVE_LINES, order_ref="A1234", language="en")
    assert ", 5 Ca phe Buon Ma Thuot, +7 more items. Pickup" in sms.text
    assert sms.segments == 1


def test_one_hidden_line_reads_as_one_more_item() -> None:
    lines = [ProducerAlertLine("Honey " * 12, 1), ProducerAlertLine("Tea " * 12, 2)]
    assert ", +1 more item. Pickup" in alert(lines=lines, language="en").text


def test_shortening_is_deterministic() -> None:
    assert alert(lines=TWELVE_LINES) == alert(lines=TWELVE_LINES)


def test_larger_budget_shows_every_line() -> None:
    sms = alert(lines=TWELVE_LINES, segment_budget=2)
    assert (sms.segments, "mon khac" in sms.text) == (2, False)


@pytest.mark.parametrize("count", range(1, 31))
@pytest.mark.parametrize("language", ["vi", "en"])
def test_alert_never_exceeds_a_one_segment_budget(count: int, language: str) -> None:
    lines = [TWELVE_LINES[i % 12] for i in range(count)]
    assert alert(lines=lines, language=language).segments == 1


def test_long_name_is_cut_between_words_to_fit_the_budget() -> None:
    sms = alert(lines=[ProducerAlertLine(LONG_NAME, 2)])
    kept = sms.text.split(": 2 ", 1)[1].split(". Lay hang", 1)[0].split()
    folded = "Mat ong hoa ca phe nguyen chat Dak Lak thu hoach vu xuan".split() * 4
    assert sms.segments == 1
    assert 1 < len(kept) < len(folded)
    assert kept == folded[: len(kept)]  # whole words only, in order


def test_cutting_a_long_name_keeps_the_short_lines_whole() -> None:
    lines = [
        ProducerAlertLine(LONG_NAME, 2),
        ProducerAlertLine("Nước mắm", 1),
        ProducerAlertLine("Trà", 3),
    ]
    sms = alert(lines=lines)
    assert sms.segments == 1
    assert sms.text.endswith(", 1 Nuoc mam, 3 Tra. Lay hang 08:00-10:00 29/11.")


def test_diacritics_alert_is_cut_at_a_word_to_fit_one_ucs2_segment() -> None:
    sms = alert(diacritics=True)
    assert sms.text == "Đơn mới #1001: 2 Mật ong bạc, 1 Nước mắm. Lấy hàng 08:00-10:00 29/11."
    assert (sms.encoding, sms.segments) == ("UCS-2", 1)


def test_when_nothing_fits_the_smallest_alert_reports_its_real_segments() -> None:
    sms = alert(
        order_ref="X" * 200, lines=[ProducerAlertLine(LONG_NAME, 2), ProducerAlertLine("Trà", 3)]
    )
    assert sms.segments == 2
    assert ": 2 Mat, 3 Tra. Lay hang" in sms.text


def test_a_single_word_longer_than_the_budget_is_never_cut() -> None:
    word = "Mieng" * 40
    sms = alert(lines=[ProducerAlertLine(word, 1)])
    assert f" 1 {word}. " in sms.text
    assert sms.segments == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"segment_budget": 0}, "segment_budget"),
        ({"lines": []}, "at least one line"),
        ({"order_ref": " # "}, "order_ref"),
    ],
)
def test_invalid_arguments_fail_fast(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        alert(**kwargs)


def test_alert_lines_reject_blank_names_and_non_positive_quantities() -> None:
    with pytest.raises(ValueError, match="name"):
        ProducerAlertLine("  ", 1)
    with pytest.raises(ValueError, match="quantity"):
        ProducerAlertLine("Trà", 0)
