"""One registry of platform names: events carry the name, operators may type an alias."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from shared.contracts.catalog import ChannelListingRef
from shared.contracts.orders import OrderLine, OrderPlaced
from shared.contracts.platforms import PLATFORMS, PlatformInput, platform_named


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("tiktok", "tiktok-shop"),
        ("TikTok Shop", "tiktok-shop"),
        ("tiktok_shop", "tiktok-shop"),
        (" TIKTOK-SHOP ", "tiktok-shop"),
        ("Woo", "woocommerce"),
        ("WooCommerce", "woocommerce"),
        ("Shopee", "shopee"),
    ],
)
def test_what_operators_type_becomes_the_platforms_name(typed: str, name: str) -> None:
    assert platform_named(typed) == name


def test_every_platform_is_its_own_name() -> None:
    assert [platform_named(p) for p in PLATFORMS] == list(PLATFORMS)
    assert "tiktok-shop" in PLATFORMS


def test_an_unknown_platform_is_refused_with_the_names_it_could_be() -> None:
    with pytest.raises(ValueError, match="unknown platform 'zalo': one of shopify, .*tiktok-shop"):
        platform_named("zalo")


class Typed(BaseModel):
    channel: PlatformInput


def test_the_input_type_stores_the_name_for_an_alias() -> None:
    assert Typed(channel="TikTok Shop").channel == "tiktok-shop"


def _placed(channel: str) -> OrderPlaced:
    return OrderPlaced(
        order_id="o-1",
        channel=channel,
        account="tt-shop",
        external_id="1",
        order_ref="#1",
        currency="VND",
        total=1,
        lines=[OrderLine(channel_sku="TT-1", name="x", quantity=1, unit_price=1)],
        placed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def test_events_carry_the_platforms_name_only() -> None:
    assert _placed("tiktok-shop").channel == "tiktok-shop"
    for alias in ("tiktok", "tiktok_shop", "zalo"):
        with pytest.raises(ValidationError):
            _placed(alias)
        with pytest.raises(ValidationError):
            ChannelListingRef(channel=alias, account="a", channel_sku="b")
