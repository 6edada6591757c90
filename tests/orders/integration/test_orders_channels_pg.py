"""Every channel end to end on the orders side: a signed push (or Tiki's queue) becomes one
canonical order and one OrderPlaced, through the platform's API (a fake that checks the
platform's signing); forged pushes are refused; failing APIs lose nothing."""

from __future__ import annotations

import json

import httpx
import pytest

from services.orders.domain.model import order_id_for
from services.orders.jobs import fetch_once, poll_tiki_once, sample_backlog_once
from services.orders.webhook_queue import Applied
from tests.orders import samples
from tests.orders.integration.conftest import Orders
from tests.orders.platform_signing import shopify_webhook_hmac

pytestmark = pytest.mark.integration

CALLBACK = "https://ovop.example/webhooks/shopee/sp-shop"


async def _setup(orders: Orders, platform: str, account: str) -> None:
    await orders.add_account(
        platform, account, orders.fakes.secret(platform), **orders.fakes.settings(platform)
    )


def _thin_push(orders: Orders, platform: str, secret: str | None = None):
    secret = secret or orders.fakes.secret(platform)
    if platform == "shopee":
        return samples.shopee_request(samples.shopee_push(), secret, CALLBACK)
    if platform == "lazada":
        return samples.lazada_request(samples.lazada_push(), "112233", secret)
    return samples.tiktok_request(samples.tiktok_push(), "112233", secret)


THIN = {
    "shopee": ("sp-shop", "250801ABCD1234", samples.shopee_detail, "SP-HONEY-500", 2),
    "lazada": ("lz-shop", "260422900198362", samples.lazada_detail, "LZ-HONEY-500", 3),
    "tiktok-shop": ("tt-shop", "576462686389553345", samples.tiktok_detail, "TT-HONEY-500", 2),
}


@pytest.mark.parametrize("platform", list(THIN))
async def test_a_thin_push_is_persisted_then_fetched_through_the_signed_api(
    orders: Orders, platform: str
):
    account, external_id, detail, sku, quantity = THIN[platform]
    await _setup(orders, platform, account)
    fake = {
        "shopee": orders.fakes.shopee,
        "lazada": orders.fakes.lazada,
        "tiktok-shop": orders.fakes.tiktok,
    }[platform]
    fake.orders[external_id] = detail()
    body, headers = _thin_push(orders, platform)

    first = await orders.http.post(f"/webhooks/{platform}/{account}", content=body, headers=headers)
    again = await orders.http.post(f"/webhooks/{platform}/{account}", content=body, headers=headers)
    assert first.json()["outcome"] == "pending_fetch"
    assert again.json()["outcome"] == "duplicate_delivery"
    assert await fetch_once(orders.pool, httpx.AsyncClient()) == 1

    order_id = order_id_for(platform, account, external_id)
    order = await orders.order(order_id)
    assert order["status"] == "PENDING_STOCK"
    assert order["external_id"] == external_id and order["currency"] == "VND"
    assert [(ln["channel_sku"], ln["quantity"]) for ln in order["lines"]] == [(sku, quantity)]
    assert order["payment"]["cod"] is True and order["payment"]["cod_amount"] == order["total"]
    assert order["shipping_address"]["phone"].startswith("+84")
    [(event_type, placed)] = await orders.outbox(order_id)
    assert event_type == "OrderPlaced" and placed["cod_amount"] == order["total"]
    assert placed["buyer"] is not None and placed["shipping_address"]["country"] == "VN"
    assert fake.refused_signatures == 0


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", *THIN])
async def test_a_forged_or_missing_signature_is_refused_with_401_and_stores_nothing(
    orders: Orders, platform: str
):
    account = "acct"
    await orders.add_account(
        platform, account, "the-real-secret", callback_url=CALLBACK, app_key="112233"
    )
    if platform == "shopify":
        from services.orders.simulator import build_shopify_order, shopify_webhook_request

        payload = build_shopify_order(order_number=5, sku="X", quantity=1, unit_price_vnd=1000)
        body, headers = shopify_webhook_request(payload, "a-forged-secret")
    elif platform == "woocommerce":
        body, headers = samples.woo_request(samples.woo_order(), "a-forged-secret")
    else:
        body, headers = _thin_push(orders, platform, secret="a-forged-secret")
    forged = await orders.http.post(
        f"/webhooks/{platform}/{account}", content=body, headers=headers
    )
    headers = {
        k: v
        for k, v in headers.items()
        if k.lower() not in ("authorization", "x-wc-webhook-signature", "x-shopify-hmac-sha256")
    }
    missing = await orders.http.post(
        f"/webhooks/{platform}/{account}", content=body, headers=headers
    )
    assert (forged.status_code, missing.status_code) == (401, 401)
    assert forged.json()["error"] == "bad_signature"
    async with orders.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM inbound_fetches") == 0
        assert await conn.fetchval("SELECT count(*) FROM orders") == 0


