"""Reservations on a real PostgreSQL: all-or-nothing, idempotent, never oversold."""

import asyncio
from collections.abc import Sequence

import asyncpg
import pytest

from services.catalog.adapters.postgres import (
    release_for_order,
    reserve_for_order,
    stock_level,
)
from services.catalog.domain import (
    Decision,
    LineProblem,
    Problem,
    Rejected,
    Reserved,
    StockLevel,
)

pytestmark = pytest.mark.integration

CHANNELS = ("shopify", "lazada", "tiktok", "zalo", "phone")


async def reserve(pool: asyncpg.Pool, order_id: str, lines: Sequence[tuple[str, int]]) -> Decision:
    async with pool.acquire() as conn, conn.transaction():
        return await reserve_for_order(conn, order_id, lines)


async def snapshot(pool: asyncpg.Pool, skus: Sequence[str]) -> tuple[object, ...]:
    """Everything a reservation could change for these SKUs."""
    async with pool.acquire() as conn:
        return (
            await conn.fetch(
                "SELECT * FROM stock_items WHERE sku = ANY($1) ORDER BY sku", list(skus)
            ),
            await conn.fetchval("SELECT count(*) FROM stock_ledger WHERE sku = ANY($1)", skus),
            await conn.fetchval("SELECT count(*) FROM reservations WHERE sku = ANY($1)", skus),
        )


async def assert_ledger_matches_stock(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        mismatches = await conn.fetch(
            """SELECT s.sku FROM stock_items s
               LEFT JOIN (SELECT sku, sum(delta_on_hand) AS on_hand,
                                 sum(delta_reserved) AS reserved
                            FROM stock_ledger GROUP BY sku) l USING (sku)
               WHERE s.on_hand <> coalesce(l.on_hand, 0)
                  OR s.reserved <> coalesce(l.reserved, 0)
                  OR s.on_hand < 0 OR s.reserved < 0 OR s.reserved > s.on_hand"""
        )
    assert mismatches == []


async def test_fifty_concurrent_orders_for_the_last_ten_units_reserve_exactly_ten(
    catalog_db_url: str, catalog_pool: asyncpg.Pool, seed_product
) -> None:
    last = await seed_product("LAST", 10)
    plenty = await seed_product("PLENTY", 1000)
    conns = await asyncio.gather(*(asyncpg.connect(catalog_db_url) for _ in range(50)))

    async def place(n: int, conn: asyncpg.Connection) -> Decision:
        # Half the orders list the SKUs the other way round: locking in SKU order, not in
        # line order, is what keeps them from deadlocking.
        lines = [(last, 1), (plenty, 1)][:: 1 if n % 2 else -1]
        async with conn.transaction():
            return await reserve_for_order(conn, f"{CHANNELS[n % 5]}:order-{n}", lines)

    try:
        decisions = await asyncio.gather(*(place(n, c) for n, c in enumerate(conns)))
    finally:
        await asyncio.gather(*(c.close() for c in conns))

    reserved = [d for d in decisions if isinstance(d, Reserved)]
    rejected = [d for d in decisions if isinstance(d, Rejected)]
    assert len(reserved) == 10 and len(rejected) == 40
    assert all(
        [(p.sku, p.problem, p.available) for p in d.problems]
        == [(last, Problem.INSUFFICIENT_STOCK, 0)]
        for d in rejected
    )
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, last) == StockLevel(on_hand=10, reserved=10)
        assert await stock_level(conn, plenty) == StockLevel(on_hand=1000, reserved=10)
        assert (
            await conn.fetchval("SELECT sum(quantity) FROM reservations WHERE sku = $1", last) == 10
        )
    await assert_ledger_matches_stock(catalog_pool)


async def test_reserving_the_same_order_again_replays_without_moving_stock(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("IDEM", 5)
    first = await reserve(catalog_pool, "shopify:demo-shop:1001", [(sku, 2)])
    before = await snapshot(catalog_pool, [sku])

    again = await reserve(catalog_pool, "shopify:demo-shop:1001", [(sku, 2)])

    assert first == Reserved(lines=((sku, 2),))
    assert again == Reserved(lines=((sku, 2),), replayed=True)
    assert await snapshot(catalog_pool, [sku]) == before


async def test_concurrent_duplicates_of_one_order_reserve_it_once(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("DUP", 5)
    decisions = await asyncio.gather(
        *(reserve(catalog_pool, "zalo:order-77", [(sku, 3)]) for _ in range(5))
    )
    assert sorted(d.replayed for d in decisions if isinstance(d, Reserved)) == [False] + [True] * 4
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, sku) == StockLevel(on_hand=5, reserved=3)


async def test_unknown_sku_rejects_the_order_with_its_reason_and_changes_nothing(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("KNOWN", 5)
    before = await snapshot(catalog_pool, [sku, "XX-UNKNOWN-1"])

    decision = await reserve(catalog_pool, "lazada:order-9", [(sku, 1), ("XX-UNKNOWN-1", 2)])

    assert decision == Rejected(
        problems=(LineProblem(line=1, sku="XX-UNKNOWN-1", quantity=2, problem=Problem.UNKNOWN_SKU),)
    )
    assert await snapshot(catalog_pool, [sku, "XX-UNKNOWN-1"]) == before
    async with catalog_pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM reservations WHERE order_id = 'lazada:order-9'"
        )


async def test_release_returns_the_stock_once_and_the_order_cannot_be_reserved_again(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("REL", 4)
    await reserve(catalog_pool, "tiktok:order-5", [(sku, 3)])

    async with catalog_pool.acquire() as conn, conn.transaction():
        assert await release_for_order(conn, "tiktok:order-5") == [(sku, 3)]
    after_first = await snapshot(catalog_pool, [sku])
    async with catalog_pool.acquire() as conn, conn.transaction():
        assert await release_for_order(conn, "tiktok:order-5") == []

    assert await snapshot(catalog_pool, [sku]) == after_first
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, sku) == StockLevel(on_hand=4, reserved=0)
    again = await reserve(catalog_pool, "tiktok:order-5", [(sku, 3)])
    assert isinstance(again, Rejected)
    assert again.problems[0].problem is Problem.ALREADY_RELEASED
    await assert_ledger_matches_stock(catalog_pool)


async def test_releasing_an_unknown_order_does_nothing(catalog_pool: asyncpg.Pool) -> None:
    async with catalog_pool.acquire() as conn, conn.transaction():
        assert await release_for_order(conn, "phone:never-placed") == []
