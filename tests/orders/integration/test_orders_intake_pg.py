"""The webhook fast path's group commit (services/orders/adapters/intake.py) on a real database:
concurrent new orders share statements, and each still commits with all its rows or fails on
its own."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest

from services.orders import handlers
from services.orders.adapters import postgres as db
from services.orders.adapters.intake import NewOrderWriter
from services.orders.adapters.platforms.registry import Account, read_push
from services.orders.bootstrap import MIGRATIONS
from services.orders.domain.model import CanonicalOrder
from services.orders.simulator import build_shopify_order, shopify_webhook_request
from shared.db.pool import create_pool

pytestmark = pytest.mark.integration

SHOP = Account("shopify", "intake-shop", ["sec"])


class CountingPool:
    """The real pool, counting the connections the writer takes: one per statement."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.acquired = pool, 0

    def acquire(self):
        self.acquired += 1
        return self.pool.acquire()


@pytest.fixture
async def pool(make_database):
    pool = await create_pool(await make_database("orders", MIGRATIONS), max_size=4)
    async with pool.acquire() as conn:
        await db.add_channel_account(conn, SHOP.platform, SHOP.account, "sec")
    yield pool
    await pool.close()


def push(number: int, updated_at: str | None = None) -> tuple[CanonicalOrder, str, bytes]:
    payload = build_shopify_order(
        order_number=number, sku="SHOP-HG-HONEY-500", quantity=1, unit_price_vnd=450000
    )
    if updated_at:
        payload["updated_at"] = updated_at
    body, headers = shopify_webhook_request(payload, "sec", shop_domain=SHOP.account)
    read = read_push(SHOP, json.loads(body), {k.lower(): v for k, v in headers.items()})
    assert read.order is not None
    return read.order, read.delivery_id, body


async def accept(writer, pool, number: int, *, delivery: str | None = None, **kw):
    order, delivery_id, body = push(number, **kw)
    return await handlers.accept_push(
        writer, pool, order, delivery_id=delivery or delivery_id, topic=None, raw_body=body
    )


async def counts(pool: asyncpg.Pool) -> tuple[int, int, int, int]:
    return tuple(
        await pool.fetchrow(
            """SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM webhook_deliveries),
                      (SELECT count(*) FROM order_status_history), (SELECT count(*) FROM outbox)"""
        )
    )


async def test_concurrent_new_orders_share_statements_and_each_gets_all_its_rows(pool):
    counting = CountingPool(pool)
    writer = NewOrderWriter(lambda: counting)
    results = await asyncio.gather(*(accept(writer, pool, n) for n in range(1, 41)))
    assert [r.outcome for r in results] == ["created"] * 40
    assert counting.acquired < 10, counting.acquired  # one statement per request would be 40
    assert await counts(pool) == (40, 40, 40, 40)
    joined = await pool.fetch(
        """SELECT o.order_id, d.delivery_id, h.status, ob.event_type
           FROM orders o JOIN webhook_deliveries d USING (order_id)
           JOIN order_status_history h USING (order_id) JOIN outbox ob ON ob.key = o.order_id"""
    )
    assert {r["order_id"] for r in joined} == {r.order_id for r in results}
    assert {(r["status"], r["event_type"]) for r in joined} == {("PENDING_STOCK", "OrderPlaced")}


async def test_two_deliveries_of_one_new_order_in_one_batch_create_it_once(pool):
    """The second waits for the next statement, finds the order and records only its delivery."""
    writer = NewOrderWriter(lambda: pool)
    first, second = await asyncio.gather(
        accept(writer, pool, 7), accept(writer, pool, 7, delivery="another-delivery")
    )
    assert sorted([first.outcome, second.outcome]) == ["created", "unchanged"]
    assert await counts(pool) == (1, 2, 1, 1)


async def test_a_row_the_database_refuses_fails_its_own_request_only(pool):
    writer = NewOrderWriter(lambda: pool)
    outcomes = await asyncio.gather(
        *(accept(writer, pool, n) for n in range(1, 5)),
        accept(writer, pool, 5, delivery="nul\x00byte"),  # text PostgreSQL cannot store
        return_exceptions=True,
    )
    assert [getattr(o, "outcome", None) for o in outcomes[:4]] == ["created"] * 4
    assert isinstance(outcomes[4], asyncpg.PostgresError), outcomes[4]
    assert await counts(pool) == (4, 4, 4, 4)


async def test_a_request_cancelled_while_it_waits_does_not_cancel_the_others(pool):
    writer = NewOrderWriter(lambda: pool)
    tasks = [asyncio.create_task(accept(writer, pool, n)) for n in range(1, 11)]
    await asyncio.sleep(0)  # all queued, the flush started
    tasks[3].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[3], asyncio.CancelledError)
    assert [d.outcome for i, d in enumerate(done) if i != 3] == ["created"] * 9
    # The cancelled request's order was in the statement already: a platform retry of it is
    # then a known delivery, not a lost order.
    assert await counts(pool) == (10, 10, 10, 10)


async def test_a_stopped_writer_fails_its_waiters_instead_of_leaving_them_hanging(pool):
    writer = NewOrderWriter(lambda: pool)
    tasks = [asyncio.create_task(accept(writer, pool, n)) for n in range(1, 4)]
    await asyncio.sleep(0)
    await writer.close()
    async with asyncio.timeout(5):
        done = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(d, ConnectionError) for d in done), done


async def test_requests_one_after_another_each_start_a_flush_of_their_own(pool):
    """A quiet system: each request finds no statement in flight and is written at once."""
    writer = NewOrderWriter(lambda: pool)
    for n in range(1, 21):
        async with asyncio.timeout(5):
            assert (await accept(writer, pool, n)).outcome == "created"
    assert await counts(pool) == (20, 20, 20, 20)
