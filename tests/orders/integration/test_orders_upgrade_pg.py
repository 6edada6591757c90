"""Migration 006 on an orders database that holds stock figures for listings the catalog stored
under a platform's alias (`tiktok_shop`): they take the platform's name and are pushed again."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from services.orders.bootstrap import MIGRATIONS
from shared.db.pool import connect, migrate

pytestmark = pytest.mark.integration

FIGURE = """INSERT INTO listing_stock (channel, account, channel_sku, sku, available, version,
                                      pushed_version, last_error)
            VALUES ($1, $2, $3, 'HG-HONEY-500', $4, $5, $6, $7)"""
BEFORE = [
    # never pushed: there is no "tiktok_shop" account, so the push job gave up on it
    ("tiktok_shop", "tt-shop", "TT-HONEY", 4, 7, 7, "no tiktok_shop account 'tt-shop'"),
    # the same listing under its name, with an older figure
    ("tiktok-shop", "tt-shop", "TT-HONEY", 9, 5, 5, None),
    ("tiktok", "tt-shop", "TT-SAUCE", 2, 3, 3, "no tiktok account 'tt-shop'"),
    ("shopee", unicodedata.normalize("NFD", " Cửa hàng Mật ong "), "SP-1", 6, 2, 2, None),
    ("shopify", "demo-shop", "SHOP-1", 8, 4, 4, None),  # as it should be: left alone
]


async def test_upgrading_gives_aliased_figures_the_platforms_name_and_pushes_them_again(
    make_database, tmp_path: Path
) -> None:
    url = await make_database("shared")
    earlier = sorted(p.name for p in MIGRATIONS.iterdir() if p.name.endswith(".sql"))[:5]
    for name in earlier:
        (tmp_path / name).write_text(MIGRATIONS.joinpath(name).read_text())
    conn = await connect(url)
    try:
        assert len(await migrate(conn, "orders", tmp_path)) == len(earlier)
        await conn.executemany(FIGURE, BEFORE)

        assert "orders/006_platform_names.sql" in await migrate(conn, "orders", MIGRATIONS)

        rows = await conn.fetch(
            """SELECT channel, account, channel_sku, available, version, pushed_version,
                      last_error
                 FROM listing_stock ORDER BY channel, account, channel_sku"""
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("shopee", "Cửa hàng Mật ong", "SP-1", 6, 2, None, None),
        ("shopify", "demo-shop", "SHOP-1", 8, 4, 4, None),
        ("tiktok-shop", "tt-shop", "TT-HONEY", 4, 7, None, None),  # the newer figure, due
        ("tiktok-shop", "tt-shop", "TT-SAUCE", 2, 3, None, None),
    ]
