"""The catalog's bus and unit of work on a real PostgreSQL: raised events are outbox rows only
once committed, a failure leaves neither the change nor its event, a batch commits once with each
message claimed in the inbox, and a unit of work inside the consumer's transaction must commit."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from services.catalog import bootstrap
from services.catalog.adapters.postgres import stock_level
from services.catalog.adapters.uow import PostgresCatalogUnitOfWork
from services.catalog.commands import ReserveStock
from services.catalog.domain import StockLevel
from shared.contracts.envelope import Envelope
from shared.contracts.events import OrderLine, OrderPlaced
from shared.messaging.bus import Delivery

pytestmark = pytest.mark.integration


def placed(order_id: str, sku: str, quantity: int = 1) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        channel="manual",
        account="phone",
        external_id=order_id,
        order_ref=order_id,
        currency="VND",
        total=1,
        lines=[OrderLine(sku=sku, name=sku, quantity=quantity, unit_price=1)],
        placed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


async def rows(pool: asyncpg.Pool, order_id: str) -> list[tuple[str, str, str | None]]:
    async with pool.acquire() as conn:
        found = await conn.fetch(
            """SELECT event_type, headers->>'correlation_id' AS correlation, body FROM outbox
               WHERE key = $1 ORDER BY id""",
            order_id,
        )
    return [
        (r["event_type"], r["correlation"], Envelope.model_validate_json(r["body"]).causation_id)
        for r in found
    ]


async def test_a_reservation_and_its_event_commit_together_or_not_at_all(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("UOW", 5)
    bus = bootstrap.message_bus(lambda: catalog_pool)

    with pytest.raises(RuntimeError, match="after the handler"):
        async with bus.uow() as uow:
            await bus.handle(ReserveStock(placed("uow:1", sku, 2)), uow)
            raise RuntimeError("after the handler, before the commit")
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, sku) == StockLevel(on_hand=5, reserved=0)
    assert await rows(catalog_pool, "uow:1") == []

    await bus.handle(ReserveStock(placed("uow:1", sku, 2)))
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, sku) == StockLevel(on_hand=5, reserved=2)
    assert await rows(catalog_pool, "uow:1") == [("StockReserved", "uow:1", None)]


async def test_a_batch_commits_once_and_skips_what_the_inbox_already_holds(
    catalog_pool: asyncpg.Pool, seed_product
) -> None:
    sku = await seed_product("BATCH", 5)
    bus = bootstrap.message_bus(lambda: catalog_pool)
    one, two = placed("uow:b1", sku), placed("uow:b2", sku)
    first, second = (
        Delivery(e.topic, Envelope.wrap(e, producer="orders", correlation_id=f"j-{n}"), e)
        for n, e in enumerate((one, two))
    )
    batch = [
        Delivery(d.topic, d.envelope, ReserveStock.of(d.envelope, d.message))
        for d in (first, second, first)
    ]

    assert await bus.handle_batch("catalog", batch) == [True, True, False]
    assert await bus.handle_batch("catalog", batch[1:2]) == [False]

    assert await rows(catalog_pool, "uow:b1") == [
        ("StockReserved", "j-0", str(first.envelope.event_id))
    ]
    assert await rows(catalog_pool, "uow:b2") == [
        ("StockReserved", "j-1", str(second.envelope.event_id))
    ]
    async with catalog_pool.acquire() as conn:
        assert await stock_level(conn, sku) == StockLevel(on_hand=5, reserved=2)


async def test_a_unit_of_work_joined_to_its_owners_transaction_refuses_to_end_uncommitted(
    catalog_pool: asyncpg.Pool,
) -> None:
    async with catalog_pool.acquire() as conn, conn.transaction():
        with pytest.raises(RuntimeError, match="without a commit"):
            async with PostgresCatalogUnitOfWork(conn, joined=True):
                pass
