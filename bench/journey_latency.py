"""Order journey latency: signed Shopify webhook POST -> producer SMS recorded, through the four
services as processes, against a bare aiokafka pipeline with as many topic hops, same broker.

    .venv/bin/python -m shared.devstack exec --fresh --root .devstack/bench -- \
        .venv/bin/python bench/journey_latency.py [--orders 30] [--gap 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from _common import Pipeline, figures, line

from services.orders.simulator import build_shopify_order, shopify_webhook_request
from services.platform.isolated import isolated_env
from services.platform.run import start_services, stop_services, wait_ready
from services.platform.serve import SERVICE_NAMES
from services.platform.setup import DEMO_SHOP
from services.platform.simulator import demo_items
from shared.db.pool import connect

RUNNING: dict[str, subprocess.Popen] = {}  # for the watchdog: never leave services behind

# Who publishes what to whom: the three topic hops of the journey, each with its outbox.
CHAIN = (
    ("orders", "OrderPlaced", "catalog"),
    ("catalog", "StockReserved", "logistics"),
    ("logistics", "PickupScheduled", "notifications"),
)


async def one_order(
    client: httpx.AsyncClient, sms_db: asyncpg.Connection, url: str, secret: str, n: int, item
) -> tuple[str, float, float, float]:
    """(order_id, POST wall time, POST round trip s, POST -> sms_messages.created_at s)."""
    payload = build_shopify_order(
        order_number=n, sku=item.channel_sku, quantity=1, unit_price_vnd=item.price_vnd
    )
    body, headers = shopify_webhook_request(payload, secret)
    posted = time.time()
    resp = await client.post(url, content=body, headers=headers)
    round_trip = time.time() - posted
    resp.raise_for_status()
    order_id = resp.json()["order_id"]
    deadline = time.monotonic() + 30
    sql = (
        "SELECT min(created_at) FROM sms_messages"
        " WHERE order_id = $1 AND message_type = 'producer.new_order'"
    )
    while (created := await sms_db.fetchval(sql, order_id)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no SMS for {order_id} ({item.channel_sku}) after 30s")
        await asyncio.sleep(0.02)  # only decides when to look: created_at gives the time
    return order_id, posted, round_trip, created.timestamp() - posted


async def stages(env: dict[str, str], posted: dict[str, float]) -> dict[str, list[float]]:
    """Where the time goes, from each database's own timestamps: outbox.created_at and
    processed_at are transaction starts (the writer's, the consumer's); sent_at is when the relay
    had the broker's acknowledgement (clock_timestamp). So `sent_at - created_at` holds the
    handler, the commit, the relay's wake-up and the acks=all publish."""
    out: dict[str, dict[str, asyncpg.Record]] = {}
    seen: dict[str, dict[object, datetime]] = {}
    for name in SERVICE_NAMES:
        conn = await connect(env[f"{name.upper()}_DATABASE_URL"])
        try:
            rows = await conn.fetch(
                """SELECT event_id, event_type, headers->>'correlation_id' AS cid, created_at,
                          sent_at FROM outbox WHERE headers->>'correlation_id' = ANY($1::text[])""",
                list(posted),
            )
            out[name] = {f"{r['cid']}/{r['event_type']}": r for r in rows}
            inbox = await conn.fetch("SELECT event_id, processed_at FROM processed_messages")
            seen[name] = {r["event_id"]: r["processed_at"] for r in inbox}
        finally:
            await conn.close()
    result: dict[str, list[float]] = {"orders: POST -> webhook transaction": []}
    for order_id, at in posted.items():
        placed = out["orders"][f"{order_id}/OrderPlaced"]
        result["orders: POST -> webhook transaction"].append(placed["created_at"].timestamp() - at)
        for svc, event_type, nxt in CHAIN:
            row = out[svc][f"{order_id}/{event_type}"]
            relay = f"{svc}: transaction -> relay has the ack"
            hop = f"{svc} -> {nxt}: ack -> consumer txn"
            waited = row["sent_at"] - row["created_at"]
            gap = seen[nxt][row["event_id"]] - row["sent_at"]
            result.setdefault(relay, []).append(waited.total_seconds())
            result.setdefault(hop, []).append(gap.total_seconds())
    return result


async def main(orders: int, gap: float, warmup: int) -> None:
    bootstrap, server = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]
    env, secret = await isolated_env(bootstrap, server, prefix="bench")
    logs = Path(tempfile.mkdtemp(prefix="bench-journey-"))
    started = time.monotonic()
    procs = start_services(env, logs)
    RUNNING.update(procs)
    pipeline = Pipeline(bootstrap, hops=len(CHAIN))
    try:
        await wait_ready(env, procs)
        ready_s = time.monotonic() - started
        await pipeline.start()
        items = demo_items(DEMO_SHOP)  # VND listings; quantity 1 spreads ~N/9 units over each
        url = f"http://127.0.0.1:{env['ORDERS_HTTP_PORT']}/webhooks/shopify/{DEMO_SHOP}"
        first = int(time.time()) % 1_000_000 * 10  # order numbers new on every run
        journey: list[float] = []
        trips: list[float] = []
        base: list[float] = []
        posted: dict[str, float] = {}
        sms_db = await connect(env["NOTIFICATIONS_DATABASE_URL"])
        async with httpx.AsyncClient(timeout=10) as client:
            for i in range(warmup + orders):
                # Interleaved, one at a time, so drifting machine noise hits both series alike.
                item = items[i % len(items)]
                oid, at, trip, took = await one_order(client, sms_db, url, secret, first + i, item)
                b = await pipeline.one()
                if i >= warmup:  # the first ones pay for connections and group joins
                    journey.append(took)
                    trips.append(trip)
                    base.append(b)
                    posted[oid] = at
                await asyncio.sleep(gap)
        await sms_db.close()
        breakdown = await stages(env, posted)
    finally:
        await pipeline.stop()
        stop_services(procs)
    print(f"services ready in {ready_s:.1f}s (processes started -> all four /health/ready)")
    print(line("journey: POST -> sms_messages.created_at", journey))
    print(line(f"baseline: bare aiokafka, {len(CHAIN)} topic hops", base))
    ratios = [j / b for j, b in zip(figures(journey), figures(base), strict=True)]
    print("ratio journey/baseline: p50 x{:.1f}  p95 x{:.1f}  max x{:.1f}".format(*ratios))
    print(line("  of which POST round trip (HTTP + txn)", trips))
    print("journey stages (from database timestamps):")
    for label, values in breakdown.items():
        print(line(f"  {label}", values))
    print(f"service logs: {logs}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30, help="measured orders (max 200)")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between orders")
    parser.add_argument("--warmup", type=int, default=2, help="orders run first, not counted")
    args = parser.parse_args()
    if not (1 <= args.orders <= 200 and 0 <= args.warmup <= 10 and 0 <= args.gap <= 2):
        sys.exit("need --orders 1..200, --warmup 0..10, --gap 0..2")  # within the demo stock

    def overran(*_: object) -> None:  # a hard bound whatever hangs; devstack stops the servers
        stop_services(RUNNING, timeout=5)
        print("journey_latency: over 170 s, stopped", file=sys.stderr, flush=True)
        os._exit(124)

    signal.signal(signal.SIGALRM, overran)
    signal.alarm(170)
    asyncio.run(main(args.orders, args.gap, args.warmup))
