"""Folding Vietnamese to GSM-7-safe ASCII ("không dấu")."""

import unicodedata

import pytest

from services.notifications.domain.encoding import fold_vietnamese, is_gsm7, replace_non_gsm

# Every lowercase Vietnamese letter with a diacritic, typed out, grouped by its ASCII fold.
LETTERS_BY_BASE = {
    "a": "àáảãạăằắẳẵặâầấẩẫậ",
    "e": "èéẻẽẹêềếểễệ",
    "i": "ìíỉĩị",
    "o": "òóỏõọôồốổỗộơờớởỡợ",
    "u": "ùúủũụưừứửữự",
    "y": "ỳýỷỹỵ",
    "d": "đ",
}
LOWER_WITH_DIACRITICS = "".join(LETTERS_BY_BASE.values())
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # level, huyền, sắc, hỏi, ngã, nặng


def _generated_letters() -> set[str]:
    """All 146 Vietnamese vowel forms and đ in both cases, built from base vowel + tone mark."""
    vowels = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
    lower = {unicodedata.normalize("NFC", v + tone) for v in vowels for tone in TONES} | {"đ"}
    return lower | {letter.upper() for letter in lower}


def test_typed_table_holds_all_134_letters_with_diacritics() -> None:
    typed = set(LOWER_WITH_DIACRITICS) | set(LOWER_WITH_DIACRITICS.upper())
    assert len(typed) == 134
    assert typed == _generated_letters() - set("aeiouyAEIOUY")


def test_only_19_of_146_vietnamese_letters_are_gsm7() -> None:
    gsm = sorted(letter for letter in _generated_letters() if is_gsm7(letter))
    assert len(_generated_letters()) == 146
    assert gsm == sorted("aeiouyAEIOUY" + "àèéìòùÉ")


@pytest.mark.parametrize(("base", "letters"), LETTERS_BY_BASE.items())
def test_every_lowercase_letter_with_any_tone_folds_to_its_ascii_base(
    base: str, letters: str
) -> None:
    assert fold_vietnamese(letters) == base * len(letters)


@pytest.mark.parametrize(("base", "letters"), LETTERS_BY_BASE.items())
def test_every_uppercase_letter_with_any_tone_folds_to_its_ascii_base(
    base: str, letters: str
) -> None:
    assert fold_vietnamese(letters.upper()) == base.upper() * len(letters)


def test_letters_already_in_gsm7_still_fold_to_plain_ascii() -> None:
    assert fold_vietnamese("àèéìòùÉ") == "aeeiouE"


def test_decomposed_input_folds_like_composed_input() -> None:
    text = "Đặc sản Hà Giang: chè Shan tuyết cổ thụ"
    assert fold_vietnamese(unicodedata.normalize("NFD", text)) == fold_vietnamese(text)
    assert fold_vietnamese(text) == "Dac san Ha Giang: che Shan tuyet co thu"


def test_d_with_stroke_and_its_eth_lookalike_fold_to_d() -> None:
    assert fold_vietnamese("đường Đồng Ðông") == "duong Dong Dong"


def test_typographic_punctuation_and_dong_sign_fold_to_gsm7() -> None:
    folded = fold_vietnamese("‘Mật’ “ong” – 50.000₫ — hết…\u00a0ok\u200b")
    assert folded == "'Mat' \"ong\" - 50.000d - het... ok"
    assert is_gsm7(folded)


def test_folding_leaves_japanese_and_thai_marks_intact() -> None:
    assert fold_vietnamese("はちみつ がんばる") == "はちみつ がんばる"
    assert fold_vietnamese("น้ำผึ้ง") == "น้ำผึ้ง"


def test_replace_non_gsm_makes_any_text_gsm7() -> None:
    assert replace_non_gsm("Mật 🍯") == "M?t ?"
    assert is_gsm7(replace_non_gsm(fold_vietnamese("Mật ong 蜂蜜 🍯")))
