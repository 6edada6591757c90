"""The lifecycle on the real broker and database: the reservation saga (confirm, hold, timeout,
compensation), fulfilment units per producer, pickup and shipment events, returns."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from services.orders import handlers
from services.orders.bootstrap import build
from services.orders.entrypoints.cli import orders as orders_cli
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    Contact,
    Location,
    PickupScheduled,
    ProducerAllocation,
    RejectedLine,
    ReservedLine,
    StockRejected,
    StockReserved,
)
from shared.contracts.logistics import ShipmentDelivered, ShipmentPickedUp, ShipmentReturned
from tests.orders.integration.conftest import ADMIN, auth
from tests.shared.integration.harness import eventually, send, settings_for, wait_until_assigned

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
CONTACT = Contact(name="HTX", phone="+84912000101")
LOCATION = Location(village="Pả Vi", province="Tuyên Quang", country="VN", lat=23.1, lon=105.4)


def manual_order(ref: str, *lines: tuple[str, int], **over) -> dict:
    return {
        "order_ref": ref,
        "account": "phone",
        "lines": [
            {"sku": sku, "name": sku.title(), "quantity": qty, "unit_price": 100000}
            for sku, qty in lines
        ],
        "shipping_fee": 20000,
        "payment": {"method": "cod"},
        "buyer": {"name": "Bà Lan", "phone": "0912345678"},
        "shipping_address": {"line1": "Thôn 3", "ward": "Xã Bát Tràng", "province": "Hà Nội"},
    } | over


async def cli(*args: str):
    """The operator CLI (it runs its own event loop, so in a thread)."""
    return await asyncio.to_thread(CliRunner().invoke, orders_cli, list(args))


def allocation(producer: str, *lines: tuple[str, int]) -> ProducerAllocation:
    return ProducerAllocation(
        producer_id=producer,
        contact=CONTACT,
        location=LOCATION,
        lines=[ReservedLine(sku=s, name=s, quantity=q, weight_g=500) for s, q in lines],
    )


def pickup(order_id: str, producer: str, shipment: str) -> PickupScheduled:
    return PickupScheduled(
        shipment_id=shipment,
        order_id=order_id,
        order_ref="#1",
        producer_id=producer,
        hub_id="HUB",
        wave_id="W1",
        window_start=NOW,
        window_end=NOW + timedelta(hours=2),
        pickup_contact=CONTACT,
        location=LOCATION,
        lines=[],
        weight_g=500,
    )


@pytest.fixture
async def running(kafka_bootstrap, make_database, make_topic, orders):
    """A second orders service consuming from this test's own topics, on `orders`'s database."""
    topics = {}
    service = build(
        settings_for(
            "orders", kafka_bootstrap, orders.service.settings.own_database_url, admin_token=ADMIN
        )
    )
    for sub in service.subscriptions:
        topics[sub.topic] = await make_topic(partitions=1)
    service.subscriptions = [
        dataclasses.replace(s, topic=topics[s.topic]) for s in service.subscriptions
    ]
    service.background, service.run_relay = (), False
    await service.start()
    try:
        await wait_until_assigned(kafka_bootstrap, service.broker)
        yield topics
    finally:
        await service.stop()


async def publish(bootstrap: str, topics: dict, *events, at: datetime | None = None) -> None:
    """`at` is when the producer published them (the envelope's time; the wall clock if None)."""
    envelopes = [Envelope.wrap(e, producer="test", correlation_id=e.order_id) for e in events]
    if at is not None:
        envelopes = [env.model_copy(update={"occurred_at": at}) for env in envelopes]
    await send(
        bootstrap,
        topics[events[0].topic],
        [(e.key(), env.to_bytes()) for e, env in zip(events, envelopes, strict=True)],
    )


async def test_a_two_producer_order_splits_into_units_ships_and_returns_after_cancellation(
    orders, running, kafka_bootstrap
):
    created = await orders.http.post(
        "/orders", json=manual_order("Z-1", ("HONEY", 2), ("TEA", 1)), headers=auth()
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    await publish(
        kafka_bootstrap,
        running,
        StockReserved(
            order_id=order_id,
            order_ref="Z-1",
            allocations=[allocation("P-HONEY", ("HONEY", 2)), allocation("P-TEA", ("TEA", 1))],
        ),
    )

    async def status_is(status: str) -> bool:
        return (await orders.order(order_id))["status"] == status

    await eventually(lambda: status_is("CONFIRMED"))
    order = await orders.order(order_id)
    assert [u["producer_id"] for u in order["fulfilment_units"]] == ["P-HONEY", "P-TEA"]
    by_producer = await orders.http.get("/orders?producer=P-TEA", headers=auth())
    assert [o["order_id"] for o in by_producer.json()["orders"]] == [order_id]

    # Logistics schedules the pickups before the carrier picks up: the orders service dates a
    # PickupScheduled by its envelope, a shipment event by the carrier's own time.
    await publish(
        kafka_bootstrap,
        running,
        pickup(order_id, "P-HONEY", "S-1"),
        pickup(order_id, "P-TEA", "S-2"),
        at=NOW - timedelta(hours=1),
    )
    await eventually(lambda: status_is("PICKUP_SCHEDULED"))
    await publish(
        kafka_bootstrap,
        running,
        ShipmentPickedUp(
            shipment_id="S-1", order_id=order_id, producer_id="P-HONEY", occurred_at=NOW
        ),
    )
    await eventually(lambda: status_is("SHIPPED"))

    cancel = await orders.http.post(
        f"/orders/{order_id}/cancel", json={"reason": "buyer"}, headers=auth()
    )
    assert cancel.json()["status"] == "RETURNING"
    cancelled = [p for e, p in await orders.outbox(order_id) if e == "OrderCancelled"]
    assert cancelled == [dict(cancelled[0], after_pickup=True, lines=[])]

    late = ShipmentPickedUp(
        shipment_id="S-1",
        order_id=order_id,
        producer_id="P-HONEY",
        occurred_at=NOW - timedelta(hours=1),
    )
    await publish(
        kafka_bootstrap,
        running,
        ShipmentReturned(
            shipment_id="S-1",
            order_id=order_id,
            producer_id="P-HONEY",
            occurred_at=NOW + timedelta(hours=5),
        ),
        late,
        ShipmentReturned(
            shipment_id="S-2",
            order_id=order_id,
            producer_id="P-TEA",
            occurred_at=NOW + timedelta(hours=6),
        ),
    )
    await eventually(lambda: status_is("RETURNED"))
    history = [h["status"] for h in (await orders.order(order_id))["history"]]
    # Every unit's move is in the history; the order's own status changes read in order:
    changes = [s for i, s in enumerate(history) if i == 0 or history[i - 1] != s]
    assert changes == [
        "PENDING_STOCK",
        "CONFIRMED",
        "PICKUP_SCHEDULED",
        "SHIPPED",
        "RETURNING",
        "RETURNED",
    ]
    assert history[-1] == "RETURNED"
    units = {
        u["producer_id"]: u["status"] for u in (await orders.order(order_id))["fulfilment_units"]
    }
    assert units == {"P-HONEY": "returned", "P-TEA": "returned"}  # the stale pickup lost


async def test_an_order_is_delivered_only_when_every_unit_is(orders, running, kafka_bootstrap):
    created = await orders.http.post(
        "/orders", json=manual_order("Z-2", ("HONEY", 1), ("TEA", 1)), headers=auth()
    )
    order_id = created.json()["order_id"]
    await publish(
        kafka_bootstrap,
        running,
        StockReserved(
            order_id=order_id,
            order_ref="Z-2",
            allocations=[allocation("P-HONEY", ("HONEY", 1)), allocation("P-TEA", ("TEA", 1))],
        ),
    )
    events = [
        ShipmentPickedUp(
            shipment_id="S-1", order_id=order_id, producer_id="P-HONEY", occurred_at=NOW
        ),
        ShipmentPickedUp(
            shipment_id="S-2", order_id=order_id, producer_id="P-TEA", occurred_at=NOW
        ),
        ShipmentDelivered(
            shipment_id="S-1",
            order_id=order_id,
            producer_id="P-HONEY",
            occurred_at=NOW + timedelta(days=1),
        ),
    ]
    await eventually(lambda: _status(orders, order_id, "CONFIRMED"))
    await publish(kafka_bootstrap, running, *events)
    await eventually(lambda: _unit(orders, order_id, "P-HONEY", "delivered"))
    assert (await orders.order(order_id))["status"] == "SHIPPED"
    await publish(
        kafka_bootstrap,
        running,
        ShipmentDelivered(
            shipment_id="S-2",
            order_id=order_id,
            producer_id="P-TEA",
            occurred_at=NOW + timedelta(days=1),
        ),
    )
    await eventually(lambda: _status(orders, order_id, "DELIVERED"))


async def _status(orders, order_id: str, status: str) -> bool:
    return (await orders.order(order_id))["status"] == status


async def _unit(orders, order_id: str, producer: str, status: str) -> bool:
    units = (await orders.order(order_id))["fulfilment_units"]
    return any(u["producer_id"] == producer and u["status"] == status for u in units)


async def test_an_unknown_sku_puts_the_order_on_hold_and_the_operator_resolves_it(
    orders, running, kafka_bootstrap, monkeypatch
):
    created = await orders.http.post(
        "/orders", json=manual_order("Z-3", ("HONY", 1)), headers=auth()
    )
    order_id = created.json()["order_id"]
    await publish(
        kafka_bootstrap,
        running,
        StockRejected(
            order_id=order_id,
            reason="unknown_sku: HONY",
            lines=[RejectedLine(sku="HONY", reason="unknown_sku", requested=1)],
        ),
    )
    await eventually(lambda: _status(orders, order_id, "ON_HOLD"))
    listed = await orders.http.get("/orders?status=on_hold", headers=auth())
    [held] = listed.json()["orders"]
    assert held["hold_reason"] == "unmapped_sku: HONY"

    monkeypatch.setenv("ORDERS_DATABASE_URL", orders.service.settings.own_database_url)
    result = await cli("resolve", order_id, "--sku", "HONY=HONEY")
    assert result.exit_code == 0, result.output
    order = await orders.order(order_id)
    assert order["status"] == "PENDING_STOCK" and order["lines"][0]["sku"] == "HONEY"
    placed = [p for e, p in await orders.outbox(order_id) if e == "OrderPlaced"]
    assert len(placed) == 2 and placed[1]["lines"][0]["sku"] == "HONEY"


async def test_an_unusable_address_holds_the_order_until_resolved(orders, monkeypatch):
    body = manual_order("Z-4", ("HONEY", 1), shipping_address={"line1": "Thôn 3"})
    created = await orders.http.post("/orders", json=body, headers=auth())
    order_id = created.json()["order_id"]
    order = await orders.order(order_id)
    assert order["status"] == "ON_HOLD"
    assert order["hold_reason"] == "address_unusable: province missing"
    assert await orders.outbox(order_id) == []  # nothing reserved yet
    monkeypatch.setenv("ORDERS_DATABASE_URL", orders.service.settings.own_database_url)
    result = await cli("resolve", order_id, "--province", "Hà Giang")
    assert result.exit_code == 0, result.output
    # Hà Giang merged into Tuyên Quang on 1 July 2025.
    assert (await orders.order(order_id))["shipping_address"]["province"] == "Tuyên Quang"
    assert [e for e, _ in await orders.outbox(order_id)] == ["OrderPlaced"]


async def test_the_reservation_times_out_into_a_cancellation_and_a_late_reservation_is_released(
    orders, running, kafka_bootstrap
):
    created = await orders.http.post(
        "/orders", json=manual_order("Z-5", ("HONEY", 1)), headers=auth()
    )
    order_id = created.json()["order_id"]
    async with orders.pool.acquire() as conn, conn.transaction():
        await conn.execute("UPDATE orders SET stock_deadline = now() - interval '1 second'")
        [expired] = await handlers.expire_reservations(conn)
    assert expired.status == "CANCELLED"
    await publish(
        kafka_bootstrap,
        running,
        StockReserved(
            order_id=order_id, order_ref="Z-5", allocations=[allocation("P", ("HONEY", 1))]
        ),
    )

    async def compensated() -> bool:
        return [e for e, _ in await orders.outbox(order_id)].count("OrderCancelled") == 2

    await eventually(compensated)
    reasons = [p["reason"] for e, p in await orders.outbox(order_id) if e == "OrderCancelled"]
    assert reasons[0].startswith("reservation_timeout")
    assert "released" in reasons[1]
    assert (await orders.order(order_id))["status"] == "CANCELLED"


async def test_partial_line_cancellation_publishes_only_those_units(orders):
    created = await orders.http.post(
        "/orders", json=manual_order("Z-6", ("HONEY", 3), ("TEA", 1)), headers=auth()
    )
    order_id = created.json()["order_id"]
    resp = await orders.http.post(
        f"/orders/{order_id}/cancel",
        json={"reason": "out of jars", "lines": {"HONEY": 2}},
        headers=auth(),
    )
    assert resp.json()["outcome"] == "lines_cancelled"
    [(_, cancelled)] = [(e, p) for e, p in await orders.outbox(order_id) if e == "OrderCancelled"]
    assert cancelled["lines"] == [{"sku": "HONEY", "quantity": 2}]
    order = await orders.order(order_id)
    assert order["status"] == "PENDING_STOCK"
    assert order["lines"][0]["cancelled_quantity"] == 2
