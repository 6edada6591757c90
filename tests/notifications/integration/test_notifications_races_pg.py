"""Notifications' facts fed in both orders (and redelivered) on the real database through the
consumer's own transaction: a buyer message before its order's OrderPlaced (another topic), and
a pickup's change or cancellation before the pickup itself. Each ends with the same messages
told to the same people whichever came first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.metrics import WAITING
from services.notifications.notifier import Notifier
from shared.contracts.events import OrderCancelled, OrderPlaced, PickupCancelled, PickupRescheduled
from shared.contracts.logistics import ShipmentPickedUp
from tests.notifications.conftest import OnBus, fast_settings, pickup
from tests.notifications.integration.test_triggers import BUYER_PHONE, order_placed, shipment
from tests.shared.integration.delivery import deliver, wrap

pytestmark = pytest.mark.integration
BOTH_ORDERS = pytest.mark.parametrize("first", ["early", "late"])


@pytest.fixture
def handlers() -> OnBus:
    n = fast_settings(reminder_lead_s=3600)
    return OnBus(Notifier(n, "dev"))


def handler_for(h: OnBus, event):
    return {
        "OrderPlaced": h.order_placed,
        "OrderCancelled": h.order_cancelled,
        "ShipmentPickedUp": h.shipment,
        "PickupScheduled": h.pickup_scheduled,
        "PickupRescheduled": h.pickup_rescheduled,
        "PickupCancelled": h.pickup_cancelled,
    }[event.event_type]


async def feed(pool, h: OnBus, *deliveries) -> None:
    """Each (event, envelope) delivered twice: the second is a redelivery of the same record."""
    for event, env in deliveries:
        assert await deliver(pool, "notifications", handler_for(h, event), event, env)
        assert not await deliver(pool, "notifications", handler_for(h, event), event, env)


async def messages(pool) -> list:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM sms_messages ORDER BY created_at")


async def reminders(pool) -> list:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM pickup_reminders")


@BOTH_ORDERS
async def test_a_shipment_message_before_its_order_is_placed_is_sent_once_when_it_is(
    pool, handlers, first
):
    placed: OrderPlaced = order_placed("o-early")
    picked = shipment(ShipmentPickedUp, order_id="o-early", tracking_url="https://t.example/ABC")
    waiting_before = WAITING.labels("ShipmentPickedUp")._value.get()
    both = [(placed, wrap(placed)), (picked, wrap(picked))]
    await feed(pool, handlers, *(reversed(both) if first == "early" else both))
    # Orders replays OrderPlaced under a new event id: nothing is told twice.
    await feed(pool, handlers, (placed, wrap(placed)))

    [sms] = await messages(pool)
    assert (sms["message_type"], sms["recipient"], sms["status"]) == (
        "buyer.shipped",
        BUYER_PHONE,
        "QUEUED",
    )
    assert sms["text"] == "Don #2001 da duoc gui di. Theo doi: https://t.example/ABC"
    assert sms["dedup_key"].startswith(f"{both[1][1].event_id}:buyer.shipped:")
    waited = WAITING.labels("ShipmentPickedUp")._value.get() - waiting_before
    assert waited == (1 if first == "early" else 0)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM waiting_buyer_messages") == 0


@BOTH_ORDERS
async def test_a_buyer_is_told_once_of_an_order_cancelled_twice_over(pool, handlers, first):
    """Orders says so again when it releases a reservation that reached it after the order was
    cancelled (the soak's cancellations mid-flight): one order, one cancellation message."""
    placed = order_placed("o-cancelled")
    by_channel = OrderCancelled(order_id="o-cancelled", reason="cancelled on the channel")
    released = OrderCancelled(
        order_id="o-cancelled", reason="reservation arrived while CANCELLED: released"
    )
    cancellations = [(by_channel, wrap(by_channel)), (released, wrap(released))]
    order = (placed, wrap(placed))
    early = first == "early"  # the cancellations before OrderPlaced names the buyer
    await feed(pool, handlers, *([*cancellations, order] if early else [order, *cancellations]))

    told = [(m["message_type"], m["recipient"]) for m in await messages(pool)]
    assert told == [("buyer.order_cancelled", BUYER_PHONE)]


@BOTH_ORDERS
async def test_a_pickup_cancelled_before_it_was_scheduled_is_never_announced(pool, handlers, first):
    scheduled = pickup(1)
    cancelled = PickupCancelled(
        shipment_id=scheduled.shipment_id,
        order_id=scheduled.order_id,
        order_ref=scheduled.order_ref,
        producer_id=scheduled.producer_id,
        pickup_contact=scheduled.pickup_contact,
        reason="order cancelled",
    )
    both = [(scheduled, wrap(scheduled)), (cancelled, wrap(cancelled))]
    await feed(pool, handlers, *(reversed(both) if first == "early" else both))

    told = [m["message_type"] for m in await messages(pool)]
    if first == "early":  # the producer never hears of a pickup already cancelled
        assert told == []
    else:
        assert told == ["producer.new_order", "producer.pickup_cancelled"]
    left = [r["state"] for r in await reminders(pool)]
    assert left == ([] if first == "early" else ["cancelled"])


@BOTH_ORDERS
async def test_a_pickup_change_before_the_pickup_gives_the_producer_the_final_window(
    pool, handlers, first
):
    scheduled = pickup(2, start=datetime(2031, 11, 30, 1, 0, tzinfo=UTC))  # 08:00 in Hanoi
    later = scheduled.window_start + timedelta(hours=6)
    moved = PickupRescheduled(
        shipment_id=scheduled.shipment_id,
        order_id=scheduled.order_id,
        order_ref=scheduled.order_ref,
        producer_id=scheduled.producer_id,
        pickup_contact=scheduled.pickup_contact,
        window_start=later,
        window_end=later + timedelta(hours=1),
        reason="the wave was full",
    )
    both = [(scheduled, wrap(scheduled)), (moved, wrap(moved))]  # the change happened later
    await feed(pool, handlers, *(reversed(both) if first == "early" else both))

    sms = await messages(pool)
    if first == "early":  # told once, with the window that holds
        assert [m["message_type"] for m in sms] == ["producer.new_order"]
        assert "Lay hang 14:00-15:00 30/11" in sms[0]["text"]
    else:
        assert [m["message_type"] for m in sms] == ["producer.new_order", "producer.pickup_changed"]
        assert sms[1]["text"].startswith("Doi lich lay don #1002: 14:00-15:00 ")
    [reminder] = await reminders(pool)
    assert (reminder["window_start"], reminder["state"]) == (later, "scheduled")
