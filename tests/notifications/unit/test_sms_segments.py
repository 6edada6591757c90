"""GSM-7 / UCS-2 segment counting, including part boundaries that naive division gets wrong."""

import unicodedata

import pytest

from services.notifications.domain.encoding import (
    GSM7_BASIC_CHARS,
    GSM7_EXTENSION_CHARS,
    SmsEncoding,
    count_segments,
    fold_vietnamese,
    is_gsm7,
    septet_length,
)

HANDBOOK_EXAMPLE = "Đơn hàng mới #A1234: 5 kg mật ong…"
FULL_ALERT = (
    "Đơn hàng mới #A1234: 5 kg mật ong hoa cà phê, 2 chai nước mắm Phú Quốc. "
    "Lấy hàng 08:00-10:00 29/11."
)


def test_gsm_tables_have_127_basic_and_10_extension_characters() -> None:
    assert len(GSM7_BASIC_CHARS) == 127  # 128 codes minus ESC
    assert GSM7_EXTENSION_CHARS == set("^{}\\[]|€~\f")


def test_one_non_gsm_character_switches_the_whole_message_to_ucs2() -> None:
    assert count_segments("a" * 100) == SmsEncoding("GSM-7", 1, 100)
    assert count_segments("a" * 100 + "ă") == SmsEncoding("UCS-2", 2, 101)


def test_empty_text_is_one_gsm7_segment() -> None:
    assert count_segments("") == SmsEncoding("GSM-7", 1, 0)


def test_160_septets_fit_one_segment_and_161_need_two() -> None:
    assert count_segments("a" * 160) == SmsEncoding("GSM-7", 1, 160)
    assert count_segments("a" * 161) == SmsEncoding("GSM-7", 2, 161)


def test_multipart_gsm7_carries_153_septets_per_part() -> None:
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_extension_characters_cost_two_septets() -> None:
    assert septet_length("{€}") == 6
    assert count_segments("€" * 80) == SmsEncoding("GSM-7", 1, 160)
    assert count_segments("€" * 81) == SmsEncoding("GSM-7", 2, 162)


def test_extension_character_never_straddles_a_part_boundary() -> None:
    # 306 septets would be 2 parts by division, but "€" cannot take septets 153-154 of part 1.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text) == SmsEncoding("GSM-7", 3, 306)


def test_septet_length_rejects_non_gsm_text_with_its_position() -> None:
    with pytest.raises(ValueError, match="index 2"):
        septet_length("abă")


def test_is_gsm7_accepts_extension_characters_and_rejects_vietnamese_letters() -> None:
    assert is_gsm7("{[~]} | € ^ \\ \f")
    assert not is_gsm7("ơ")


def test_70_ucs2_units_fit_one_segment_and_71_need_two() -> None:
    assert count_segments("ă" * 70) == SmsEncoding("UCS-2", 1, 70)
    assert count_segments("ă" * 71) == SmsEncoding("UCS-2", 2, 71)


def test_multipart_ucs2_carries_67_units_per_part() -> None:
    assert count_segments("ă" * 134).segments == 2
    assert count_segments("ă" * 135).segments == 3


def test_emoji_outside_the_bmp_counts_two_utf16_units() -> None:
    assert count_segments("ă" * 68 + "🍯") == SmsEncoding("UCS-2", 1, 70)
    assert count_segments("ă" * 69 + "🍯") == SmsEncoding("UCS-2", 2, 71)


def test_surrogate_pair_never_splits_across_parts() -> None:
    # 134 units would be 2 parts by division; the emoji cannot take units 67-68 of part 1.
    text = "ă" * 66 + "🍯" + "ă" * 66
    assert count_segments(text) == SmsEncoding("UCS-2", 3, 134)


def test_handbook_example_as_printed_is_one_ucs2_segment_and_one_gsm7_folded() -> None:
    # The handbook's sentence ends in "…": as printed it is only 34 units, so 1 UCS-2 segment.
    assert count_segments(HANDBOOK_EXAMPLE) == SmsEncoding("UCS-2", 1, 34)
    assert fold_vietnamese(HANDBOOK_EXAMPLE) == "Don hang moi #A1234: 5 kg mat ong..."
    assert count_segments(fold_vietnamese(HANDBOOK_EXAMPLE)) == SmsEncoding("GSM-7", 1, 36)


def test_full_vietnamese_alert_is_two_ucs2_segments_raw_and_one_gsm7_folded() -> None:
    assert count_segments(FULL_ALERT) == SmsEncoding("UCS-2", 2, 99)
    assert count_segments(fold_vietnamese(FULL_ALERT)) == SmsEncoding("GSM-7", 1, 99)


def test_decomposed_vietnamese_costs_more_ucs2_units_than_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", FULL_ALERT)
    assert count_segments(decomposed) == SmsEncoding("UCS-2", 2, 118)
    assert count_segments(decomposed).units > count_segments(FULL_ALERT).units