async def test_both_secrets_verify_during_a_rotation_and_the_newest_signs_api_calls(
    orders: Orders,
):
    from services.orders.adapters.postgres import rotate_channel_secret

    await _setup(orders, "shopee", "sp-shop")
    old = orders.fakes.shopee.secret
    async with orders.pool.acquire() as conn:
        await rotate_channel_secret(conn, "shopee", "sp-shop", "new-partner-key")
    orders.fakes.shopee.secret = "new-partner-key"
    orders.fakes.shopee.orders["250801ABCD1234"] = samples.shopee_detail()
    for secret, status in [(old, 200), ("new-partner-key", 200), ("older-still", 401)]:
        body, headers = samples.shopee_request(
            samples.shopee_push(update_time=hash(secret) % 999 + samples.PLACED), secret, CALLBACK
        )
        resp = await orders.http.post("/webhooks/shopee/sp-shop", content=body, headers=headers)
        assert resp.status_code == status
    assert await fetch_once(orders.pool, httpx.AsyncClient()) == 2
    assert orders.fakes.shopee.refused_signatures == 0


async def test_a_failing_detail_api_keeps_the_push_and_a_later_attempt_applies_it(
    orders: Orders,
):
    await _setup(orders, "shopee", "sp-shop")
    fake = orders.fakes.shopee
    fake.orders["250801ABCD1234"] = samples.shopee_detail()
    fake.fail_next, fake.slow_next, fake.slow_s = 2, 1, 1.0  # 500, 500, then a timeout
    body, headers = _thin_push(orders, "shopee")
    resp = await orders.http.post("/webhooks/shopee/sp-shop", content=body, headers=headers)
    assert resp.status_code == 200 and resp.json()["outcome"] == "pending_fetch"

    async with httpx.AsyncClient(timeout=0.3) as http:  # the jobs make theirs from settings
        await fetch_once(orders.pool, http)  # three tries with backoff inside, all fail
        assert len(fake.calls) == 3
        async with orders.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM inbound_fetches")
            assert row["state"] == "pending" and row["attempts"] == 1
            assert "Transient" in row["last_error"]
            assert await conn.fetchval("SELECT count(*) FROM orders") == 0
            assert await fetch_once(orders.pool, http) == 0  # not due yet: backing off
            assert (await sample_backlog_once(orders.pool))["pending_fetches"] == 1
            metrics = (await orders.http.get("/metrics")).text
            assert 'ovop_orders_backlog{kind="pending_fetches"} 1.0' in metrics
            await conn.execute("UPDATE inbound_fetches SET next_attempt_at = now()")
        assert await fetch_once(orders.pool, http) == 1
    async with orders.pool.acquire() as conn:
        assert await conn.fetchval("SELECT state FROM inbound_fetches") == "done"
        assert await conn.fetchval("SELECT status FROM orders") == "PENDING_STOCK"


async def test_tiki_events_are_pulled_with_oauth2_persisted_before_the_ack_then_fetched(
    orders: Orders,
):
    await _setup(orders, "tiki", "tk-shop")
    fakes = orders.fakes
    fakes.tiki.orders["837145126"] = samples.tiki_order()
    fakes.tiki_queue += [
        {
            "id": "ev-1",
            "type": "ORDER_CREATED_SUCCESSFULLY",
            "created_at": "2025-08-01 08:00:01",
            "payload": {"order_code": "837145126"},
        },
        {
            "id": "ev-1",
            "type": "ORDER_CREATED_SUCCESSFULLY",
            "created_at": "2025-08-01 08:00:01",
            "payload": {"order_code": "837145126"},
        },  # redelivered by the queue
        {"id": "ev-2", "type": "PRODUCT_UPDATED", "payload": {"sku": "x"}},
    ]
    from services.orders.adapters.postgres import get_account

    async with orders.pool.acquire() as conn:
        account = await get_account(conn, "tiki", "tk-shop")
    async with httpx.AsyncClient() as http:
        assert await poll_tiki_once(orders.pool, http, account) == 1
        assert len(fakes.tiki_acked) == 1
        assert await fetch_once(orders.pool, http) == 1
    order = await orders.order(order_id_for("tiki", "tk-shop", "837145126"))
    assert order["lines"][0]["channel_sku"] == "TK-HONEY-500"  # the seller's SKU, not Tiki's
    assert order["payment"]["cod_amount"] == 900000  # invoice.collectible_amount
    assert order["placed_at"] == "2025-08-01T01:00:00Z"  # Vietnam time, stored in UTC


