"""The orders service's consumers on the real broker and database, with events arriving in the
order the platform produces them at its busiest: logistics consumes StockReserved itself, so
its PickupScheduled can reach orders before orders has handled the StockReserved."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from services.orders.bootstrap import build
from shared.contracts.events import RESERVATIONS, StockReserved
from shared.messaging.consumer import Handler
from tests.orders.integration.conftest import ADMIN, auth
from tests.orders.integration.test_orders_lifecycle_pg import (
    allocation,
    manual_order,
    pickup,
    publish,
)
from tests.shared.integration.harness import eventually, settings_for

pytestmark = pytest.mark.integration


class Gate:
    """Holds a consumer's handlers until the test opens it: a delay in the test harness only."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()

    def around(self, handler: Handler) -> Handler:
        async def gated(conn, env, event):
            self.reached.set()
            await self.opened.wait()
            return await handler(conn, env, event)

        return gated


@pytest.fixture
async def delayed(kafka_bootstrap, make_topic, orders) -> AsyncIterator[tuple[dict, Gate]]:
    """The orders service's consumers on this test's own topics and `orders`'s database, its
    catalog.reservation.v1 consumer held by a gate."""
    gate, topics = Gate(), {}
    settings = settings_for(
        "orders", kafka_bootstrap, orders.service.settings.own_database_url, admin_token=ADMIN
    )
    service = build(settings)
    subscriptions = []
    for sub in service.subscriptions:
        topics[sub.topic] = await make_topic(partitions=1)
        handlers = sub.handlers
        if sub.topic == RESERVATIONS:
            handlers = {model: gate.around(h) for model, h in handlers.items()}
        subscriptions.append(dataclasses.replace(sub, topic=topics[sub.topic], handlers=handlers))
    service.subscriptions, service.background, service.run_relay = subscriptions, (), False
    await service.start()
    try:
        yield topics, gate
    finally:
        gate.opened.set()
        await service.stop()


async def handled(orders, count: int) -> bool:
    async with orders.pool.acquire() as conn:
        done = await conn.fetchval("SELECT count(*) FROM processed_messages")
    return done >= count


async def test_a_pickup_scheduled_before_the_reservation_is_handled_ends_pickup_scheduled(
    orders, delayed, kafka_bootstrap
):
    topics, gate = delayed
    created = await orders.http.post(
        "/orders", json=manual_order("R-1", ("HONEY", 1)), headers=auth()
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    reserved = StockReserved(
        order_id=order_id, order_ref="R-1", allocations=[allocation("P-HONEY", ("HONEY", 1))]
    )
    scheduled = pickup(order_id, "P-HONEY", "S-1")

    await publish(kafka_bootstrap, topics, scheduled)
    await publish(kafka_bootstrap, topics, reserved)
    await asyncio.wait_for(gate.reached.wait(), timeout=30)
    await eventually(lambda: handled(orders, 1))  # the pickup, while the reservation waits
    order = await orders.order(order_id)
    assert order["status"] == "PENDING_STOCK"
    assert "pickup_scheduled" in (order["history"][-1]["reason"] or "")

    gate.opened.set()
    await eventually(lambda: handled(orders, 2))
    order = await orders.order(order_id)
    assert order["status"] == "PICKUP_SCHEDULED"
    assert [
        (u["producer_id"], u["status"], u["shipment_id"]) for u in order["fulfilment_units"]
    ] == [("P-HONEY", "pickup_scheduled", "S-1")]
    assert [h["status"] for h in order["history"]] == [
        "PENDING_STOCK",
        "PENDING_STOCK",
        "PICKUP_SCHEDULED",
    ]

    # Both again, as new messages (a replay past the inbox): nothing changes, nothing is sent.
    await publish(kafka_bootstrap, topics, reserved)
    await publish(kafka_bootstrap, topics, scheduled)
    await eventually(lambda: handled(orders, 4))
    assert (await orders.order(order_id))["status"] == "PICKUP_SCHEDULED"
    confirmed = [e for e, _ in await orders.outbox(order_id) if e == "OrderConfirmed"]
    assert confirmed == ["OrderConfirmed"]
