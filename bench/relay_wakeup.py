"""Relay wake-up latency: how long a committed outbox row waits for the OutboxRelay when two
transactions commit a few milliseconds apart, against a row committed alone (the baseline).

The relay sleeps until PostgreSQL's NOTIFY (sent on commit) or its 1 s poll. A NOTIFY that lands
while a relay pass is running must not be lost, else the row waits for the poll.

    .venv/bin/python -m shared.devstack exec --fresh --root .devstack/bench -- \
        .venv/bin/python bench/relay_wakeup.py [--pairs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time

import asyncpg
from _common import create_topics, figures, line, unique
from _outbox import fresh_pool, make_events, publish_failures, start_broker

from shared.messaging.broker import relay_publish
from shared.messaging.outbox import OutboxRelay, backlog, enqueue

WAITS = """SELECT extract(epoch FROM sent_at - created_at)::float8 AS s FROM outbox
           WHERE topic = $1 ORDER BY id"""


async def write(pool: asyncpg.Pool, topic: str, after_s: float = 0.0) -> None:
    await asyncio.sleep(after_s)
    [(envelope, event)] = make_events(1)
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, envelope, event, topic=topic)


async def settle(pool: asyncpg.Pool, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    async with pool.acquire() as conn:
        while await backlog(conn) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)


async def main(pairs: int) -> None:
    bootstrap, server = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]
    lone, pair = f"bench.{unique('lone')}.v1", f"bench.{unique('pair')}.v1"
    await create_topics(bootstrap, [lone, pair])
    pool = await fresh_pool(server, max_size=6)
    broker, _ = await start_broker(bootstrap)

    relay = OutboxRelay(pool, relay_publish(broker), service="bench")  # the services' defaults
    await relay.start()
    try:
        await write(pool, lone)  # warm up: connections, metadata
        await settle(pool)
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM outbox")
        for i in range(pairs):  # alternated, so machine noise hits both series alike
            await write(pool, lone)
            await settle(pool)
            # The second commit lands 0-5 ms after the first: while the relay is publishing it.
            await asyncio.gather(write(pool, pair), write(pool, pair, (i % 6) / 1000))
            await settle(pool)
            await asyncio.sleep(0.05)
        async with pool.acquire() as conn:
            alone = [r["s"] for r in await conn.fetch(WAITS, lone)]
            both = [r["s"] for r in await conn.fetch(WAITS, pair)]
    finally:
        await relay.stop()
        await broker.stop()
        await pool.close()
    # Rows of a pair are consecutive ids: a pair is done when its slower row is picked.
    slower = [max(both[k : k + 2]) for k in range(0, len(both), 2)]
    print(line("baseline: one commit -> relay picks the row", alone))
    print(line("two commits 0-5 ms apart -> both picked", slower))
    ratios = [p / a for p, a in zip(figures(slower), figures(alone), strict=True)]
    print("ratio pair/alone: p50 x{:.1f}  p95 x{:.1f}  max x{:.1f}".format(*ratios))
    print(f"pairs where a row waited >= 0.9 s (the poll): {sum(s >= 0.9 for s in slower)}")
    print(f"relay passes that failed and were retried: {publish_failures() or 'none'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20, help="measured pairs (max 60)")
    args = parser.parse_args()
    if not 1 <= args.pairs <= 60:
        sys.exit("--pairs must be 1..60")
    signal.alarm(170)  # a hard bound whatever hangs (SIGALRM's default action ends the process)
    asyncio.run(main(args.pairs))
