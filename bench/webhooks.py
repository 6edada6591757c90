"""Webhook intake: signed Shopify `orders/create` webhooks accepted and persisted per second by
one orders process (verify the signature, check the JSON, commit the push to the webhook queue
in a group-commit statement, answer), against a bare HTTP server on the same stack (uvicorn +
Starlette, one process, httptools as installed) answering 200, in the same run.

The same process applies the queue meanwhile (parse, store the order, its delivery, history and
OrderPlaced in the outbox; the relay publishes): each round also reports how long the queue took
to drain after the load stopped, and the rate at which pushes became orders over the round and
its drain together. The next bare round starts only once the queue and the outbox are empty, so
that the orders process's catching up never takes CPU from the bare server.

    .venv/bin/python -m shared.devstack exec --fresh --root .devstack/bench -- \
        .venv/bin/python bench/webhooks.py [--seconds 5] [--rounds 2] [--connections 32]

The load comes from a small raw HTTP/1.1 keep-alive client (pre-signed bodies, one request in
flight per connection), so neither side pays for a heavy client library. Rounds alternate bare
and orders, so noise hits both alike. After the run, every 200 is checked against the database:
each accepted push is an order, a delivery and an OrderPlaced event.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import unique

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.orders.simulator import build_shopify_order, shopify_webhook_request  # noqa: E402
from services.platform.isolated import free_port  # noqa: E402
from shared.db.pool import connect, ensure_database, migrate  # noqa: E402
from shared.settings import with_database  # noqa: E402

ACCOUNT = "bench-shop.myshopify.com"
SECRET = "bench-secret"
BARE_SERVE = (
    "\nimport sys, uvicorn\n"
    "uvicorn.run(app, host='127.0.0.1', port=int(sys.argv[1]), log_level='warning',"
    " access_log=False)\n"
)
BARE_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def ok(request):
    await request.body()
    return JSONResponse({"outcome": "ok"})

app = Starlette(routes=[Route("/webhooks/{platform}/{account}", ok, methods=["POST"])])
"""


def requests(n: int, start: int, port: int) -> list[bytes]:
    """Raw HTTP requests: n distinct signed orders (signing is the platform's cost, not ours)."""
    out = []
    for k in range(n):
        payload = build_shopify_order(
            order_number=start + k, sku="SHOP-HG-HONEY-500", quantity=1, unit_price_vnd=450000
        )
        body, headers = shopify_webhook_request(payload, SECRET, shop_domain=ACCOUNT)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        out.append(
            (
                f"POST /webhooks/shopify/{ACCOUNT} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Length: {len(body)}\r\n{head}\r\n"
            ).encode()
            + body
        )
    return out


async def _one_connection(port: int, queue: list[bytes], until: float, counts: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while queue and time.perf_counter() < until:
            writer.write(queue.pop())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            counts[status] = counts.get(status, 0) + 1
    finally:
        writer.close()


async def load(
    port: int, reqs: list[bytes], seconds: float, connections: int
) -> tuple[float, dict]:
    counts: dict[int, int] = {}
    queue = list(reqs)
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_one_connection(port, queue, until, counts) for _ in range(connections)))
    return time.perf_counter() - started, counts


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drained(conn, seconds_max: float = 120.0) -> float:
    """Seconds until the webhook queue and the outbox are both empty."""
    started = time.perf_counter()
    while await conn.fetchval(
        "SELECT (SELECT count(*) FROM webhook_queue WHERE rejected_reason IS NULL)"
        " + (SELECT count(*) FROM outbox WHERE sent_at IS NULL)"
    ):
        if time.perf_counter() - started > seconds_max:
            raise TimeoutError("the orders process did not catch up")
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Round:
    rate: float  # 200s per second
    cpu_ms: float  # the server's CPU per 200
    busy: float  # the server's CPU time over the round's wall time: 1.0 is one core saturated
    counts: dict[int, int]


