"""Migrations 002 and 003 on a database that already has stock (a `make run` data folder): the
stock keeps its figures, gains its version, and moves as before; a confirmed reservation gets
its pickup time."""

from pathlib import Path

import asyncpg
import pytest

from services.catalog.adapters.postgres import reserve_for_order
from services.catalog.bootstrap import MIGRATIONS
from shared.db.pool import connect, migrate

pytestmark = pytest.mark.integration

PRODUCER = """INSERT INTO producers (producer_id, name, kind, village, province, country, lat, lon,
    phone, languages, sms_language, programme, stars, story)
    VALUES ('PRD-UP-001', 'Old co-op', 'cooperative', 'V', 'P', 'VN', 21.0, 105.8, '+84912000190',
            '{vi}', 'vi', 'OCOP', 3, '{"vi": "x", "en": "x"}')"""
PRODUCT = """INSERT INTO products (sku, producer_id, names, price, currency, weight_g, story)
    VALUES ('UP-OLD-1', 'PRD-UP-001', '{"vi": "x", "en": "x"}', 1, 'VND', 10,
            '{"origin": "x", "materials": ["x"], "process": ["x"]}')"""


async def test_upgrading_a_database_with_stock_keeps_it_and_counts_its_version(
    make_database, tmp_path: Path
) -> None:
    url = await make_database("shared")
    (tmp_path / "001_catalog.sql").write_text(MIGRATIONS.joinpath("001_catalog.sql").read_text())
    conn = await connect(url)
    try:
        assert await migrate(conn, "catalog", tmp_path) == ["catalog/001_catalog.sql"]
        async with conn.transaction():
            await conn.execute(PRODUCER)
            await conn.execute(PRODUCT)
            await conn.execute("INSERT INTO stock_items (sku) VALUES ('UP-OLD-1')")
            await conn.execute(
                """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason, order_id)
                   VALUES ('UP-OLD-1', 7, 0, 'INITIAL', NULL),
                          ('UP-OLD-1', 0, 2, 'RESERVE', 'o:1')"""
            )
            await conn.execute(
                """INSERT INTO reservations (order_id, sku, quantity, status)
                   VALUES ('o:0', 'UP-OLD-1', 1, 'CONFIRMED')"""
            )

        assert await migrate(conn, "catalog", MIGRATIONS) == [
            "catalog/002_inventory.sql",
            "catalog/003_pickup_and_cancellation_order.sql",
        ]
        # A reservation confirmed before 003 counts as picked up when it was last changed.
        assert await conn.fetchval(
            "SELECT picked_up_at IS NOT NULL FROM reservations WHERE order_id = 'o:0'"
        )

        row = await conn.fetchrow("SELECT * FROM stock_items WHERE sku = 'UP-OLD-1'")
        assert (row["on_hand"], row["reserved"], row["available"], row["version"]) == (7, 2, 5, 2)
        async with conn.transaction():
            await reserve_for_order(conn, "o:2", [("UP-OLD-1", 5)])
        assert await conn.fetchval("SELECT version FROM stock_items WHERE sku = 'UP-OLD-1'") == 3
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute("UPDATE stock_items SET on_hand = 100")
    finally:
        await conn.close()
