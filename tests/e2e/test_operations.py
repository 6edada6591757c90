"""What an operator does with the running platform: the CLI, secret rotation, dead letters,
and the logs."""

from __future__ import annotations

import json

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.orders.domain.model import order_id_for
from shared.contracts.events import ORDERS
from tests.e2e.test_journey import sms_for, webhook
from tests.orders.platform_signing import shopify_webhook_hmac
from tests.shared.integration.harness import eventually

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def test_orders_show_and_sms_list_print_the_journey_as_json(platform, shop):
    payload, body, headers = webhook(40, platform.shop_secret, quantity=1)
    order_id = order_id_for("shopify", shop, str(payload["id"]))
    async with httpx.AsyncClient() as client:
        await client.post(
            platform.url("orders", f"/webhooks/shopify/{shop}"), content=body, headers=headers
        )
    await eventually(lambda: _has_sms(platform, order_id), timeout=60)
    await eventually(lambda: _status_is(platform, order_id, "PICKUP_SCHEDULED"), timeout=60)

    code, out = await platform.ovop("orders", "show", order_id, "--json")
    assert code == 0, out
    order = json.loads(out)
    assert order["order_id"] == order_id and order["external_id"] == str(payload["id"])
    assert order["currency"] == "VND" and order["lines"][0]["unit_price"] == 450_000
    # Logistics may schedule the pickup before orders hears of the reservation, so the history
    # records both facts, in whichever order they arrived.
    history = order["history"]
    assert history[0]["status"] == "PENDING_STOCK"
    assert any((h["reason"] or "").startswith("units: ") for h in history), history
    assert order["status"] == "PICKUP_SCHEDULED" and history[-1]["status"] == "PICKUP_SCHEDULED"

    code, out = await platform.ovop("sms", "list", "--json")
    assert code == 0, out
    [sms] = [
        m
        for m in json.loads(out)
        if m["order_id"] == order_id and m["message_type"] == "producer.new_order"
    ]
    assert sms["encoding"] == "GSM-7" and sms["segments"] == 1 and sms["provider"] == "dev"


async def _has_sms(platform, order_id: str) -> bool:
    return bool(await sms_for(platform, order_id))


async def _status_is(platform, order_id: str, status: str) -> bool:
    conn = await platform.db("orders")
    try:
        return (
            await conn.fetchval("SELECT status FROM orders WHERE order_id = $1", order_id) == status
        )
    finally:
        await conn.close()


async def _post(platform, account: str, body: bytes, secret: str) -> int:
    headers = {"X-Shopify-Hmac-Sha256": shopify_webhook_hmac(secret, body)}
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            platform.url("orders", f"/webhooks/shopify/{account}"), content=body, headers=headers
        )
    return resp.status_code


async def test_a_rotated_secret_keeps_the_previous_one_valid_until_the_next_rotation(platform):
    _, body, _ = webhook(41, "unused")
    assert (await platform.ovop("channels", "add", "shopify", "rota-shop", "--secret", "s1"))[
        0
    ] == 0
    assert await _post(platform, "rota-shop", body, "s1") == 200
    assert (await platform.ovop("channels", "rotate", "shopify", "rota-shop", "--secret", "s2"))[
        0
    ] == 0
    assert await _post(platform, "rota-shop", body, "s2") == 200
    assert await _post(platform, "rota-shop", body, "s1") == 200  # still valid once
    await platform.ovop("channels", "rotate", "shopify", "rota-shop", "--secret", "s3")
    assert await _post(platform, "rota-shop", body, "s1") == 401
    code, out = await platform.ovop("channels", "list")
    assert "rota-shop" in out and "secrets=2" in out and "s2" not in out


async def test_a_poison_event_is_listed_in_the_dead_letter_topic_with_its_reason(platform):
    producer = AIOKafkaProducer(bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    try:
        await producer.send_and_wait(ORDERS, b'{"event_type": "OrderPlaced"}', key=b"poison-1")
    finally:
        await producer.stop()

    async def listed() -> bool:
        code, out = await platform.ovop("dlq", "list", "--topic", f"{ORDERS}.dlq", "--json")
        return code == 0 and any(e["key"] == "poison-1" for e in json.loads(out))

    await eventually(listed, timeout=60)
    code, out = await platform.ovop("dlq", "list", "--topic", f"{ORDERS}.dlq", "--json")
    # Every consumer of the topic (catalog, and notifications for the buyer) dead-letters it.
    entries = [e for e in json.loads(out) if e["key"] == "poison-1"]
    assert "catalog" in {e["headers"]["consumer"] for e in entries}
    for entry in entries:
        assert entry["headers"]["error_type"] == "PoisonMessage"
        assert "invalid envelope" in entry["headers"]["error_message"]


def test_service_logs_are_json_with_correlation_ids_and_no_raw_phone_numbers(platform):
    for service in ("orders", "catalog", "logistics", "notifications"):
        lines = (platform.log_dir / f"{service}.log").read_text().splitlines()
        records = [json.loads(line) for line in lines if line]  # every line: uvicorn's too
        handled = [r for r in records if r["event"] in {"message.handled", "webhook.accepted"}]
        assert handled, f"{service} logged no handled message"
        assert all(r.get("correlation_id") for r in handled), service
        ids = ("order_id", "shipment_id", "hub_id", "sku")
        assert all(any(r.get(k) for k in ids) for r in handled), service
        assert any(r.get("order_id") for r in handled), service
        assert not any("+84912000101" in line for line in lines), f"{service} logged a phone"
