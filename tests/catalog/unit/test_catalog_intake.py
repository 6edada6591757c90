"""Operator input to producers and products: fields named in every error."""

import pytest

from services.catalog.domain.intake import (
    IntakeError,
    producer_from_csv,
    product_from_csv,
    to_minor_units,
)
from services.catalog.entrypoints.story import format_price, map_url, negotiate_language

ROW = {
    "producer_id": "PRD-TH-009",
    "name": "Bo Sang umbrella makers",
    "phone": "081 234 5678",
    "province": "Chiang Mai",
    "village": "Bo Sang",
    "lat": "18.7667",
    "lon": "99.0833",
    "country": "th",
    "programme": "OTOP",
    "stars": "5",
    "certifications": "OTOP 5-star; Thai Community Product Standard",
}


def test_a_producer_row_takes_its_countrys_phone_plan_and_defaults() -> None:
    p = producer_from_csv(ROW)
    assert p.phone == "+66812345678" and p.country == "TH" and p.sms_language == "en"
    assert p.certifications == ("OTOP 5-star", "Thai Community Product Standard")
    assert p.kind == "household" and p.story is None


@pytest.mark.parametrize(
    ("change", "field"),
    [({"lat": "95"}, "lat"), ({"lon": "east"}, "lon"), ({"phone": "12"}, "phone"),
     ({"stars": "9"}, "stars"), ({"producer_id": "P\t1"}, "producer_id"),
     ({"producer_id": ""}, "producer_id")],
)  # fmt: skip
def test_a_bad_producer_row_names_the_field(change, field) -> None:
    with pytest.raises(IntakeError) as error:
        producer_from_csv(ROW | change)
    assert field in [e.field for e in error.value.errors]


def test_a_product_row_converts_the_price_to_minor_units() -> None:
    product, stock = product_from_csv(
        {"sku": "TH-UMB-20", "producer_id": "PRD-TH-009", "name": "Umbrella", "price": "450.50",
         "currency": "THB", "weight_g": "400", "stock": "7", "materials": "saa paper; bamboo",
         "process": "split bamboo;glue paper", "origin": "Bo Sang"}
    )  # fmt: skip
    assert (product.price, stock) == (45050, 7)
    assert product.story and product.story.materials == ("saa paper", "bamboo")


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("450000", "VND", 450000), ("450.5", "THB", 45050), ("1,200", "JPY", 1200)],
)
def test_prices_become_integer_minor_units(amount, currency, minor) -> None:
    assert to_minor_units(amount, currency) == minor


@pytest.mark.parametrize(("amount", "currency"), [("1.5", "VND"), ("-1", "THB"), ("x", "VND")])
def test_impossible_prices_are_refused(amount, currency) -> None:
    with pytest.raises(ValueError):
        to_minor_units(amount, currency)


@pytest.mark.parametrize(
    ("query", "header", "lang"),
    [("en", "vi", "en"), ("xx", "en-US,en;q=0.9", "en"), (None, "ja, en;q=0.2, vi;q=0.5", "vi"),
     (None, None, "vi"), (None, "en;q=0", "vi"), (None, "EN-gb", "en")],
)  # fmt: skip
def test_the_story_page_language(query, header, lang) -> None:
    assert negotiate_language(query, header) == lang


def test_prices_and_map_links_for_people() -> None:
    assert format_price(450000, "VND", "vi") == "450.000 VND"
    assert format_price(45050, "THB", "en") == "450.50 THB"
    assert map_url(23.1572, 105.4083).startswith("https://www.openstreetmap.org/?mlat=23.15720")
