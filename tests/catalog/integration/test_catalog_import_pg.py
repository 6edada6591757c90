"""`ovop catalog import` on a real PostgreSQL: every row validated first, precise row errors,
nothing imported unless every row is valid (or --partial), a progress bar on large files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner, Result

from services.cli import main

pytestmark = pytest.mark.integration

PRODUCERS = (
    "producer_id,name,phone,province,village,lat,lon,kind,programme,stars,story_vi,story_en\n"
    "PRD-IM-001,HTX Chè Shan tuyết Suối Giàng,0912 000 160,Lào Cai,Suối Giàng,21.6258,104.4986,"
    "cooperative,OCOP,4,Chè cổ thụ.,Ancient tea trees.\n"
    "PRD-IM-002,Hộ làm nước mắm Cửa Khe,+84912000161,Đà Nẵng,Cửa Khe,15.9650,108.2560,,,,,\n"
)
PRODUCTS = """sku,producer_id,name,price,currency,weight_g,stock,name_en,perishable
IM-TEA-100,PRD-IM-001,Chè Shan tuyết 100 g,250000,VND,150,30,Shan tuyet tea 100 g,no
IM-SAUCE-500,PRD-IM-002,Nước mắm Cửa Khe 500 ml,120000,VND,800,12,,
"""
LISTINGS = """channel,account,channel_sku,sku
shopee,vn-shop,SP-TEA-1,IM-TEA-100
lazada,vn-shop,LZ-SAUCE,IM-SAUCE-500
"""


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


async def ovop(url: str, *args: str) -> Result:
    runner = CliRunner()
    env = {"CATALOG_DATABASE_URL": url}
    return await asyncio.to_thread(
        runner.invoke, main, ["catalog", "import", *args], env=env, catch_exceptions=False
    )


async def counts(pool: asyncpg.Pool) -> tuple[int, ...]:
    async with pool.acquire() as conn:
        return tuple(
            [
                await conn.fetchval(f"SELECT count(*) FROM {t}")
                for t in ("producers", "products", "channel_listings", "stock_ledger")
            ]
        )


async def test_valid_files_are_imported_with_phones_in_e164_and_stock_booked(
    catalog_db_url: str, catalog_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    result = await ovop(
        catalog_db_url,
        "--producers", str(write(tmp_path, "producers.csv", PRODUCERS)),
        "--products", str(write(tmp_path, "products.csv", PRODUCTS)),
        "--listings", str(write(tmp_path, "listings.csv", LISTINGS)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported 2 producers, 2 products, 2 listings" in result.stdout
    async with catalog_pool.acquire() as conn:
        phones = await conn.fetch("SELECT phone FROM producers WHERE producer_id LIKE 'PRD-IM-%'")
        on_hand = await conn.fetchval("SELECT on_hand FROM stock_items WHERE sku = 'IM-TEA-100'")
        names = await conn.fetchval("SELECT names FROM products WHERE sku = 'IM-TEA-100'")
    assert sorted(r["phone"] for r in phones) == ["+84912000160", "+84912000161"]
    assert on_hand == 30 and names == {"vi": "Chè Shan tuyết 100 g", "en": "Shan tuyet tea 100 g"}

    again = await ovop(catalog_db_url, "--products", str(tmp_path / "products.csv"))
    assert again.exit_code == 1
    assert "products.csv:2: sku: IM-TEA-100 already exists" in again.stderr


BAD_PRODUCERS = """producer_id,name,phone,province,village,lat,lon
PRD-BD-001,Good one,0912000170,Hà Giang,Lũng Cú,23.3639,105.3160
PRD-BD-002,Bad latitude,0912000171,Hà Giang,Nowhere,95.0,105.3
PRD-BD-003,Bad phone,12-34,Hà Giang,Lũng Cú,23.3639,105.3160
"""
BAD_PRODUCTS = """sku,producer_id,name,price,currency,weight_g,stock
BD-HONEY-1,PRD-BD-001,Honey,100000,VND,500,5
BD-HONEY-1,PRD-BD-001,Honey again,100000,VND,500,5
BD-NEG-1,PRD-BD-001,Negative stock,100000,VND,500,-3
BD-PRICE-1,PRD-BD-001,Negative price,-1,VND,500,3
BD-ORPHAN-1,PRD-BD-404,Orphan,1000,VND,500,3
"""
EXPECTED = [
    "producers.csv:3: lat:",
    "producers.csv:4: phone:",
    "products.csv:3: sku: duplicate of line 2",
    "products.csv:4: stock: must be >= 0",
    "products.csv:5: price: must be >= 0",
    "products.csv:6: producer_id: unknown producer PRD-BD-404",
]


async def test_bad_rows_are_each_reported_by_line_and_field_and_nothing_is_imported(
    catalog_db_url: str, catalog_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    before = await counts(catalog_pool)
    result = await ovop(
        catalog_db_url,
        "--producers", str(write(tmp_path, "producers.csv", BAD_PRODUCERS)),
        "--products", str(write(tmp_path, "products.csv", BAD_PRODUCTS)),
    )  # fmt: skip
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    for expected in EXPECTED:
        assert any(line.startswith(expected) for line in lines), (expected, lines)
    assert "6 error(s): nothing imported" in result.stderr
    assert await counts(catalog_pool) == before


async def test_partial_imports_the_valid_rows_and_reports_the_rest(
    catalog_db_url: str, catalog_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    producers = BAD_PRODUCERS.replace("PRD-BD-", "PRD-PA-")
    products = BAD_PRODUCTS.replace("PRD-BD-", "PRD-PA-").replace("BD-", "PA-")
    result = await ovop(
        catalog_db_url,
        "--producers", str(write(tmp_path, "producers.csv", producers)),
        "--products", str(write(tmp_path, "products.csv", products)),
        "--partial",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported 1 producers, 1 products, 0 listings; 6 row error(s) skipped" in result.stdout
    async with catalog_pool.acquire() as conn:
        skus = await conn.fetch("SELECT sku FROM products WHERE producer_id LIKE 'PRD-PA-%'")
    assert [r["sku"] for r in skus] == ["PA-HONEY-1"]


async def test_a_missing_column_is_reported_before_any_row(
    catalog_db_url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "listings.csv", "channel,account,sku\nshopee,x,IM-TEA-100\n")
    result = await ovop(catalog_db_url, "--listings", str(path))
    assert result.exit_code == 1
    assert "listings.csv:1: channel_sku: missing column(s)" in result.stderr


async def test_a_large_file_shows_a_progress_bar(
    catalog_db_url: str, catalog_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    rows = [f"LG-ITEM-{n},PRD-IM-001,Item {n},1000,VND,100,1" for n in range(600)]
    path = write(
        tmp_path, "products.csv", "sku,producer_id,name,price,currency,weight_g,stock\n"
        + "\n".join(rows) + "\n",
    )  # fmt: skip
    result = await ovop(catalog_db_url, "--products", str(path))
    assert result.exit_code == 0, result.output
    assert "checking products.csv" in result.stderr and "importing products" in result.stderr
    async with catalog_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM products WHERE sku LIKE 'LG-%'") == 600
