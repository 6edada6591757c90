"""The label's QR code links the product's story page in the catalog, whatever its SKU holds."""

from __future__ import annotations

from services.logistics.adapters.labels import story_url


def test_the_story_url_carries_the_sku_as_one_percent_encoded_segment() -> None:
    assert story_url("https://ovop.example/", "HG-HONEY-500") == (
        "https://ovop.example/p/HG-HONEY-500"
    )
    assert story_url("https://ovop.example", "Mật ong 500g/hũ") == (
        "https://ovop.example/p/M%E1%BA%ADt%20ong%20500g%2Fh%C5%A9"
    )
