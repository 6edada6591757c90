"""ovop_order_journey_seconds: the time from an order's arrival to CONFIRMED and to
PICKUP_SCHEDULED, observed once per order by the handlers of StockReserved and PickupScheduled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from services.orders import handlers
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    Contact,
    Location,
    PickupScheduled,
    ProducerAllocation,
    ReservedLine,
    StockReserved,
)
from tests.orders.integration.conftest import auth

pytestmark = pytest.mark.integration

CONTACT = Contact(name="HTX", phone="+84912000101")
LOCATION = Location(village="Pả Vi", province="Tuyên Quang", country="VN", lat=23.1, lon=105.4)


def journey(stage: str) -> tuple[float, float]:
    """(count, sum) of the histogram for one stage, so far in this process."""
    labels = {"stage": stage}
    count = REGISTRY.get_sample_value("ovop_order_journey_seconds_count", labels) or 0.0
    total = REGISTRY.get_sample_value("ovop_order_journey_seconds_sum", labels) or 0.0
    return count, total


async def handle(orders, handler, event) -> list:
    env = Envelope.wrap(event, producer="test", correlation_id=event.order_id)
    async with orders.pool.acquire() as conn, conn.transaction():
        return await handler(conn, env, event)


async def test_the_journey_is_observed_when_the_order_is_confirmed_and_its_pickup_scheduled(
    orders,
):
    body = {
        "order_ref": "J-1",
        "account": "phone",
        "lines": [{"sku": "HONEY", "name": "Honey", "quantity": 1, "unit_price": 100000}],
        "payment": {"method": "cod"},
        "buyer": {"name": "Bà Lan", "phone": "0912345678"},
        "shipping_address": {"line1": "Thôn 3", "ward": "Xã Bát Tràng", "province": "Hà Nội"},
    }
    created = await orders.http.post("/orders", json=body, headers=auth())
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    async with orders.pool.acquire() as conn:  # it arrived 90 s ago
        await conn.execute(
            "UPDATE orders SET created_at = now() - interval '90 seconds' WHERE order_id = $1",
            order_id,
        )
    confirmed, scheduled = journey("confirmed"), journey("pickup_scheduled")

    reserved = StockReserved(
        order_id=order_id,
        order_ref="J-1",
        allocations=[
            ProducerAllocation(
                producer_id="P-HONEY",
                contact=CONTACT,
                location=LOCATION,
                lines=[ReservedLine(sku="HONEY", name="Honey", quantity=1, weight_g=500)],
            )
        ],
    )
    await handle(orders, handlers.on_stock_reserved, reserved)
    count, total = journey("confirmed")
    assert count == confirmed[0] + 1
    assert 90 <= total - confirmed[1] < 3600
    assert journey("pickup_scheduled") == scheduled

    now = datetime.now(UTC)
    pickup = PickupScheduled(
        shipment_id="S-1",
        order_id=order_id,
        order_ref="J-1",
        producer_id="P-HONEY",
        hub_id="HUB",
        wave_id="W1",
        window_start=now,
        window_end=now + timedelta(hours=2),
        pickup_contact=CONTACT,
        location=LOCATION,
        lines=[],
        weight_g=500,
    )
    await handle(orders, handlers.on_pickup_scheduled, pickup)
    count, total = journey("pickup_scheduled")
    assert count == scheduled[0] + 1
    assert 90 <= total - scheduled[1] < 3600
    assert (await orders.order(order_id))["status"] == "PICKUP_SCHEDULED"

    # Handled again (a replay past the inbox): the status does not move, nothing is observed.
    await handle(orders, handlers.on_stock_reserved, reserved)
    await handle(orders, handlers.on_pickup_scheduled, pickup)
    assert journey("confirmed")[0] == confirmed[0] + 1
    assert journey("pickup_scheduled")[0] == scheduled[0] + 1
