"""The service on the real broker, with events published in the "wrong" order across and within
topics (each twice, a redelivery): the buyer still gets exactly one SMS, and a pickup cancelled
before it was scheduled is never announced."""

from __future__ import annotations

import asyncio

import pytest

from shared.contracts.events import PickupCancelled
from shared.contracts.logistics import ShipmentPickedUp
from tests.notifications.conftest import fast_settings, pickup
from tests.notifications.integration.test_triggers import (
    BUYER_PHONE,
    messages,
    order_placed,
    shipment,
)
from tests.shared.integration.harness import eventually

pytestmark = pytest.mark.integration


def consumed(pool, envelopes):
    """True once the service's inbox holds every one of these events."""

    async def check() -> bool:
        async with pool.acquire() as conn:
            done = await conn.fetchval(
                "SELECT count(*) FROM processed_messages WHERE event_id = ANY($1::uuid[])",
                [env.event_id for env in envelopes],
            )
        return done == len(envelopes)

    return check


async def test_events_published_in_the_wrong_order_still_give_exactly_one_sms(run_service, pool):
    picked = shipment(ShipmentPickedUp, order_id="o-late", tracking_url="https://t.example/XYZ")
    scheduled = pickup(5)
    cancelled = PickupCancelled(
        shipment_id=scheduled.shipment_id,
        order_id=scheduled.order_id,
        order_ref=scheduled.order_ref,
        producer_id=scheduled.producer_id,
        pickup_contact=scheduled.pickup_contact,
        reason="order cancelled",
    )
    async with run_service(fast_settings()) as running:
        # The shipment before its order, the pickup's cancellation before the pickup.
        await eventually(consumed(pool, await running.publish(picked, cancelled, times=2)))
        later = await running.publish(order_placed("o-late"), scheduled, times=2)
        await eventually(consumed(pool, later))
        await asyncio.sleep(1.5)  # the redelivered copies come and change nothing
    [sms] = await messages(pool)
    assert (sms["message_type"], sms["recipient"]) == ("buyer.shipped", BUYER_PHONE)
    assert sms["text"] == "Don #2001 da duoc gui di. Theo doi: https://t.example/XYZ"
