"""Channel accounts as operators name them: added with `ovop channels add` under the platform's
name or an alias, stored trimmed and NFC, and reached by the platform at a webhook URL that
carries the account percent-encoded, spaces, `/` and Vietnamese letters included."""

from __future__ import annotations

import asyncio
import unicodedata
from urllib.parse import quote

import pytest
from click.testing import CliRunner, Result

from services.orders.entrypoints.cli import channels
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from tests.orders.integration.conftest import Orders, auth

pytestmark = pytest.mark.integration

SHOP = "Cửa hàng/Mật ong"


async def ovop_channels(orders: Orders, monkeypatch, *args: str) -> Result:
    monkeypatch.setenv("ORDERS_DATABASE_URL", orders.service.settings.own_database_url)
    return await asyncio.to_thread(CliRunner().invoke, channels, list(args))


async def test_an_account_named_as_the_operator_likes_takes_pushes_at_its_encoded_url(
    orders: Orders, monkeypatch
) -> None:
    typed = unicodedata.normalize("NFD", f"  {SHOP} ")
    added = await ovop_channels(orders, monkeypatch, "add", "Shopify", typed, "--secret", "sec")
    tiktok = await ovop_channels(orders, monkeypatch, "add", "TikTok", "tt-shop", "--secret", "s")
    assert added.exit_code == 0 and tiktok.exit_code == 0, added.output + tiktok.output
    async with orders.pool.acquire() as conn:
        stored = await conn.fetch("SELECT platform, account FROM channel_accounts ORDER BY 1")
    assert [tuple(r) for r in stored] == [("shopify", SHOP), ("tiktok-shop", "tt-shop")]

    payload = build_shopify_order(order_number=5, sku="HG-1", quantity=1, unit_price_vnd=1000)
    body, headers = shopify_webhook_request(payload, "sec")
    applied = await orders.push(f"/webhooks/shopify/{quote(SHOP, safe='')}", body, headers)
    assert applied.outcome == "created"
    [(_, placed)] = await orders.outbox(applied.order_id)
    assert (placed["channel"], placed["account"]) == ("shopify", SHOP)

    listed = await orders.http.get("/orders?channel=Shopify", headers=auth())
    assert [o["order_id"] for o in listed.json()["orders"]] == [applied.order_id]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("zalo", "z-shop"), "unknown platform 'zalo': one of shopify, woocommerce"),
        (("manual", "m-shop"), "manual is not one of shopify, woocommerce"),
        (("shopify", "a\tb"), "'a\\tb' contains the invisible character U+0009 at position 2"),
        (("shopify", " "), "' ' must not be empty"),
    ],
)
async def test_an_unknown_platform_or_an_impossible_account_is_refused_precisely(
    orders: Orders, monkeypatch, args: tuple[str, str], message: str
) -> None:
    result = await ovop_channels(orders, monkeypatch, "add", *args, "--secret", "s")
    assert result.exit_code == 2 and message in result.output, result.output
    async with orders.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM channel_accounts") == 0


async def test_a_push_to_an_account_that_cannot_exist_is_refused_with_the_reason(
    orders: Orders,
) -> None:
    response = await orders.http.post("/webhooks/shopify/a%09b", content=b"{}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown_account",
        "detail": "account 'a\\tb' contains the invisible character U+0009 at position 2",
    }
