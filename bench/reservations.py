"""Reservations per second: the catalog's all-or-nothing reservation (advisory lock on the order,
row lock on the stock, ledger row, trigger, dirty mark, reservation row: one transaction each)
under contention on one SKU and spread over 1,000 SKUs, against a single-row UPDATE loop on
the same database in the same run.

    .venv/bin/python -m shared.devstack exec --fresh --root .devstack/bench -- \
        .venv/bin/python bench/reservations.py [--seconds 4] [--workers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable

import asyncpg
from _common import unique

from services.catalog.adapters.postgres import reserve_for_order, upsert_producer, upsert_product
from services.catalog.bootstrap import MIGRATIONS, message_bus
from services.catalog.commands import PublishStockChanges
from services.catalog.domain import LocalizedText, Producer, Product, Reserved
from shared.db.pool import create_pool, ensure_database, migrate
from shared.settings import with_database

PRODUCER = Producer(
    producer_id="PRD-BE-001",
    name="Bench co-operative",
    kind="cooperative",
    village="Bench",
    province="Hà Nội",
    country="VN",
    lat=21.0278,
    lon=105.8342,
    phone="+84912000199",
    languages=("vi",),
    sms_language="vi",
)
SPREAD = 1000
STOCK = 10_000_000

Op = Callable[[asyncpg.Connection, int], Awaitable[None]]


def product(sku: str) -> Product:
    return Product(
        sku=sku,
        producer_id=PRODUCER.producer_id,
        names=LocalizedText(vi=sku, en=sku),
        price=1000,
        currency="VND",
        weight_g=100,
    )


async def seed(pool: asyncpg.Pool) -> list[str]:
    skus = [f"BE-SKU-{n:04d}" for n in range(SPREAD)]
    async with pool.acquire() as conn, conn.transaction():
        await upsert_producer(conn, PRODUCER)
        for sku in ["BE-HOT-1", *skus]:
            await upsert_product(conn, product(sku), STOCK)
        await conn.execute("CREATE TABLE bench_counter (id int PRIMARY KEY, n bigint NOT NULL)")
        await conn.execute("INSERT INTO bench_counter VALUES (1, 0)")
    return skus


async def run(pool: asyncpg.Pool, workers: int, seconds: float, op: Op) -> tuple[int, float]:
    """Runs `op` in a loop on `workers` connections for `seconds`; returns (ops, elapsed)."""
    deadline = time.perf_counter() + seconds
    counts = [0] * workers

    async def worker(k: int) -> None:
        async with pool.acquire() as conn:
            n = 0
            while time.perf_counter() < deadline:
                await op(conn, k * 10_000_000 + n)
                n += 1
            counts[k] = n

    started = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(workers)))
    return sum(counts), time.perf_counter() - started


async def update_row(conn: asyncpg.Connection, _: int) -> None:
    await conn.execute("UPDATE bench_counter SET n = n + 1 WHERE id = 1")  # autocommit


def reserve(pick: Callable[[], str], tag: str) -> Op:
    async def op(conn: asyncpg.Connection, n: int) -> None:
        async with conn.transaction():
            decision = await reserve_for_order(conn, f"bench:{tag}:{n}", [(pick(), 1)])
        assert isinstance(decision, Reserved), decision

    return op


async def drain_all(pool: asyncpg.Pool) -> int:
    events = 0
    bus = message_bus(lambda: pool)
    while True:
        batch = await bus.handle(PublishStockChanges(limit=500, low_stock_threshold=0))
        if not batch:
            return events
        events += len(batch)


async def with_drainer(pool: asyncpg.Pool, work: Awaitable[tuple[int, float]], every_s: float):
    """Runs the stock-event job beside `work` as the service does; returns (work, events)."""
    stop = asyncio.Event()
    events = 0

    async def job() -> None:
        nonlocal events
        while not stop.is_set():
            events += await drain_all(pool)
            await asyncio.sleep(every_s)

    task = asyncio.create_task(job())
    try:
        result = await work
    finally:
        stop.set()
        await task
    return result, events + await drain_all(pool)


async def main(seconds: float, workers: int) -> None:
    server = os.environ["DATABASE_URL"]
    name = unique("bench_catalog")
    await ensure_database(server, name)
    url = with_database(server, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn, "catalog", MIGRATIONS)
    finally:
        await conn.close()
    pool = await create_pool(url, max_size=workers + 2)
    try:
        skus = await seed(pool)
        await drain_all(pool)
        rng = random.Random(7)
        rows: list[tuple[str, int, float, int | None]] = []

        ops, took = await run(pool, 1, seconds, update_row)
        rows.append(("baseline: single-row UPDATE loop, 1 connection", ops, took, None))
        ops, took = await run(pool, workers, seconds, update_row)
        rows.append((f"single-row UPDATE loop, {workers} connections", ops, took, None))
        ops, took = await run(pool, 1, seconds, reserve(lambda: "BE-HOT-1", "hot1"))
        rows.append(("reserve, one SKU, 1 connection", ops, took, None))
        (ops, took), events = await with_drainer(
            pool, run(pool, workers, seconds, reserve(lambda: "BE-HOT-1", "hot")), 1.0
        )
        rows.append((f"reserve, one SKU (contended), {workers} connections", ops, took, events))
        (ops, took), events = await with_drainer(
            pool, run(pool, workers, seconds, reserve(lambda: rng.choice(skus), "spread")), 1.0
        )
        label = f"reserve, spread over {SPREAD} SKUs, {workers} connections"
        rows.append((label, ops, took, events))

        base = rows[0][1] / rows[0][2]
        print(f"reservations vs a single-row UPDATE loop ({seconds:.0f} s each, same database)")
        for label, ops, took, events in rows:
            rate = ops / took
            extra = f"  stock events {events} ({ops / max(events or 1, 1):.1f} changes/event)"
            print(
                f"{label:<52} {rate:8.0f}/s  ratio {rate / base:5.2f}"
                + (extra if events is not None else "")
            )
        async with pool.acquire() as conn:
            bad = await conn.fetchval(
                """SELECT count(*) FROM stock_items s
                   JOIN (SELECT sku, sum(delta_on_hand) AS oh, sum(delta_reserved) AS r
                           FROM stock_ledger GROUP BY sku) l USING (sku)
                   WHERE s.on_hand <> l.oh OR s.reserved <> l.r OR s.available < 0"""
            )
        print(f"ledger check after the run: {'ok' if bad == 0 else f'{bad} SKUs disagree'}")
    finally:
        await pool.close()
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("DATABASE_URL is not set: run it through `python -m shared.devstack exec`")
    signal.alarm(170)  # a hard bound whatever hangs (SIGALRM's default action ends the process)
    asyncio.run(main(args.seconds, args.workers))
