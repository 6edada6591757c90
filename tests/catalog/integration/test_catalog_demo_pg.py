"""Loading the demo dataset and looking producers and channel SKUs up."""

import json
from importlib import resources

import asyncpg
import pytest

from services.catalog.adapters.postgres import (
    get_producers_for_skus,
    get_products,
    load_demo,
    map_channel_skus,
    reserve_for_order,
    stock_level,
)
from services.catalog.domain import Producer, Product, StockLevel

pytestmark = pytest.mark.integration


def demo(name: str) -> list[dict]:
    files = resources.files("services.catalog.demo")
    return json.loads(files.joinpath(f"{name}.json").read_text("utf-8"))


@pytest.fixture(scope="module")
async def loaded(catalog_pool: asyncpg.Pool) -> dict[str, int]:
    async with catalog_pool.acquire() as conn, conn.transaction():
        return await load_demo(conn)


async def test_demo_loads_every_producer_product_and_listing_with_its_stock(
    catalog_pool: asyncpg.Pool, loaded: dict[str, int]
) -> None:
    assert loaded == {name: len(demo(name)) for name in ("producers", "products", "listings")}
    assert loaded["producers"] >= 30
    async with catalog_pool.acquire() as conn:
        for row in demo("products"):
            assert await stock_level(conn, row["sku"]) == StockLevel(
                on_hand=row["stock"], reserved=0
            )


async def test_reloading_the_demo_keeps_stock_and_books_no_new_initial_stock(
    catalog_pool: asyncpg.Pool, loaded: dict[str, int]
) -> None:
    async with catalog_pool.acquire() as conn, conn.transaction():
        await reserve_for_order(conn, "shopify:demo-shop:2001", [("HG-HONEY-500", 2)])
    async with catalog_pool.acquire() as conn, conn.transaction():
        assert await load_demo(conn) == loaded
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, "HG-HONEY-500") == StockLevel(on_hand=40, reserved=2)
        initial = await conn.fetchval(
            "SELECT count(*) FROM stock_ledger WHERE reason = 'INITIAL' AND sku = 'HG-HONEY-500'"
        )
    assert initial == 1


async def test_producers_for_skus_round_trip_the_demo_producers(
    catalog_pool: asyncpg.Pool, loaded: dict[str, int]
) -> None:
    expected = {row["producer_id"]: Producer.model_validate(row) for row in demo("producers")}
    async with catalog_pool.acquire() as conn:
        found = await get_producers_for_skus(
            conn, ["HG-HONEY-500", "PQ-FISHSAUCE-500", "XX-UNKNOWN-1"]
        )
    assert found == {
        "HG-HONEY-500": expected["PRD-HG-001"],
        "PQ-FISHSAUCE-500": expected["PRD-PQ-001"],
    }


async def test_channel_skus_map_only_within_their_channel_and_account(
    catalog_pool: asyncpg.Pool, loaded: dict[str, int]
) -> None:
    asked = ["SHOP-HG-HONEY-500", "SHOP-PQ-FISHSAUCE-500", "SHOP-NOT-LISTED"]
    async with catalog_pool.acquire() as conn:
        mapped = await map_channel_skus(conn, "shopify", "demo-shop", asked)
        other_account = await map_channel_skus(conn, "shopify", "other-shop", asked)
    assert mapped == {
        "SHOP-HG-HONEY-500": "HG-HONEY-500",
        "SHOP-PQ-FISHSAUCE-500": "PQ-FISHSAUCE-500",
    }
    assert other_account == {}


async def test_products_round_trip_with_their_extra_languages(
    catalog_pool: asyncpg.Pool, loaded: dict[str, int]
) -> None:
    rows = {r["sku"]: r for r in demo("products")}
    async with catalog_pool.acquire() as conn:
        found = await get_products(conn, ["OI-KABOSU-300", "CM-UMBRELLA-20", "XX-UNKNOWN-1"])
    assert found == {
        sku: Product.model_validate({k: v for k, v in rows[sku].items() if k != "stock"})
        for sku in ("OI-KABOSU-300", "CM-UMBRELLA-20")
    }
    assert found["CM-UMBRELLA-20"].names.model_extra == {"th": "ร่มกระดาษสาบ่อสร้าง 20 นิ้ว"}