async def measured(
    pid: int, port: int, reqs: list[bytes], seconds: float, connections: int
) -> Round:
    before = cpu_seconds(pid)
    elapsed, counts = await load(port, reqs, seconds, connections)
    cpu = cpu_seconds(pid) - before
    ok = counts.get(200, 0)
    return Round(ok / elapsed, cpu * 1000 / max(ok, 1), cpu / elapsed, counts)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdout=open(log, "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            _, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise TimeoutError(f"port {port} not open after {timeout}s")


async def main(seconds: float, rounds: int, connections: int) -> int:
    from services.orders.adapters.postgres import add_channel_account
    from services.orders.bootstrap import MIGRATIONS
    from shared.contracts.topics import all_topic_specs
    from shared.messaging.admin import ensure_topics

    bootstrap, server = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]
    await ensure_topics(bootstrap, all_topic_specs())
    database = unique("bench_orders")
    await ensure_database(server, database)
    url = with_database(server, database)
    conn = await connect(url)
    try:
        await migrate(conn, "orders", MIGRATIONS)
        await add_channel_account(conn, "shopify", ACCOUNT, SECRET)
    finally:
        await conn.close()

    orders_port, bare_port = free_port(), free_port()
    logs = Path(os.environ.get("TMPDIR", "/tmp"))
    env = dict(os.environ) | {
        "ORDERS_DATABASE_URL": url,
        "ORDERS_HTTP_PORT": str(orders_port),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    procs = [
        spawn(
            [sys.executable, "-m", "services.cli", "serve", "orders"],
            env,
            logs / "bench_orders.log",
        ),
        spawn(
            [
                sys.executable,
                "-c",
                BARE_APP + BARE_SERVE,
                str(bare_port),
            ],
            env,
            logs / "bench_bare.log",
        ),
    ]
    try:
        await wait_port(orders_port, procs[0])
        await wait_port(bare_port, procs[1])
        per_round = int(seconds * 9000)  # more than the orders process takes in `seconds`
        bare_reqs = requests(1000, 1, bare_port) * int(seconds * 30)  # the same bytes, reused
        number = 1_000_000
        warm = requests(200, number, orders_port)
        number += 200
        await load(orders_port, warm, 2.0, connections)
        await load(bare_port, requests(200, 1, bare_port), 2.0, connections)
        bare_rates, orders_rates, applied_rates, accepted = [], [], [], 200
        bare_cpu, orders_cpu = [], []  # CPU ms per request of the server process
        conn = await connect(url)
        try:
            await drained(conn)
            for r in range(rounds):
                bare_round = await measured(
                    procs[1].pid, bare_port, bare_reqs, seconds, connections
                )
                bare_rates.append(bare_round.rate)
                bare_cpu.append(bare_round.cpu_ms)
                reqs = requests(per_round, number, orders_port)
                number += per_round
                count_orders = "SELECT count(*) FROM orders"
                before, started = await conn.fetchval(count_orders), time.perf_counter()
                orders_round = await measured(procs[0].pid, orders_port, reqs, seconds, connections)
                loaded = time.perf_counter() - started
                during = await conn.fetchval(count_orders) - before
                drain_s = await drained(conn)
                ok = orders_round.counts.get(200, 0)
                applied_rates.append(ok / (loaded + drain_s))
                orders_rates.append(orders_round.rate)
                orders_cpu.append(orders_round.cpu_ms)
                accepted += ok
                bad = {k: v for k, v in orders_round.counts.items() if k != 200}
                print(
                    f"round {r + 1}: bare {bare_round.rate:7.0f}/s (busy {bare_round.busy:4.0%})"
                    f"   orders {orders_round.rate:7.0f}/s (busy {orders_round.busy:4.0%},"
                    f" {during / ok:4.0%} applied meanwhile)"
                    f"   queue drained {drain_s:4.1f} s later: {applied_rates[-1]:5.0f} orders/s"
                    f"{'   non-200: ' + str(bad) if bad else ''}",
                    flush=True,
                )
            stored = await conn.fetchval("SELECT count(*) FROM orders")
            deliveries = await conn.fetchval("SELECT count(*) FROM webhook_deliveries")
            events = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = 'OrderPlaced'"
            )
        finally:
            await conn.close()
        assert stored == deliveries == events == accepted, (stored, deliveries, events, accepted)
        bare, orders = statistics.median(bare_rates), statistics.median(orders_rates)
        print(f"bare HTTP 200 server        {bare:8.0f} req/s (median of {rounds})")
        print(f"orders webhooks persisted   {orders:8.0f} /s    ({accepted} orders, all stored)")
        print(f"ratio orders/bare           {orders / bare:8.2f}    (goal >= 0.30, >= 2000/s)")
        applied = statistics.median(applied_rates)
        print(f"pushes become orders        {applied:8.0f} /s    (a round and its drain together)")
        bare_ms, orders_ms = statistics.median(bare_cpu), statistics.median(orders_cpu)
        print(
            f"server CPU per request      bare {bare_ms:.3f} ms, orders {orders_ms:.3f} ms"
            f" (x{orders_ms / bare_ms:.1f})"
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    signal.alarm(400)  # a hard limit, as the other benchmarks have
    raise SystemExit(asyncio.run(main(args.seconds, args.rounds, args.connections)))
