from typing import Any

import pytest
from pydantic import ValidationError

from services.catalog.domain import LocalizedText, Producer, Product

PRODUCER: dict[str, Any] = {
    "producer_id": "PRD-HG-001",
    "name": "Mèo Vạc co-operative",
    "kind": "cooperative",
    "village": "Mèo Vạc",
    "province": "Tuyên Quang",
    "country": "VN",
    "lat": 23.1572,
    "lon": 105.4083,
    "phone": "+84912000101",
    "languages": ["vi", "hmn"],
    "sms_language": "vi",
    "programme": "OCOP",
    "stars": 4,
    "story": {"vi": "Mật ong bạc hà.", "en": "Mint-flower honey."},
}

PRODUCT: dict[str, Any] = {
    "sku": "HG-HONEY-500",
    "producer_id": "PRD-HG-001",
    "names": {"vi": "Mật ong bạc hà", "en": "Mint-flower honey"},
    "price": 450000,
    "currency": "VND",
    "weight_g": 750,
    "story": {"origin": "Mèo Vạc", "materials": ["nectar"], "process": ["spin", "bottle"]},
}


def producer(**changes: Any) -> Producer:
    return Producer.model_validate(PRODUCER | changes)


def test_a_valid_producer_defaults_to_unaccented_sms_and_no_district() -> None:
    p = producer()
    assert p.sms_diacritics is False
    assert p.district is None


@pytest.mark.parametrize("phone", ["0912000101", "+84 912 000 101", "+8491200", "+84abc"])
def test_phone_must_be_a_valid_e164_number(phone: str) -> None:
    with pytest.raises(ValidationError, match="phone"):
        producer(phone=phone)


@pytest.mark.parametrize(
    ("programme", "stars"), [("OCOP", None), ("OCOP", 2), ("OCOP", 6), ("OVOP", 3), ("OTOP", 0)]
)
def test_stars_must_fit_the_programme(programme: str, stars: int | None) -> None:
    with pytest.raises(ValidationError):
        producer(programme=programme, stars=stars)


@pytest.mark.parametrize(("programme", "stars"), [("OVOP", None), ("OTOP", None), ("OTOP", 5)])
def test_programmes_without_mandatory_stars_accept_none_or_their_scale(
    programme: str, stars: int | None
) -> None:
    assert producer(programme=programme, stars=stars).stars == stars


def test_localized_text_needs_vi_and_en_and_accepts_other_languages() -> None:
    text = LocalizedText.model_validate({"vi": "Ô giấy", "en": "Umbrella", "th": "ร่ม"})
    assert text.model_extra == {"th": "ร่ม"}
    with pytest.raises(ValidationError):
        LocalizedText.model_validate({"vi": "Ô giấy"})
    with pytest.raises(ValidationError, match="language code"):
        LocalizedText.model_validate({"vi": "a", "en": "b", "Thai": "ร่ม"})


@pytest.mark.parametrize(
    "change",
    [
        {"price": -1},
        {"currency": "vnd"},
        {"weight_g": 0},
        {"volume_ml": 0},
        {"sku": " "},
        {"sku": "hon\u200bey"},
        {"producer_id": "x" * 256},
    ],
)
def test_product_refuses_impossible_values(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Product.model_validate(PRODUCT | change)


def test_price_is_an_integer_of_minor_units() -> None:
    with pytest.raises(ValidationError):
        Product.model_validate(PRODUCT | {"price": 450000.5})
