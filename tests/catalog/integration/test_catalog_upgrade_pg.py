"""Migrations on a database that already has stock (a `make run` data folder). 002: the stock
keeps its figures, gains its version, and moves as before. 003: listings under a platform's alias
or with untrimmed, decomposed accounts take the platform's name and the stored form of the ids,
and what cannot be converted stops the upgrade by name with nothing changed. 004: a confirmed
reservation gets its pickup time."""

import re
import unicodedata
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
LISTING = """INSERT INTO channel_listings (channel, account, channel_sku, sku)
    VALUES ($1, $2, $3, $4)"""


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
            "catalog/003_identifiers.sql",
            "catalog/004_pickup_and_cancellation_order.sql",
        ]
        # A reservation confirmed before 004 counts as picked up when it was last changed.
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


LISTINGS_BEFORE_003 = [
    ("tiktok_shop", "tt-shop", "TT-HONEY", "UP-OLD-1"),  # the alias the old pattern allowed
    ("tiktok", "tt-shop", "TT-HONEY-2", "UP-OLD-1"),
    ("shopify", " Cửa hàng Mật ong ", "SHOP-HONEY", "UP-OLD-1"),  # NFD, padded
    ("tiktok_shop", "tt-shop", "TT-SAME", "UP-OLD-1"),  # the same listing under both names
    ("tiktok", "tt-shop", "TT-SAME", "UP-OLD-1"),
    ("lazada", "lz-shop", "LZ-HONEY", "UP-OLD-1"),  # already canonical: untouched
]


async def _at_002_with_listings(
    make_database, tmp_path: Path, listings: list[tuple[str, str, str, str]]
) -> tuple[str, asyncpg.Connection]:
    url = await make_database("shared")
    for name in ("001_catalog.sql", "002_inventory.sql"):
        (tmp_path / name).write_text(MIGRATIONS.joinpath(name).read_text())
    conn = await connect(url)
    assert await migrate(conn, "catalog", tmp_path) == [
        "catalog/001_catalog.sql",
        "catalog/002_inventory.sql",
    ]
    async with conn.transaction():
        await conn.execute(PRODUCER)
        await conn.execute(PRODUCT)
        await conn.execute("INSERT INTO stock_items (sku) VALUES ('UP-OLD-1')")
        await conn.execute(
            """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason)
               VALUES ('UP-OLD-1', 7, 0, 'INITIAL')"""
        )
        await conn.execute("DELETE FROM stock_dirty")  # its StockLevelChanged went out
        await conn.executemany(
            LISTING,
            [(c, unicodedata.normalize("NFD", a), cs, s) for c, a, cs, s in listings],
        )
    return url, conn


async def test_upgrading_renames_platform_aliases_normalises_accounts_and_keeps_every_listing(
    make_database, tmp_path: Path
) -> None:
    _, conn = await _at_002_with_listings(make_database, tmp_path, LISTINGS_BEFORE_003)
    try:
        assert await migrate(conn, "catalog", MIGRATIONS) == [
            "catalog/003_identifiers.sql",
            "catalog/004_pickup_and_cancellation_order.sql",
        ]

        rows = await conn.fetch(
            "SELECT channel, account, channel_sku, sku FROM channel_listings ORDER BY 1, 2, 3"
        )
        assert [tuple(r) for r in rows] == [
            ("lazada", "lz-shop", "LZ-HONEY", "UP-OLD-1"),
            ("shopify", "Cửa hàng Mật ong", "SHOP-HONEY", "UP-OLD-1"),
            ("tiktok-shop", "tt-shop", "TT-HONEY", "UP-OLD-1"),
            ("tiktok-shop", "tt-shop", "TT-HONEY-2", "UP-OLD-1"),
            ("tiktok-shop", "tt-shop", "TT-SAME", "UP-OLD-1"),
        ]
        # The stock and its ledger are as they were; the SKU is owed a StockLevelChanged that
        # names its listings as they are now.
        row = await conn.fetchrow("SELECT on_hand, version FROM stock_items")
        assert (row["on_hand"], row["version"]) == (7, 1)
        assert await conn.fetchval("SELECT sku FROM stock_dirty") == "UP-OLD-1"

        async with conn.transaction():  # operators' own ids now fit, aliases no longer do
            await conn.execute(PRODUCER.replace("PRD-UP-001", "htx-mật-ong"))
            await conn.execute(
                PRODUCT.replace("PRD-UP-001", "htx-mật-ong").replace("UP-OLD-1", "hg.honey_500")
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                """INSERT INTO channel_listings VALUES ('tiktok_shop', 'x', 'y', 'hg.honey_500')"""
            )
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(
                """INSERT INTO channel_listings VALUES ('tiktok-shop', ' x', 'y', 'hg.honey_500')"""
            )
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("listings", "named"),
    [
        ([("zalo", "z-shop", "Z-1", "UP-OLD-1")], "not convertible: ('zalo', 'z-shop', 'Z-1')"),
        (
            [("tiktok", "tt", "TT-1", "UP-OLD-1"), ("tiktok_shop", "tt", "TT-1", "UP-OTHER-1")],
            "map different SKUs: ('tiktok-shop', 'tt', 'TT-1')",
        ),
    ],
)
async def test_listings_the_upgrade_cannot_convert_stop_it_by_name_and_nothing_changes(
    make_database, tmp_path: Path, listings, named: str
) -> None:
    _, conn = await _at_002_with_listings(make_database, tmp_path, [])
    try:
        await conn.execute(PRODUCT.replace("UP-OLD-1", "UP-OTHER-1"))
        await conn.executemany(
            LISTING,
            listings,
        )
        before = await conn.fetch("SELECT * FROM channel_listings ORDER BY 1, 2, 3")
        with pytest.raises(asyncpg.RaiseError, match=re.escape(named)):
            await migrate(conn, "catalog", MIGRATIONS)
        assert await conn.fetch("SELECT * FROM channel_listings ORDER BY 1, 2, 3") == before
        assert not await conn.fetchval(
            "SELECT count(*) FROM schema_migrations WHERE name = 'catalog/003_identifiers.sql'"
        )
    finally:
        await conn.close()
