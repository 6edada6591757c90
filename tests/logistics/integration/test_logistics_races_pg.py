"""Logistics' facts from different topics, fed in both orders (and redelivered) on the real
database through the consumer's own transaction: the shipments end the same whichever came
first. OrderCancelled (orders.order.v1) against StockReserved (catalog.reservation.v1), and
carrier updates (logistics.tracking.v1) against the update or event that makes their shipment
known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.logistics import bootstrap
from services.logistics.adapters import postgres as db
from services.logistics.domain.network import shipment_id_for
from shared.contracts.events import CancelledLine, OrderCancelled
from shared.contracts.logistics import CarrierStatusReported
from shared.db.pool import create_pool
from tests.logistics.fakes import consumer_handlers
from tests.logistics.integration.conftest import HAGIANG
from tests.logistics.integration.test_logistics_flow_pg import allocation, reserved
from tests.shared.integration.delivery import deliver, outbox, wrap

pytestmark = pytest.mark.integration
BOTH_ORDERS = pytest.mark.parametrize("first", ["early", "late"])


@pytest.fixture
async def pool(make_database):
    pool = await create_pool(await make_database("logistics", bootstrap.MIGRATIONS), max_size=3)
    async with pool.acquire() as conn:
        await db.put_hub(conn, HAGIANG)
    yield pool
    await pool.close()


@pytest.fixture
def handlers(pool) -> dict:
    """The consumers' handlers, each handing its event to the bus (event type -> handler)."""
    return consumer_handlers(pool)


async def feed(pool, handlers: dict, *events) -> None:
    """Each event delivered twice (a redelivery of the same record), in the order given."""
    for event in events:
        env = wrap(event)
        assert await deliver(pool, "logistics", handlers[event.event_type], event, env)
        assert not await deliver(pool, "logistics", handlers[event.event_type], event, env)


async def shipment(pool) -> dict:
    async with pool.acquire() as conn:
        [row] = await conn.fetch("SELECT * FROM shipments")
    return dict(row)


def count(events, event_type: str) -> int:
    return sum(1 for t, _ in events if t == event_type)


@BOTH_ORDERS
async def test_a_cancellation_before_its_reservation_leaves_no_shipment_to_pick_up(
    pool, handlers, first
):
    stock = reserved("o-race-1", allocation("PRD-A", 23.16, 105.41))
    cancel = OrderCancelled(order_id="o-race-1", reason="buyer changed their mind")
    await feed(pool, handlers, *((cancel, stock) if first == "early" else (stock, cancel)))
    # Catalog answers a replayed OrderPlaced with the same StockReserved, under a new event id.
    await feed(pool, handlers, stock)

    row = await shipment(pool)
    assert (row["status"], row["run_id"], row["hold_reason"]) == ("CANCELLED", None, None)
    events = await outbox(pool)
    assert count(events, "ShipmentCancelled") == 1
    assert count(events, "PickupCancelled") == 0  # the producer never heard of it
    if first == "early":  # never queued for a wave, so never promised to the producer
        assert count(events, "ParcelQueued") == 0 and count(events, "ParcelWithdrawn") == 0


@BOTH_ORDERS
async def test_a_partial_cancellation_before_its_reservation_makes_the_parcel_lighter(
    pool, handlers, first
):
    stock = reserved("o-race-2", allocation("PRD-A", 23.16, 105.41))  # 2 jars of 750 g
    cancel = OrderCancelled(
        order_id="o-race-2",
        reason="one jar less",
        lines=[CancelledLine(sku="HG-HONEY-500", quantity=1)],
    )
    await feed(pool, handlers, *((cancel, stock) if first == "early" else (stock, cancel)))

    row = await shipment(pool)
    assert (row["status"], row["weight_g"]) == ("QUEUED", 750)
    assert [line["quantity"] for line in db.as_json(row["lines"])] == [1]
    queued = [p for t, p in await outbox(pool) if t == "ParcelQueued"]
    assert queued[0]["announce"] is True and queued[0]["shipment_id"] == row["shipment_id"]
    if first == "early":  # placed once, already lighter: no quiet re-placement after it
        assert len(queued) == 1


