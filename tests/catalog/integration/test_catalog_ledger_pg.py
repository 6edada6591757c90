"""The schema itself refuses to rewrite history or to oversell (migrations/001_catalog.sql)."""

import asyncpg
import pytest

pytestmark = pytest.mark.integration


async def refused(pool: asyncpg.Pool, sql: str, *args: object) -> type[BaseException]:
    """Runs `sql` in its own transaction and returns the type of error PostgreSQL raised."""
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.PostgresError) as error:
            async with conn.transaction():
                await conn.execute(sql, *args)
    return error.type


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE stock_ledger SET delta_on_hand = delta_on_hand + 1 WHERE sku = $1",
        "DELETE FROM stock_ledger WHERE sku = $1",
    ],
    ids=["update", "delete"],
)
async def test_ledger_rows_cannot_be_updated_or_deleted(
    catalog_pool: asyncpg.Pool, seed_product, sql: str
) -> None:
    sku = await seed_product("LEDGER", 5)
    assert await refused(catalog_pool, sql, sku) is asyncpg.RestrictViolationError


async def test_ledger_cannot_be_truncated(catalog_pool: asyncpg.Pool, seed_product) -> None:
    await seed_product("TRUNC", 1)
    error = await refused(catalog_pool, "TRUNCATE stock_ledger CASCADE")
    assert error is asyncpg.RestrictViolationError


async def test_stock_cannot_be_written_except_through_the_ledger(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("DIRECT", 5)
    update = "UPDATE stock_items SET on_hand = 100 WHERE sku = $1"
    assert await refused(catalog_pool, update, sku) is asyncpg.RestrictViolationError
    async with catalog_pool.acquire() as conn:
        assert await conn.fetchval("SELECT on_hand FROM stock_items WHERE sku = $1", sku) == 5


async def test_a_ledger_row_that_would_oversell_is_refused(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("OVER", 2)
    insert = """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason, order_id)
                VALUES ($1, 0, 3, 'RESERVE', 'shopify:order-1')"""
    assert await refused(catalog_pool, insert, sku) is asyncpg.CheckViolationError


async def test_a_ledger_row_that_would_make_stock_negative_is_refused(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("NEG", 2)
    insert = """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason)
                VALUES ($1, -3, 0, 'ADJUST')"""
    assert await refused(catalog_pool, insert, sku) is asyncpg.CheckViolationError


async def test_an_order_movement_needs_its_order_id(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("NOORDER", 2)
    insert = """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason)
                VALUES ($1, 0, 1, 'RESERVE')"""
    assert await refused(catalog_pool, insert, sku) is asyncpg.CheckViolationError


async def test_an_ocop_producer_without_stars_is_refused(catalog_pool: asyncpg.Pool) -> None:
    insert = """INSERT INTO producers (producer_id, name, kind, village, province, country, lat,
                    lon, phone, languages, sms_language, programme, stars, story)
                VALUES ('PRD-XX-001', 'x', 'household', 'v', 'p', 'VN', 21, 105,
                    '+84912000198', '{vi}', 'vi', 'OCOP', NULL, '{"vi": "x", "en": "x"}')"""
    assert await refused(catalog_pool, insert) is asyncpg.CheckViolationError