async def test_woocommerce_ping_gets_200_and_a_signed_order_is_created_once(orders: Orders):
    await orders.add_account("woocommerce", "shop.example.vn", "s3cr&amp;t")
    ping = await orders.http.post(
        "/webhooks/woocommerce/shop.example.vn",
        content=b"webhook_id=17",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert ping.status_code == 200 and ping.json()["outcome"] == "ping"
    # WooCommerce signs with the secret it stores, HTML-entity decoded.
    body, headers = samples.woo_request(samples.woo_order(), "s3cr&amp;t")
    first = await orders.push("/webhooks/woocommerce/shop.example.vn", body, headers)
    again = await orders.push("/webhooks/woocommerce/shop.example.vn", body, headers)
    assert (first.outcome, again.outcome) == ("created", "duplicate_delivery")
    assert first.order_id is not None
    order = await orders.order(first.order_id)
    assert order["buyer"]["name"] == "Nguyễn Văn An"
    assert [e for e, _ in await orders.outbox()] == ["OrderPlaced"]


async def test_a_stale_shopify_update_never_wins_and_a_cancellation_releases_stock(
    orders: Orders,
):
    from services.orders.simulator import build_shopify_order

    await orders.add_account("shopify", "demo-shop", "sec")
    payload = build_shopify_order(
        order_number=9, sku="SHOP-HG-HONEY-500", quantity=2, unit_price_vnd=450000
    )

    async def post(p: dict, event_id: str):
        body = json.dumps(p).encode()
        headers = {
            "x-shopify-topic": "orders/updated",
            "x-shopify-event-id": event_id,
            "x-shopify-hmac-sha256": shopify_webhook_hmac("sec", body),
        }
        return await orders.push("/webhooks/shopify/demo-shop", body, headers)

    created = await post(payload, "e1")
    order_id = created.order_id
    assert created.outcome == "created" and order_id
    from datetime import datetime, timedelta

    placed = datetime.fromisoformat(payload["updated_at"])
    later, earlier = (placed + timedelta(hours=2)).isoformat(), (placed + timedelta(hours=1))
    cancelled = dict(payload, updated_at=later, cancelled_at=later, cancel_reason="customer")
    stale = dict(payload, updated_at=earlier.isoformat())
    assert (await post(cancelled, "e3")).outcome == "cancelled"
    assert (await post(stale, "e2")).outcome == "stale"  # arrived late
    order = await orders.order(order_id)
    assert order["status"] == "CANCELLED"
    assert [h["status"] for h in order["history"]] == ["PENDING_STOCK", "CANCELLED"]
    events = await orders.outbox(order_id)
    assert [e for e, _ in events] == ["OrderPlaced", "OrderCancelled"]
    assert events[1][1]["after_pickup"] is False and events[1][1]["lines"] == []


async def test_channel_secrets_never_reach_logs_or_the_cli(orders: Orders, capsys, monkeypatch):
    import asyncio

    from click.testing import CliRunner

    from services.orders.entrypoints.cli import channels

    secret, token = "S3CRET-partner-key-123", "TOKEN-shop-access-456"
    settings = orders.fakes.settings("shopee") | {"access_token": token}
    await orders.add_account("shopee", "sp-shop", secret, **settings)
    orders.fakes.shopee.secret = secret
    for key in (secret, "forged"):
        body, headers = samples.shopee_request(samples.shopee_push(), key, CALLBACK)
        await orders.http.post("/webhooks/shopee/sp-shop", content=body, headers=headers)
    async with httpx.AsyncClient() as http:
        await fetch_once(orders.pool, http)  # fails (the fake wants its own token): logged
    monkeypatch.setenv("ORDERS_DATABASE_URL", orders.service.settings.own_database_url)
    monkeypatch.setenv("OVOP_CHANNEL_SECRET", "ROTATED-secret-789")
    runner = CliRunner()
    rotated = await asyncio.to_thread(runner.invoke, channels, ["rotate", "shopee", "sp-shop"])
    listed = await asyncio.to_thread(runner.invoke, channels, ["list"])
    assert rotated.exit_code == 0 and listed.exit_code == 0, listed.output
    assert "secrets=2" in listed.output and "access_token=***" in listed.output
    printed = capsys.readouterr().out + rotated.output + listed.output
    assert "fetch.failed" in printed or "webhook.accepted" in printed  # logs were captured
    for value in (secret, token, "ROTATED-secret-789"):
        assert value not in printed


async def test_lost_shopee_pushes_are_recovered_by_pulling_the_last_three_days(orders: Orders):
    from datetime import UTC, datetime, timedelta

    from services.orders.adapters.postgres import get_account
    from services.orders.jobs import pull_shopee_once

    await _setup(orders, "shopee", "sp-shop")
    fake = orders.fakes.shopee
    now = datetime.fromtimestamp(samples.PLACED, UTC) + timedelta(days=1)
    for n, age in enumerate([timedelta(hours=2), timedelta(hours=30), timedelta(days=4)]):
        update = int((now - age).timestamp())
        fake.orders[f"SN{n}"] = samples.shopee_detail(f"SN{n}", update_time=update)
    async with orders.pool.acquire() as conn:
        account = await get_account(conn, "shopee", "sp-shop")
    async with httpx.AsyncClient() as http:
        assert await pull_shopee_once(orders.pool, http, account, now=now) == 2  # not SN2
        assert await fetch_once(orders.pool, http) == 2
        later = now + timedelta(minutes=10)
        assert await pull_shopee_once(orders.pool, http, account, now=later) == 0
    for sn in ("SN0", "SN1"):
        assert (await orders.order(order_id_for("shopee", "sp-shop", sn)))["status"] == (
            "PENDING_STOCK"
        )
    first, second = orders.fakes.shopee_list_windows
    assert first[0] == int((now - timedelta(days=3)).timestamp())
    assert second[0] == int((now - timedelta(minutes=10)).timestamp())  # overlap, not a gap


async def test_a_new_shopify_order_commits_with_its_delivery_history_and_event_at_once(
    orders: Orders,
):
    """The one-statement path writes the four rows together; a redelivery writes nothing; another
    delivery of a known order takes the transactional path and records only its delivery."""
    from services.orders.simulator import build_shopify_order, shopify_webhook_request

    await orders.add_account("shopify", "fast-shop", "sec")
    payload = build_shopify_order(
        order_number=77, sku="SHOP-HG-HONEY-500", quantity=1, unit_price_vnd=450000
    )
    body, headers = shopify_webhook_request(payload, "sec", shop_domain="fast-shop")

    async def post(extra: dict[str, str] | None = None) -> Applied:
        return await orders.push("/webhooks/shopify/fast-shop", body, headers | (extra or {}))

    async def counts() -> tuple[int, int, int, int]:
        async with orders.pool.acquire() as conn:
            return tuple(
                await conn.fetchrow(
                    """SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM
                       webhook_deliveries), (SELECT count(*) FROM order_status_history),
                       (SELECT count(*) FROM outbox)"""
                )
            )

    first = await post()
    assert first.outcome == "created"
    assert await counts() == (1, 1, 1, 1)
    assert (await post()).outcome == "duplicate_delivery"
    assert await counts() == (1, 1, 1, 1)
    other = {k: "other-delivery" for k in headers if k.lower() == "x-shopify-event-id"}
    assert other, headers
    assert (await post(other)).outcome == "unchanged"
    assert await counts() == (1, 2, 1, 1)
    async with orders.pool.acquire() as conn:
        row = await conn.fetchrow("SELECT canonical, status FROM orders")
    assert row["status"] == "PENDING_STOCK" and row["canonical"]["order_id"] == first.order_id
    assert [e for e, _ in await orders.outbox(first.order_id)] == ["OrderPlaced"]
