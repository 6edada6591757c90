"""One order's whole journey through the four services, and what must not happen on the way."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from services.notifications.domain.templates import NEW_ORDER
from services.orders.domain.model import order_id_for
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from tests.orders.platform_signing import shopify_webhook_hmac
from tests.shared.integration.harness import eventually

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

HONEY = "SHOP-HG-HONEY-500"


def webhook(number: int, secret: str, *, sku: str = HONEY, quantity: int = 2):
    payload = build_shopify_order(
        order_number=number, sku=sku, quantity=quantity, unit_price_vnd=450_000
    )
    body, headers = shopify_webhook_request(payload, secret)
    return payload, body, headers


async def sms_for(platform, order_id: str, message_type: str = NEW_ORDER) -> list:
    """The order's SMS of one type (by default the producer's alert; buyers get theirs too)."""
    conn = await platform.db("notifications")
    try:
        return await conn.fetch(
            "SELECT * FROM sms_messages WHERE order_id = $1 AND message_type = $2",
            order_id,
            message_type,
        )
    finally:
        await conn.close()


async def order_status(platform, order_id: str) -> str | None:
    conn = await platform.db("orders")
    try:
        return await conn.fetchval("SELECT status FROM orders WHERE order_id = $1", order_id)
    finally:
        await conn.close()


async def test_a_webhook_delivered_twice_gives_one_order_one_pickup_and_one_sms(platform, shop):
    payload, body, headers = webhook(1, platform.shop_secret)
    order_id = order_id_for("shopify", shop, str(payload["id"]))
    url = platform.url("orders", f"/webhooks/shopify/{shop}")
    async with httpx.AsyncClient() as client:
        started = time.monotonic()
        first = await client.post(url, content=body, headers=headers)
        second = await client.post(url, content=body, headers=headers)
    # Both are queued; applying the second finds a known delivery and does nothing.
    expected = {"order_id": order_id, "outcome": "queued"}
    assert (first.status_code, first.json()) == (200, expected)
    assert (second.status_code, second.json()) == (200, expected)

    async def sms_recorded() -> bool:
        return len(await sms_for(platform, order_id)) > 0

    await eventually(sms_recorded, timeout=60)
    latency = time.monotonic() - started
    print(f"webhook -> SMS recorded: {latency:.2f}s")
    # Reserved, then scheduled for pickup (orders follows logistics' PickupScheduled).
    await eventually(lambda: _status_is(platform, order_id, "PICKUP_SCHEDULED"), timeout=30)

    [sms] = await sms_for(platform, order_id)
    assert sms["recipient"] == "+84912000101"  # the Mèo Vạc honey co-operative (demo data)
    assert sms["encoding"] == "GSM-7" and sms["segments"] == 1
    assert f"#{payload['order_number']}" in sms["text"] or payload["name"] in sms["text"]

    async def sms_sent() -> bool:  # by the dispatcher, after the consumer's commit
        return [s["status"] for s in await sms_for(platform, order_id)] == ["ACCEPTED"]

    await eventually(sms_sent, timeout=10)

    conn = await platform.db("logistics")
    try:
        shipments = await conn.fetch("SELECT * FROM shipments WHERE order_id = $1", order_id)
    finally:
        await conn.close()
    assert len(shipments) == 1 and shipments[0]["run_id"].startswith("HUB-HAGIANG-")
    conn = await platform.db("catalog")
    try:
        reserved = await conn.fetchval(
            "SELECT sum(quantity) FROM reservations WHERE order_id = $1", order_id
        )
    finally:
        await conn.close()
    assert reserved == 2
    # Let any late duplicate arrive before counting once more.
    await _settle()
    assert len(await sms_for(platform, order_id)) == 1


async def _status_is(platform, order_id: str, status: str) -> bool:
    return await order_status(platform, order_id) == status


async def _settle() -> None:
    import asyncio

    await asyncio.sleep(2)


async def test_an_order_beyond_the_stock_is_rejected_and_no_sms_is_sent(platform, shop):
    payload, body, headers = webhook(2, platform.shop_secret, quantity=10_000)
    order_id = order_id_for("shopify", shop, str(payload["id"]))
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            platform.url("orders", f"/webhooks/shopify/{shop}"), content=body, headers=headers
        )
    assert resp.status_code == 200
    await eventually(lambda: _status_is(platform, order_id, "REJECTED"), timeout=60)
    await _settle()
    assert await sms_for(platform, order_id) == []


async def _counts(platform) -> tuple[int, int]:
    conn = await platform.db("orders")
    try:
        return (
            await conn.fetchval("SELECT count(*) FROM orders"),
            await conn.fetchval("SELECT count(*) FROM webhook_deliveries"),
        )
    finally:
        await conn.close()


def _rejections(metrics_text: str, reason: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith("ovop_requests_rejected_total{") and f'reason="{reason}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("forged_signature", 401, "bad_signature"),
        ("missing_signature", 401, "bad_signature"),
        ("malformed_json", 400, "malformed_json"),
        ("oversized_body", 413, "body_too_large"),
        ("unknown_account", 404, "unknown_account"),
    ],
)
async def test_bad_webhooks_are_refused_store_nothing_and_are_counted(
    platform, shop, case, status, reason
):
    _, body, headers = webhook(3, platform.shop_secret)
    account = shop
    if case == "forged_signature":
        headers["X-Shopify-Hmac-Sha256"] = shopify_webhook_hmac("not-the-secret", body)
    elif case == "missing_signature":
        del headers["X-Shopify-Hmac-Sha256"]
    elif case == "malformed_json":
        body = body[:-5]
        headers["X-Shopify-Hmac-Sha256"] = shopify_webhook_hmac(platform.shop_secret, body)
    elif case == "oversized_body":
        body = json.dumps({"padding": "x" * (1024 * 1024)}).encode()
        headers["X-Shopify-Hmac-Sha256"] = shopify_webhook_hmac(platform.shop_secret, body)
    elif case == "unknown_account":
        account = "no-such-shop"
    before = await _counts(platform)
    async with httpx.AsyncClient() as client:
        metrics_before = (await client.get(platform.url("orders", "/metrics"))).text
        resp = await client.post(
            platform.url("orders", f"/webhooks/shopify/{account}"), content=body, headers=headers
        )
        metrics_after = (await client.get(platform.url("orders", "/metrics"))).text
    assert resp.status_code == status
    assert resp.json()["error"] == reason
    assert await _counts(platform) == before
    assert _rejections(metrics_after, reason) == _rejections(metrics_before, reason) + 1


async def test_every_service_reports_live_ready_and_metrics(platform):
    async with httpx.AsyncClient() as client:
        for service in ("orders", "catalog", "logistics", "notifications"):
            assert (await client.get(platform.url(service, "/health/live"))).status_code == 200
            ready = await client.get(platform.url(service, "/health/ready"))
            assert ready.json() == {"status": "ok", "database": "ok", "broker": "ok"}
            metrics = (await client.get(platform.url(service, "/metrics"))).text
            assert f'ovop_outbox_backlog{{service="{service}"}}' in metrics


async def test_a_signed_webhook_that_is_not_about_an_order_is_acknowledged_and_ignored(
    platform, shop
):
    body = b'{"id": 1, "name": "demo"}'
    headers = {
        "X-Shopify-Topic": "app/uninstalled",
        "X-Shopify-Hmac-Sha256": shopify_webhook_hmac(platform.shop_secret, body),
    }
    before = await _counts(platform)
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            platform.url("orders", f"/webhooks/shopify/{shop}"), content=body, headers=headers
        )
    assert resp.status_code == 200 and resp.json()["outcome"] == "ignored_topic"
    assert await _counts(platform) == before


async def test_a_woocommerce_order_travels_the_same_journey_to_the_producer_sms(platform):
    from services.orders.simulator import build_woocommerce_order, woocommerce_webhook_request
    from services.platform.setup import DEMO_WOO_SHOP

    payload = build_woocommerce_order(
        order_number=4242, sku="HG-HONEY-500", quantity=1, unit_price_vnd=450_000
    )
    body, headers = woocommerce_webhook_request(payload, platform.shop_secret)
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            platform.url("orders", f"/webhooks/woocommerce/{DEMO_WOO_SHOP}"),
            content=body,
            headers=headers,
        )
    assert resp.status_code == 200 and resp.json()["outcome"] == "queued", resp.text
    order_id = resp.json()["order_id"]
    assert order_id == order_id_for("woocommerce", DEMO_WOO_SHOP, str(payload["id"]))

    async def sms_recorded() -> bool:
        return len(await sms_for(platform, order_id)) == 1

    await eventually(sms_recorded, timeout=60)
    await eventually(lambda: _status_is(platform, order_id, "PICKUP_SCHEDULED"), timeout=30)
