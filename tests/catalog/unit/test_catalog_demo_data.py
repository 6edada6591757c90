"""The demo dataset is valid, consistent and stays within its promises (see demo/README.md)."""

import json
import re
from importlib import resources
from typing import Any

import pytest

from services.catalog.domain import Producer, Product

# Rough bounding boxes, enough to catch swapped or mistyped coordinates.
BOUNDS = {
    "VN": (8.1, 23.4, 102.1, 109.5),
    "JP": (24.0, 46.0, 122.0, 146.0),
    "TH": (5.6, 20.5, 97.3, 105.7),
    "ID": (-11.0, 6.1, 95.0, 141.0),
    "PH": (4.5, 21.2, 116.9, 126.7),
}


def load(name: str) -> list[dict[str, Any]]:
    text = resources.files("services.catalog.demo").joinpath(f"{name}.json").read_text("utf-8")
    return json.loads(text)


PRODUCERS = [Producer.model_validate(row) for row in load("producers")]
PRODUCTS_RAW = load("products")
PRODUCTS = [
    Product.model_validate({k: v for k, v in r.items() if k != "stock"}) for r in PRODUCTS_RAW
]
LISTINGS = load("listings")


def test_ids_and_skus_are_unique() -> None:
    assert len({p.producer_id for p in PRODUCERS}) == len(PRODUCERS)
    assert len({p.sku for p in PRODUCTS}) == len(PRODUCTS)


def test_every_product_belongs_to_a_listed_producer() -> None:
    ids = {p.producer_id for p in PRODUCERS}
    assert {p.producer_id for p in PRODUCTS} <= ids


def test_every_product_has_exactly_one_shopify_listing() -> None:
    assert sorted(r["sku"] for r in LISTINGS) == sorted(p.sku for p in PRODUCTS)
    for row in LISTINGS:
        assert (row["channel"], row["account"]) == ("shopify", "demo-shop")
        assert row["channel_sku"] == f"SHOP-{row['sku']}"


def test_initial_stock_is_a_non_negative_integer() -> None:
    assert all(isinstance(r["stock"], int) and r["stock"] >= 0 for r in PRODUCTS_RAW)


def test_phones_are_unique_demo_numbers() -> None:
    phones = [p.phone for p in PRODUCERS]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"\+849120001\d\d", phone) for phone in phones)


@pytest.mark.parametrize("producer", PRODUCERS, ids=lambda p: p.producer_id)
def test_coordinates_lie_in_the_producers_country_with_four_decimals(producer: Producer) -> None:
    lat_min, lat_max, lon_min, lon_max = BOUNDS[producer.country]
    assert lat_min <= producer.lat <= lat_max and lon_min <= producer.lon <= lon_max
    assert round(producer.lat, 4) == producer.lat and round(producer.lon, 4) == producer.lon


def test_vietnamese_addresses_have_no_district_since_july_2025() -> None:
    assert all(p.district is None for p in PRODUCERS if p.country == "VN")


def test_the_promised_products_are_there() -> None:
    by_sku = {p.sku: p for p in PRODUCTS}
    producers = {p.producer_id: p for p in PRODUCERS}
    honey, sauce = by_sku["HG-HONEY-500"], by_sku["PQ-FISHSAUCE-500"]
    assert "bạc hà" in honey.names.vi and producers[honey.producer_id].ward == "Xã Mèo Vạc"
    assert "Phú Quốc" in sauce.names.vi and producers[sauce.producer_id].province == "An Giang"
    assert {p.country for p in PRODUCERS} == {"VN", "JP", "TH", "ID", "PH"}


def test_at_least_thirty_producers_in_six_vietnamese_provinces_and_four_other_countries() -> None:
    assert len(PRODUCERS) >= 30
    assert len({p.province for p in PRODUCERS if p.country == "VN"}) >= 6
    assert {p.province for p in PRODUCERS if p.country == "JP"} == {"Ōita"}
    for country in ("TH", "ID", "PH"):
        assert sum(p.country == country for p in PRODUCERS) >= 2


def test_every_story_is_told_in_vietnamese_and_english() -> None:
    assert all(p.story and p.story.vi and p.story.en for p in PRODUCERS)
    assert all(p.story and p.story.origin and p.story.process for p in PRODUCTS)
    assert all(p.names.vi and p.names.en for p in PRODUCTS)


def test_the_skus_the_simulator_and_the_journey_use_are_still_there() -> None:
    skus = {p.sku for p in PRODUCTS}
    assert {"HG-HONEY-500", "PQ-FISHSAUCE-500", "CP-ORANGE-3KG", "OI-KABOSU-300"} <= skus
    honey = next(r for r in LISTINGS if r["sku"] == "HG-HONEY-500")
    assert honey["channel_sku"] == "SHOP-HG-HONEY-500"
