"""Every trigger of the contract, published on the real broker to the service running with its
real handlers: each becomes its message once, in the recipient's language and time zone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts.events import (
    Buyer,
    Contact,
    LowStockDetected,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    PickupCancelled,
    PickupRescheduled,
)
from shared.contracts.logistics import (
    ShipmentDelivered,
    ShipmentDispatchedForDelivery,
    ShipmentPickedUp,
)
from shared.contracts.parts import Address
from tests.notifications.conftest import PHONE, fast_settings, pickup
from tests.shared.integration.harness import eventually

pytestmark = pytest.mark.integration

BUYER_PHONE = "+84987654321"


def order_placed(order_id: str = "o-buyer") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        channel="shopify",
        account="demo",
        external_id="1",
        order_ref="#2001",
        currency="VND",
        total=900_000,
        cod_amount=900_000,
        lines=[OrderLine(name="Honey", quantity=2, unit_price=450_000)],
        placed_at=datetime.now(UTC),
        buyer=Buyer(name="Lan", phone="0987 654 321", language="vi"),
        shipping_address=Address(country="VN"),
    )


def shipment(cls, **over):
    values = dict(
        shipment_id="s-buyer",
        order_id="o-buyer",
        producer_id="PRD-HG-001",
        occurred_at=datetime.now(UTC),
    )
    return cls(**(values | over))


async def messages(pool) -> list:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM sms_messages ORDER BY created_at")


async def test_every_contract_trigger_becomes_its_message_once(run_service, pool):
    new_order = pickup(1)
    moved, cancelled = pickup(2), pickup(3)
    later = moved.window_start + timedelta(hours=6)
    async with run_service(fast_settings(reminder_lead_s=5)) as running:
        await running.publish(new_order, moved, cancelled, times=2)  # each delivered twice
        await running.publish(
            PickupRescheduled(
                shipment_id=moved.shipment_id,
                order_id=moved.order_id,
                order_ref=moved.order_ref,
                producer_id=moved.producer_id,
                pickup_contact=moved.pickup_contact,
                window_start=later,
                window_end=later + timedelta(hours=1),
                reason="truck",
            ),
            PickupCancelled(
                shipment_id=cancelled.shipment_id,
                order_id=cancelled.order_id,
                order_ref=cancelled.order_ref,
                producer_id=cancelled.producer_id,
                pickup_contact=cancelled.pickup_contact,
                reason="order cancelled",
            ),
            LowStockDetected(
                sku="HG-HONEY-500",
                product_name="Mật ong bạc hà Mèo Vạc 500 g",
                producer_id="PRD-HG-001",
                available=3,
                threshold=5,
                contact=Contact(name="HTX", phone=PHONE, sms_language="ja"),
            ),
            order_placed(),
            OrderConfirmed(order_id="o-buyer"),
        )

        async def buyer_known() -> bool:
            return any(m["message_type"] == "buyer.order_confirmed" for m in await messages(pool))

        await eventually(buyer_known)
        await running.publish(
            shipment(ShipmentPickedUp, tracking_url="https://t.example/ABC"),
            shipment(ShipmentDispatchedForDelivery, cod_amount=900_000, currency="VND"),
            shipment(ShipmentDelivered),
            OrderCancelled(order_id="o-buyer", reason="buyer", lines=[], after_pickup=True),
        )

        async def all_there() -> bool:
            return len(await messages(pool)) == 11

        await eventually(all_there)
        # The consumers are running now: a pickup soon enough to see its reminder come.
        start = datetime.now(UTC) + timedelta(seconds=8)
        await running.publish(pickup(4, start=start))

        async def reminded() -> bool:
            return len(await messages(pool)) == 13

        await eventually(reminded)
        await asyncio.sleep(1)  # let any duplicate arrive
    rows = await messages(pool)
    by_type = {}
    for r in rows:
        by_type.setdefault(r["message_type"], []).append(r)
    assert {k: len(v) for k, v in by_type.items()} == {
        "producer.new_order": 4,
        "producer.pickup_reminder": 1,
        "producer.pickup_changed": 1,
        "producer.pickup_cancelled": 1,
        "producer.low_stock": 1,
        "buyer.order_confirmed": 1,
        "buyer.shipped": 1,
        "buyer.out_for_delivery": 1,
        "buyer.delivered": 1,
        "buyer.order_cancelled": 1,
    }
    assert all(r["status"] == "ACCEPTED" and r["provider"] == "dev" for r in rows)
    text = {k: v[0]["text"] for k, v in by_type.items()}
    local = start.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    reminder_text = text["producer.pickup_reminder"]
    assert reminder_text.startswith(f"Nhac: xe lay don #1004 luc {local:%H:%M}-")
    assert reminder_text.endswith(f"{local:%d/%m}. Chuan bi: 2 Mat ong bac ha.") or (
        f"{local:%d/%m}-" in reminder_text  # a window across local midnight shows both dates
    )
    assert text["producer.pickup_changed"].startswith("Doi lich lay don #1002: 14:00-15:00 ")
    assert text["producer.pickup_cancelled"] == (
        "Huy lay hang don #1003. Khong can chuan bi don nay."
    )
    assert text["producer.low_stock"].startswith("在庫僅少: 蜂蜜") is False  # names stay as given
    assert "Mật ong bạc hà Mèo Vạc 500 g 残り3(基準5)" in text["producer.low_stock"]
    assert by_type["producer.low_stock"][0]["encoding"] == "UCS-2"
    assert text["buyer.order_confirmed"] == (
        "Don #2001 da duoc xac nhan. Tong 900.000 VND. Cam on ban!"
    )
    assert text["buyer.shipped"] == "Don #2001 da duoc gui di. Theo doi: https://t.example/ABC"
    assert text["buyer.out_for_delivery"].endswith("Vui long chuan bi 900.000 VND.")
    assert text["buyer.order_cancelled"] == "Don #2001 da bi huy. Hang se duoc hoan ve."
    assert {r["recipient"] for k, v in by_type.items() if k.startswith("buyer") for r in v} == {
        BUYER_PHONE  # "0987 654 321" normalised
    }
    reminder = by_type["producer.pickup_reminder"][0]
    assert reminder["created_at"] >= start - timedelta(seconds=5.5)  # not before its time


async def test_the_digest_job_turns_new_orders_within_the_window_into_one_sms(run_service, pool):
    other = pickup(9, phone="+84912000202")
    async with run_service(fast_settings(digest_window_s=2.0)) as running:
        await running.publish(pickup(1), pickup(2), pickup(3), other)

        async def flushed() -> bool:
            return len(await messages(pool)) == 2

        await eventually(flushed)
        await asyncio.sleep(2.5)  # nothing more comes
    rows = await messages(pool)
    assert len(rows) == 2
    [digest] = [r for r in rows if r["recipient"] == PHONE]
    assert digest["text"].startswith("3 don moi: #1001 (2 Mat ong bac ha); #1002")
    assert (digest["segments"], digest["status"]) == (1, "ACCEPTED")
    [single] = [r for r in rows if r["recipient"] != PHONE]
    assert single["text"].startswith("Don moi #1009: 2 Mat ong bac ha.")


from zoneinfo import ZoneInfo  # noqa: E402
