"""Stock events on a real PostgreSQL: a burst of changes gives few StockLevelChanged with the final
figure, and the producer hears about low stock once per crossing."""

import asyncio

import asyncpg
import pytest

from services.catalog import bootstrap
from services.catalog.adapters.postgres import adjust_stock, release_for_order, reserve_for_order
from services.catalog.commands import PublishStockChanges
from shared.contracts.events import LowStockDetected, StockLevelChanged
from tests.catalog.conftest import TEST_PRODUCER

pytestmark = pytest.mark.integration


async def drain(pool: asyncpg.Pool, threshold: int = 0, limit: int = 500) -> list:
    bus = bootstrap.message_bus(lambda: pool)
    return await bus.handle(PublishStockChanges(limit=limit, low_stock_threshold=threshold))


def of(events: list, sku: str, kind: type) -> list:
    return [e for e in events if isinstance(e, kind) and e.sku == sku]


async def test_a_burst_of_changes_yields_far_fewer_events_ending_with_the_final_figure(
    catalog_db_url: str, catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("BURST", 500)
    await drain(catalog_pool)  # the initial stock's own event
    n = 200
    conns = await asyncio.gather(*(asyncpg.connect(catalog_db_url) for _ in range(20)))
    published: list = []
    done = asyncio.Event()

    async def drainer() -> None:  # the background job, but every 20 ms
        while not done.is_set():
            published.extend(await drain(catalog_pool))
            await asyncio.sleep(0.02)

    async def orders(conn: asyncpg.Connection, first: int) -> None:
        for i in range(first, n, len(conns)):
            async with conn.transaction():
                await reserve_for_order(conn, f"burst:{i}", [(sku, 1)])

    job = asyncio.create_task(drainer())
    try:
        await asyncio.gather(*(orders(c, k) for k, c in enumerate(conns)))
    finally:
        done.set()
        await job
        await asyncio.gather(*(c.close() for c in conns))
    published.extend(await drain(catalog_pool))

    levels = of(published, sku, StockLevelChanged)
    assert 1 <= len(levels) <= n // 4, f"{len(levels)} events for {n} changes"
    final = levels[-1]
    assert (final.on_hand, final.reserved, final.available) == (500, n, 500 - n)
    assert final.version == 1 + n  # the initial booking, then one ledger row per order
    assert [e.version for e in levels] == sorted({e.version for e in levels})
    assert await drain(catalog_pool) == []


async def test_a_level_carries_the_skus_channel_listings_and_producer(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("LISTED", 8)
    async with catalog_pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO channel_listings VALUES ($1, $2, $3, $4)",
            [("shopify", "demo-shop", f"SHOP-{sku}", sku), ("lazada", "vn-1", "LZ-9", sku)],
        )
    [level] = of(await drain(catalog_pool), sku, StockLevelChanged)
    assert level.producer_id == TEST_PRODUCER.producer_id
    assert sorted((r.channel, r.account, r.channel_sku) for r in level.listings) == [
        ("lazada", "vn-1", "LZ-9"),
        ("shopify", "demo-shop", f"SHOP-{sku}"),
    ]


async def test_low_stock_is_detected_once_per_crossing_with_the_producers_contact(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("LOW", 10)
    await drain(catalog_pool, threshold=3)

    async def step(order: str, qty: int) -> list:
        async with catalog_pool.acquire() as conn, conn.transaction():
            await reserve_for_order(conn, order, [(sku, qty)])
        return of(await drain(catalog_pool, threshold=3), sku, LowStockDetected)

    assert await step("low:1", 6) == []  # 4 available: above 3
    [alert] = await step("low:2", 2)  # 2 available: crossed
    assert (alert.available, alert.threshold) == (2, 3)
    assert alert.contact.phone == TEST_PRODUCER.phone
    assert alert.contact.name == TEST_PRODUCER.name
    assert alert.product_name == f"Sản phẩm {sku}"  # the producer's SMS language
    assert await step("low:3", 1) == []  # still low: no second alert

    async with catalog_pool.acquire() as conn, conn.transaction():  # restocked: crossing reset
        await adjust_stock(conn, sku, delta=10, note="harvest")
    assert of(await drain(catalog_pool, threshold=3), sku, LowStockDetected) == []
    async with catalog_pool.acquire() as conn, conn.transaction():
        await release_for_order(conn, "low:1")
    assert await step("low:4", 15) != []  # crossed again: alerted again


async def test_a_stock_change_always_leaves_its_sku_marked_in_the_same_transaction(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("MARK", 4)
    await drain(catalog_pool)
    async with catalog_pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await reserve_for_order(conn, "mark:1", [(sku, 1)])
                raise RuntimeError("rolled back")
        assert not await conn.fetchval("SELECT count(*) FROM stock_dirty WHERE sku = $1", sku)
        async with conn.transaction():
            await reserve_for_order(conn, "mark:2", [(sku, 1)])
        assert await conn.fetchval("SELECT changes FROM stock_dirty WHERE sku = $1", sku) == 1