@BOTH_ORDERS
async def test_a_partial_cancellation_naming_the_platforms_sku_makes_the_parcel_lighter(
    pool, handlers, first
):
    """A marketplace knows its own SKU only; the catalog says which of ours it reserved for it."""
    honey = allocation("PRD-A", 23.16, 105.41)
    [line] = honey.lines
    honey = honey.model_copy(
        update={"lines": [line.model_copy(update={"channel_skus": ["mật ong 500g"]})]}
    )
    stock = reserved("o-race-3", honey)
    cancel = OrderCancelled(
        order_id="o-race-3",
        reason="lines cancelled on the channel",
        lines=[CancelledLine(sku="mật ong 500g", quantity=1)],
    )
    await feed(pool, handlers, *((cancel, stock) if first == "early" else (stock, cancel)))

    row = await shipment(pool)
    assert (row["status"], row["weight_g"]) == ("QUEUED", 750)
    assert [line["quantity"] for line in db.as_json(row["lines"])] == [1]


def tracking(code: str, at: datetime, *, shipment_id: str | None = None) -> CarrierStatusReported:
    return CarrierStatusReported(
        carrier="ghn",
        code=code,
        occurred_at=at,
        shipment_id=shipment_id,
        tracking_number="GHN5XK2P9Q",
    )


@BOTH_ORDERS
async def test_a_carrier_update_before_the_one_naming_its_shipment_waits_and_applies_in_time_order(
    pool, handlers, first
):
    await feed(pool, handlers, reserved("o-race-3", allocation("PRD-A", 23.16, 105.41)))
    sid = (await shipment(pool))["shipment_id"]
    picked_at = datetime(2026, 11, 29, 3, 15, tzinfo=UTC)
    picked = tracking("picked", picked_at, shipment_id=sid)  # the first to name our shipment
    at_hub = tracking("storing", picked_at + timedelta(hours=4))  # the carrier's number only
    if first == "early":
        await feed(pool, handlers, at_hub, at_hub.model_copy())  # and a carrier's retry
        assert (await shipment(pool))["status"] == "QUEUED"
    await feed(pool, handlers, picked, at_hub)

    row = await shipment(pool)
    assert (row["status"], row["tracking_number"]) == ("AT_HUB", "GHN5XK2P9Q")
    shipment_events = [t for t, _ in await outbox(pool) if t.startswith("Shipment")]
    assert shipment_events == ["ShipmentPickedUp", "ShipmentArrivedAtHub"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM waiting_tracking") == 0
        assert await conn.fetchval("SELECT count(*) FROM tracking_events") == 2


async def test_a_carrier_update_before_its_shipment_exists_applies_when_the_stock_is_reserved(
    pool, handlers
):
    stock = reserved("o-race-4", allocation("PRD-A", 23.16, 105.41))
    sid = shipment_id_for("o-race-4", "PRD-A")
    picked = tracking("picked", datetime(2026, 11, 29, 3, 15, tzinfo=UTC), shipment_id=sid)
    await feed(pool, handlers, picked, stock)

    row = await shipment(pool)
    assert (row["status"], row["carrier_status"]) == ("PICKED_UP", "picked")
    events = await outbox(pool)
    assert count(events, "ShipmentPickedUp") == 1
    assert count(events, "ParcelQueued") == 0  # already on its way: no pickup to plan


@BOTH_ORDERS
async def test_a_pickup_and_the_orders_cancellation_make_a_return_whichever_comes_first(
    pool, handlers, first
):
    await feed(pool, handlers, reserved("o-race-5", allocation("PRD-A", 23.16, 105.41)))
    sid = (await shipment(pool))["shipment_id"]
    picked = tracking("picked", datetime.now(UTC), shipment_id=sid)
    cancel = OrderCancelled(order_id="o-race-5", reason="buyer")
    await feed(pool, handlers, *((cancel, picked) if first == "early" else (picked, cancel)))

    assert (await shipment(pool))["status"] == "RETURN_REQUESTED"
    assert count(await outbox(pool), "ShipmentPickedUp") == 1
