"""Catalog fixtures: a fresh PostgreSQL database per test module, with the catalog migrations.

The server comes from the root conftest's `database_server` (environment, Docker or devstack).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from services.catalog.adapters.postgres import upsert_producer, upsert_product
from services.catalog.bootstrap import MIGRATIONS  # noqa: E402
from services.catalog.domain import LocalizedText, Producer, Product, ProductStory
from shared.db.pool import create_pool, ensure_database, migrate
from shared.settings import with_database

TEST_PRODUCER = Producer(
    producer_id="PRD-TS-001",
    name="Test co-operative",
    kind="cooperative",
    village="Test village",
    province="Test province",
    country="VN",
    lat=21.0278,
    lon=105.8342,
    phone="+84912000199",
    languages=("vi",),
    sms_language="vi",
    programme="OCOP",
    stars=3,
    story=LocalizedText(vi="Hợp tác xã thử nghiệm.", en="A test co-operative."),
)


@pytest.fixture(scope="module")
async def catalog_db_url(database_server: str) -> AsyncIterator[str]:
    """A uniquely named database with the shared and the catalog migrations, dropped after."""
    name = f"catalog_test_{uuid.uuid4().hex[:12]}"
    await ensure_database(database_server, name)
    url = with_database(database_server, name)
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn, "catalog", MIGRATIONS)
        finally:
            await conn.close()
        yield url
    finally:
        admin = await asyncpg.connect(database_server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(scope="module")
async def catalog_pool(catalog_db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(catalog_db_url, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
def seed_product(catalog_pool: asyncpg.Pool) -> Callable[..., Awaitable[str]]:
    """Creates a product of the test producer with `on_hand` units; returns its unique SKU."""

    async def seed(prefix: str, on_hand: int) -> str:
        sku = f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
        product = Product(
            sku=sku,
            producer_id=TEST_PRODUCER.producer_id,
            names=LocalizedText(vi=f"Sản phẩm {sku}", en=f"Product {sku}"),
            price=10000,
            currency="VND",
            weight_g=100,
            story=ProductStory(origin="Test", materials=("test",), process=("test",)),
        )
        async with catalog_pool.acquire() as conn, conn.transaction():
            await upsert_producer(conn, TEST_PRODUCER)
            await upsert_product(conn, product, on_hand)
        return sku

    return seed
