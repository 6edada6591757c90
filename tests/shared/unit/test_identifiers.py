"""Identifiers as operators have them: any printable text up to 255 characters, trimmed, NFC,
case kept, compared exactly."""

from __future__ import annotations

import re
import unicodedata

import pytest
from pydantic import BaseModel, ValidationError

from shared.contracts.identifiers import Identifier, identifier

OPERATORS_IDS = ["htx-mật-ong", "0042", "hg.honey_500", "Mật ong 500g", "test2022 02", "a/b", "ABC"]


class Row(BaseModel):
    sku: Identifier


@pytest.mark.parametrize("value", OPERATORS_IDS)
def test_operators_own_ids_are_kept_as_they_are(value: str) -> None:
    assert identifier(value) == value
    assert Row(sku=value).sku == value


def test_case_is_kept_so_upper_and_lower_case_are_two_ids() -> None:
    assert identifier("ABC") == "ABC" and identifier("abc") == "abc"
    assert Row(sku="ABC") != Row(sku="abc")


def test_a_decomposed_vietnamese_id_is_stored_precomposed() -> None:
    typed = unicodedata.normalize("NFD", "Mật ong 500g")
    assert typed != "Mật ong 500g"  # the combining marks are separate code points
    assert identifier(typed) == "Mật ong 500g"


def test_spaces_around_an_id_are_trimmed_and_spaces_inside_are_kept() -> None:
    assert identifier("  test2022 02\u00a0\n") == "test2022 02"


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_an_id_that_is_empty_after_trimming_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        identifier(value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("HG\tHONEY", "U+0009 at position 3"),  # a control character (Cc)
        ("HG\u200bHONEY", "U+200B at position 3"),  # a zero-width space (Cf)
        ("HG\u2028HONEY", "U+2028 at position 3"),  # a line separator
        ("mật\x85ong", "U+0085 at position 4"),  # a C1 control
    ],
)
def test_invisible_characters_inside_an_id_are_refused_by_code_and_position(
    value: str, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        identifier(value)


def test_an_id_may_have_255_characters_counted_in_nfc_but_not_256() -> None:
    longest = "ậ" * 255
    assert identifier(unicodedata.normalize("NFD", longest)) == longest  # 765 code points in NFD
    with pytest.raises(ValueError, match="is 256 characters long, at most 255"):
        identifier("x" * 256)


def test_a_model_names_the_field_of_an_invalid_id() -> None:
    with pytest.raises(ValidationError) as caught:
        Row(sku="HG\x00HONEY")
    [error] = caught.value.errors()
    assert error["loc"] == ("sku",) and "U+0000 at position 3" in error["msg"]


def test_the_json_schema_states_the_length_limits() -> None:
    schema = Row.model_json_schema()["properties"]["sku"]
    assert (schema["type"], schema["minLength"], schema["maxLength"]) == ("string", 1, 255)
