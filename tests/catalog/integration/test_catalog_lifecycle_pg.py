"""After the reservation, on a real PostgreSQL: release on cancellation (whole or per line) and on
expiry, confirmation on pickup, stock adjustments; every step once, the ledger always agreeing."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.catalog import bootstrap
from services.catalog.adapters.postgres import (
    adjust_stock,
    confirm_for_pickup,
    release_for_order,
    reserve_for_order,
    stock_level,
    upsert_producer,
    upsert_product,
)
from services.catalog.commands import ConfirmPickup, ReleaseStock
from services.catalog.domain import AdjustmentError, LocalizedText, Product, StockLevel
from services.catalog.domain.stock import Problem, Rejected
from shared.contracts.envelope import Envelope
from shared.contracts.events import CancelledLine, OrderCancelled
from shared.contracts.logistics import ShipmentPickedUp
from tests.catalog.conftest import TEST_PRODUCER
from tests.catalog.integration.test_catalog_reservations_pg import assert_ledger_matches_stock

pytestmark = pytest.mark.integration

OTHER_PRODUCER = TEST_PRODUCER.model_copy(
    update={"producer_id": "PRD-TS-002", "name": "Other household", "phone": "+84912000198"}
)


async def levels(pool: asyncpg.Pool, *skus: str) -> list[StockLevel | None]:
    async with pool.acquire() as conn:
        return [await stock_level(conn, sku) for sku in skus]


async def reserve(pool: asyncpg.Pool, order_id: str, lines: list[tuple[str, int]]) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await reserve_for_order(conn, order_id, lines)


async def cancel(pool: asyncpg.Pool, event: OrderCancelled) -> None:
    env = Envelope.wrap(event, producer="orders", correlation_id=event.order_id)
    await bootstrap.message_bus(lambda: pool).handle(ReleaseStock.of(env, event))


async def test_cancelling_the_whole_order_releases_every_line_once(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    a, b = await seed_product("CANA", 5), await seed_product("CANB", 5)
    await reserve(catalog_pool, "shopify:c-1", [(a, 2), (b, 3)])

    await cancel(catalog_pool, OrderCancelled(order_id="shopify:c-1", reason="buyer"))
    await cancel(catalog_pool, OrderCancelled(order_id="shopify:c-1", reason="buyer, again"))

    assert await levels(catalog_pool, a, b) == [StockLevel(on_hand=5, reserved=0)] * 2
    async with catalog_pool.acquire() as conn:
        statuses = await conn.fetch(
            "SELECT status, released FROM reservations WHERE order_id = 'shopify:c-1'"
        )
    assert [(r["status"], r["released"]) for r in statuses] == [("RELEASED", 2), ("RELEASED", 3)]
    await assert_ledger_matches_stock(catalog_pool)


async def test_cancelling_some_lines_releases_only_them_capped_at_what_is_held(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    a, b = await seed_product("PARTA", 5), await seed_product("PARTB", 5)
    await reserve(catalog_pool, "lazada:c-2", [(a, 3), (b, 2)])

    one = [CancelledLine(sku=a, quantity=1)]
    await cancel(catalog_pool, OrderCancelled(order_id="lazada:c-2", reason="out", lines=one))
    assert await levels(catalog_pool, a, b) == [
        StockLevel(on_hand=5, reserved=2),
        StockLevel(on_hand=5, reserved=2),
    ]
    # More than is held of `a`: only the 2 still held go back; an unknown SKU is ignored.
    lines = [CancelledLine(sku=a, quantity=9), CancelledLine(sku="XX-NOT-HELD", quantity=1)]
    await cancel(catalog_pool, OrderCancelled(order_id="lazada:c-2", reason="out", lines=lines))
    assert await levels(catalog_pool, a, b) == [
        StockLevel(on_hand=5, reserved=0),
        StockLevel(on_hand=5, reserved=2),
    ]
    await assert_ledger_matches_stock(catalog_pool)


async def test_a_cancelled_line_named_by_its_channel_sku_is_released(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("CHAN", 4)
    async with catalog_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO channel_listings VALUES ('tiktok-shop', 'shop-1', 'TT-123', $1)", sku
        )
    await reserve(catalog_pool, "tiktok:c-3", [(sku, 2)])
    line = CancelledLine(sku="TT-123", quantity=2)
    await cancel(catalog_pool, OrderCancelled(order_id="tiktok:c-3", reason="x", lines=[line]))
    assert await levels(catalog_pool, sku) == [StockLevel(on_hand=4, reserved=0)]


async def test_pickup_confirms_only_that_producers_lines_and_stock_leaves_the_shelf(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    mine = await seed_product("PICKA", 6)
    theirs = Product(
        sku=f"{mine}-OTHER",
        producer_id=OTHER_PRODUCER.producer_id,
        names=LocalizedText(vi="Khác", en="Other"),
        price=1,
        currency="VND",
        weight_g=10,
    )
    async with catalog_pool.acquire() as conn, conn.transaction():
        await upsert_producer(conn, OTHER_PRODUCER)
        await upsert_product(conn, theirs, 3)
    await reserve(catalog_pool, "zalo:p-1", [(mine, 2), (theirs.sku, 1)])
    picked = ShipmentPickedUp(
        shipment_id="s-1",
        order_id="zalo:p-1",
        producer_id=TEST_PRODUCER.producer_id,
        occurred_at=datetime.now(UTC),
    )
    env = Envelope.wrap(picked, producer="logistics", correlation_id="zalo:p-1")

    for _ in range(2):  # the second is a replay with a new event id: nothing more moves
        await bootstrap.message_bus(lambda: catalog_pool).handle(ConfirmPickup.of(env, picked))

    assert await levels(catalog_pool, mine, theirs.sku) == [
        StockLevel(on_hand=4, reserved=0),
        StockLevel(on_hand=3, reserved=1),
    ]
    # A cancellation after pickup cannot put the picked-up units back on the shelf.
    await cancel(catalog_pool, OrderCancelled(order_id="zalo:p-1", reason="x", after_pickup=True))
    assert await levels(catalog_pool, mine, theirs.sku) == [
        StockLevel(on_hand=4, reserved=0),
        StockLevel(on_hand=3, reserved=0),
    ]
    async with catalog_pool.acquire() as conn:
        reasons = await conn.fetch(
            "SELECT reason, count(*) FROM stock_ledger WHERE order_id = 'zalo:p-1' GROUP BY 1"
        )
    assert {r["reason"]: r["count"] for r in reasons} == {
        "RESERVE": 2,
        "CONFIRM": 1,
        "RELEASE": 1,
    }
    await assert_ledger_matches_stock(catalog_pool)


async def test_reservations_past_their_ttl_expire_and_younger_ones_stay(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("TTL", 10)
    await reserve(catalog_pool, "phone:old", [(sku, 3)])
    await reserve(catalog_pool, "phone:new", [(sku, 2)])
    async with catalog_pool.acquire() as conn:
        await conn.execute(
            "UPDATE reservations SET created_at = now() - interval '3 hours'"
            " WHERE order_id = 'phone:old'"
        )

    bus = bootstrap.message_bus(lambda: catalog_pool)
    expired = await bootstrap.expire_overdue(bus, timedelta(hours=2))
    again = await bootstrap.expire_overdue(bus, timedelta(hours=2))

    assert expired >= 1 and again == 0
    assert await levels(catalog_pool, sku) == [StockLevel(on_hand=10, reserved=2)]
    async with catalog_pool.acquire() as conn:
        assert (
            await conn.fetchval(
                "SELECT reason FROM stock_ledger WHERE order_id = 'phone:old' ORDER BY id DESC"
            )
            == "EXPIRE"
        )
        # The order cannot be reserved again under the same id once released.
        async with conn.transaction():
            replay = await reserve_for_order(conn, "phone:old", [(sku, 3)])
    assert isinstance(replay, Rejected) and replay.problems[0].problem is Problem.ALREADY_RELEASED


async def test_release_after_confirm_and_confirm_after_release_move_nothing(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("ORDER", 5)
    await reserve(catalog_pool, "web:o-1", [(sku, 2)])
    async with catalog_pool.acquire() as conn, conn.transaction():
        assert await release_for_order(conn, "web:o-1") == [(sku, 2)]
        assert await confirm_for_pickup(conn, "web:o-1", TEST_PRODUCER.producer_id) == []
    assert await levels(catalog_pool, sku) == [StockLevel(on_hand=5, reserved=0)]


async def test_an_adjustment_cannot_take_reserved_units_and_a_count_sets_on_hand(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("ADJ", 5)
    await reserve(catalog_pool, "web:a-1", [(sku, 4)])
    async with catalog_pool.acquire() as conn, conn.transaction():
        with pytest.raises(AdjustmentError) as error:
            await adjust_stock(conn, sku, delta=-2)
        assert error.value.field == "delta" and error.value.conflict
        assert await adjust_stock(conn, sku, on_hand=12, note="stock take") == StockLevel(
            on_hand=12, reserved=4
        )
        assert await adjust_stock(conn, "XX-NOPE-1", delta=1) is None
    assert await levels(catalog_pool, sku) == [StockLevel(on_hand=12, reserved=4)]
    await assert_ledger_matches_stock(catalog_pool)


async def test_available_is_a_stored_column_that_can_never_go_negative(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("AVAIL", 3)
    async with catalog_pool.acquire() as conn:
        assert await conn.fetchval("SELECT available FROM stock_items WHERE sku = $1", sku) == 3
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason, order_id)
                   VALUES ($1, -1, 3, 'RESERVE', 'x:1')""",
                sku,
            )
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute("UPDATE stock_items SET version = 0 WHERE sku = $1", sku)
