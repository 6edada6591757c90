"""A parcel's pickup (logistics.shipment.v1) and its order's cancellation (orders.order.v1) fed
in every arrival order, each redelivered, on the real database through the consumer's own
transaction: the stock ends as if they had been handled in the order they happened. Units
cancelled before the pickup stay on the shelf; units cancelled after it left with the parcel."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.catalog import bootstrap
from services.catalog.adapters.postgres import reserve_for_order, stock_level
from services.catalog.domain import StockLevel
from shared.contracts.envelope import Envelope
from shared.contracts.events import CancelledLine, OrderCancelled
from shared.contracts.logistics import ShipmentPickedUp
from tests.catalog.conftest import TEST_PRODUCER
from tests.catalog.integration.test_catalog_reservations_pg import assert_ledger_matches_stock
from tests.shared.integration.delivery import deliver, wrap

pytestmark = pytest.mark.integration
PICKED_UP_AT = datetime(2026, 11, 29, 3, 15, tzinfo=UTC)
# The service's own consumer handlers: each runs its command on the bus in the consumer's
# transaction (the bus's pool is never used there).
CONSUMED = {
    event_type: handler
    for sub in bootstrap.subscriptions(bootstrap.message_bus(lambda: None))
    for event_type, handler in sub.handlers.items()
}


def cancellation(order_id: str, at: datetime, units: int | None = None, sku: str = ""):
    lines = [CancelledLine(sku=sku, quantity=units)] if units else []
    event = OrderCancelled(order_id=order_id, reason="buyer", lines=lines)
    return event, wrap(event).model_copy(update={"occurred_at": at})


def pickup(order_id: str, at: datetime = PICKED_UP_AT):
    event = ShipmentPickedUp(
        shipment_id=f"s-{order_id}",
        order_id=order_id,
        producer_id=TEST_PRODUCER.producer_id,
        occurred_at=at,
    )
    return event, wrap(event)


async def feed(pool: asyncpg.Pool, *deliveries: tuple[object, Envelope]) -> None:
    """Each delivered twice: the second is a redelivery of the same record."""
    for event, env in deliveries:
        handler = CONSUMED[type(event)]
        assert await deliver(pool, "catalog", handler, event, env)
        assert not await deliver(pool, "catalog", handler, event, env)


async def reserved(pool: asyncpg.Pool, seed_product, on_hand: int, units: int):
    sku = await seed_product("RACE", on_hand)
    order_id = f"web:race-{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn, conn.transaction():
        await reserve_for_order(conn, order_id, [(sku, units)])
    return sku, order_id


async def state(pool: asyncpg.Pool, sku: str, order_id: str):
    async with pool.acquire() as conn:
        level = await stock_level(conn, sku)
        row = await conn.fetchrow(
            "SELECT status, released FROM reservations WHERE order_id = $1", order_id
        )
    return level, (row["status"], row["released"])


@pytest.mark.parametrize("read_first", ["cancellation", "pickup"])
@pytest.mark.parametrize(
    ("cancelled", "left_with_parcel", "status"),
    [(timedelta(hours=-2), 0, "RELEASED"), (timedelta(hours=2), 2, "CONFIRMED")],
    ids=["cancelled_before_pickup", "cancelled_after_pickup"],
)
async def test_the_whole_orders_cancellation_and_the_pickup_move_stock_by_when_they_happened(
    catalog_pool, seed_product, read_first, cancelled, left_with_parcel, status
):
    sku, order_id = await reserved(catalog_pool, seed_product, on_hand=5, units=2)
    cancel, picked = cancellation(order_id, PICKED_UP_AT + cancelled), pickup(order_id)
    await feed(catalog_pool, *((cancel, picked) if read_first == "cancellation"
                               else (picked, cancel)))  # fmt: skip
    # The carrier reports the pickup again, later: the parcel left once.
    await feed(catalog_pool, pickup(order_id, PICKED_UP_AT + timedelta(hours=1)))

    level, reservation = await state(catalog_pool, sku, order_id)
    assert level == StockLevel(on_hand=5 - left_with_parcel, reserved=0)
    assert reservation == (status, 2 - left_with_parcel)
    await assert_ledger_matches_stock(catalog_pool)


@pytest.mark.parametrize("arrival", list(itertools.permutations(["before", "pickup", "after"])))
async def test_partial_cancellations_around_the_pickup_end_the_same_in_every_arrival_order(
    catalog_pool, seed_product, arrival
):
    sku, order_id = await reserved(catalog_pool, seed_product, on_hand=10, units=3)
    deliveries = {  # one jar cancelled before the courier came, one after: two left with it
        "before": cancellation(order_id, PICKED_UP_AT - timedelta(hours=1), 1, sku),
        "pickup": pickup(order_id),
        "after": cancellation(order_id, PICKED_UP_AT + timedelta(hours=1), 1, sku),
    }
    await feed(catalog_pool, *(deliveries[name] for name in arrival))

    level, reservation = await state(catalog_pool, sku, order_id)
    assert level == StockLevel(on_hand=8, reserved=0)
    assert reservation == ("CONFIRMED", 1)
    await assert_ledger_matches_stock(catalog_pool)
