"""Soak: a marketplace operator's day of traffic through the four services as processes, then a
verdict on every order (see tests/soak/README.md).

    .venv/bin/python -m shared.devstack exec --fresh --durable --root .devstack/soak -- \\
        .venv/bin/python tests/soak/soak.py [--orders 1500] [--seed N] [--kill [SERVICE]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the tests' fakes and signers, as pytest would import them

import httpx  # noqa: E402

from services.orders.adapters.postgres import add_channel_account  # noqa: E402
from services.platform.isolated import isolated_env  # noqa: E402
from services.platform.run import (  # noqa: E402
    start_service,
    start_services,
    stop_services,
    wait_ready,
)
from services.platform.serve import SERVICE_NAMES  # noqa: E402
from shared.db.pool import connect  # noqa: E402
from tests.soak.checks import SCHEDULED_OR_BEYOND, Verdict, Violation  # noqa: E402
from tests.soak.driver import Driver, SoakPlatforms  # noqa: E402
from tests.soak.sales import CHANNELS, SCARCE, Generator, Sale, catalogue, channel_sku  # noqa: E402
from tests.soak.sales import mix as traffic_mix  # noqa: E402
from tests.soak.state import read_stored, stages, wait_quiet  # noqa: E402

RUNNING: dict[str, subprocess.Popen] = {}  # for the watchdog: never leave services behind
CALLBACK = "https://ovop.example/webhooks/shopee/"


async def durability(server: str) -> dict[str, str]:
    conn = await connect(server)
    try:
        return {k: await conn.fetchval(f"SHOW {k}") for k in ("fsync", "synchronous_commit")}
    finally:
        await conn.close()


async def open_accounts(env: dict[str, str], fakes: SoakPlatforms) -> dict[str, str]:
    """Each channel's account, its API pointed at the fake platform; the full pushes' secrets."""
    full = {"shopify": secrets.token_urlsafe(24), "woocommerce": fakes.woo.secret}
    conn = await connect(env["ORDERS_DATABASE_URL"])
    try:
        for channel, (account, _) in CHANNELS.items():
            if channel == "manual":
                continue
            settings = fakes.settings(channel)
            if channel == "shopee":
                settings["callback_url"] = shopee_callback(account)
            secret = full.get(channel) or fakes.secret(channel)
            await add_channel_account(conn, channel, account, secret, settings)
    finally:
        await conn.close()
    return full


def shopee_callback(account: str) -> str:
    from urllib.parse import quote

    return CALLBACK + quote(account, safe="")


async def list_products(env: dict[str, str], fakes: SoakPlatforms, orders: int) -> dict:
    """Listings under each channel's own SKUs, through the catalog's admin API; every SKU but
    the scarce ones topped up beyond what the run can sell. Returns each SKU's stocked units."""
    base = f"http://127.0.0.1:{env['CATALOG_HTTP_PORT']}"
    admin = {"authorization": f"Bearer {env['ADMIN_TOKEN']}"}
    products = catalogue()
    fake_of = {"shopee": fakes.shopee, "tiktok-shop": fakes.tiktok, "woocommerce": fakes.woo,
               "shopify": fakes.shopify}  # fmt: skip
    async with httpx.AsyncClient(timeout=30, headers=admin) as client:
        for n, (channel, (account, _)) in enumerate(CHANNELS.items()):
            if channel == "manual":
                continue
            for k, product in enumerate(products.values()):
                listing = {"channel": channel, "account": account, "sku": product.sku,
                           "channel_sku": channel_sku(channel, product)}  # fmt: skip
                resp = await client.post(base + "/admin/listings", json=listing)
                if resp.status_code != 201:
                    raise RuntimeError(f"listing {listing} refused: {resp.text}")
                if channel in fake_of:  # the platform's own product id, for stock updates
                    item = str(1_731_000_000 + n * 100 + k)
                    if channel == "shopify":
                        item = f"gid://shopify/InventoryItem/{item}"
                    fake_of[channel].products[listing["channel_sku"]] = item
        stocked = {}
        for sku in products:
            if sku not in SCARCE:
                adjust = {"delta": 3 * orders, "note": "soak: enough for the whole run"}
                resp = await client.post(f"{base}/admin/stock/{sku}/adjustments", json=adjust)
                resp.raise_for_status()
            stocked[sku] = (await client.get(f"{base}/admin/stock/{sku}")).json()["on_hand"]
    return stocked


async def burst(
    driver: Driver, sales: list[Sale], connections: int, progress: list[int]
) -> tuple[float, float]:
    """Every sale, `connections` at a time. Returns when the first push went and the last
    create was accepted."""
    queue: asyncio.Queue[Sale] = asyncio.Queue()
    for sale in sales:
        queue.put_nowait(sale)
    started = time.time()

    async def worker() -> None:
        while not queue.empty():
            sale = queue.get_nowait()
            await driver.play(sale)
            progress[0] += 1

    await asyncio.gather(*(worker() for _ in range(connections)))
    return started, max(driver.accepted_at, default=started)


async def kill_midway(
    name: str, procs: dict, env: dict[str, str], logs: Path, progress: list[int], at: int
) -> str:
    while progress[0] < at:
        await asyncio.sleep(0.05)
    procs[name].send_signal(signal.SIGKILL)
    procs[name].wait()
    killed = f"{name} SIGKILLed after {progress[0]} sales"
    print(f"fault: {killed}; restarting it", flush=True)
    await asyncio.sleep(1.0)
    procs[name] = RUNNING[name] = start_service(name, env, logs)
    started = time.monotonic()
    await wait_ready(env, procs)
    return f"{killed}, ready again {time.monotonic() - started:.1f}s after its restart"


def channel_stock(fakes: SoakPlatforms) -> dict[tuple[str, str, str], int | None]:
    fake_of = {"shopify": fakes.shopify, "woocommerce": fakes.woo, "shopee": fakes.shopee,
               "lazada": fakes.lazada, "tiktok-shop": fakes.tiktok, "tiki": fakes.tiki}  # fmt: skip
    out = {}
    for channel, (account, _) in CHANNELS.items():
        if channel in fake_of:
            for product in catalogue().values():
                spelled = channel_sku(channel, product)
                out[(channel, account, spelled)] = fake_of[channel].stock.get(spelled)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * q // 100) - 1)] if ordered else float("nan")


def figures(
    sales: list[Sale], verdict: Verdict, window: tuple[float, float], waits: dict
) -> list[str]:
    stored = verdict.stored
    accepted = [s for s in sales if s.accepted]
    to_pickup, to_sms = [], []
    for s in sales:
        order = stored.orders.get(s.order_id)
        if s.cancel or s.posted_at is None or not order:
            continue
        scheduled = [
            h["changed_at"].timestamp()
            for h in stored.history[s.order_id]
            if h["status"] == "PICKUP_SCHEDULED"
        ]
        if scheduled and order["status"] in SCHEDULED_OR_BEYOND:
            to_pickup.append(scheduled[0] - s.posted_at)
        sms = verdict.sms[(s.order_id, "producer.new_order")]
        if sms:
            to_sms.append(min(m["created_at"].timestamp() for m in sms) - s.posted_at)
    start, end = window
    rate = len(accepted) / max(end - start, 1e-3)

    def line(label: str, values: list[float]) -> str:
        return (
            f"  {label:<52} n={len(values):<5} p50 {pct(values, 50):6.2f} s   "
            f"p99 {pct(values, 99):6.2f} s   max {max(values, default=float('nan')):6.2f} s"
        )

    return [
        f"  {'orders accepted':<52} {len(accepted)} in {end - start:.1f} s: "
        f"{rate:.0f} orders/s over 32 connections",
        line("POST -> PICKUP_SCHEDULED", to_pickup),
        line("POST -> producer SMS", to_sms),
        "where the time went (database clocks):",
        *(line(label, values) for label, values in sorted(waits.items())),
    ]


def report(
    sales: list[Sale], verdict: Verdict, found: list[Violation], lines: list[str], path: Path
) -> bool:
    statuses = Counter(
        verdict.stored.orders[s.order_id]["status"]
        for s in sales
        if s.order_id in verdict.stored.orders
    )
    print("\nstatuses: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("checked: " + ", ".join(f"{n} {what}" for what, n in verdict.checked.items()))
    print("figures:")
    for text in lines:
        print(text)
    by_check: dict[str, list[Violation]] = defaultdict(list)
    for v in found:
        by_check[v.check].append(v)
    for check, items in by_check.items():
        print(f"\n{check}: {len(items)} violation(s)")
        for v in items:
            print(f"  {v.order_id}: {v.what}")
            if v.sale:
                print(f"      input: {v.sale}")
    path.write_text(json.dumps([v.__dict__ for v in found], ensure_ascii=False, indent=1))
    verdict_line = "PASS" if not found else f"FAIL: {len(found)} violation(s)"
    print(f"\nsoak: {verdict_line} ({len(sales)} orders; violations also in {path})")
    return not found


async def main(args: argparse.Namespace) -> bool:
    bootstrap, server = os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]
    durable = await durability(server)
    print(f"seed {args.seed}; PostgreSQL {durable}", flush=True)
    if durable != {"fsync": "on", "synchronous_commit": "on"} and not args.allow_fast_disk:
        sys.exit("soak: needs fsync and synchronous_commit on (devstack exec --durable)")
    env, _ = await isolated_env(bootstrap, server, prefix="soak")
    env |= {"ORDERS_TIKI_POLL_S": "0.5"}
    logs = Path(tempfile.mkdtemp(prefix="soak-"))
    rng = random.Random(args.seed)
    sales = Generator(args.seed, catalogue()).sales(args.orders)
    print(f"traffic: {traffic_mix(sales)}", flush=True)
    async with SoakPlatforms() as fakes:
        shop_secrets = await open_accounts(env, fakes)
        procs = start_services(env, logs)
        RUNNING.update(procs)
        try:
            await wait_ready(env, procs)
            stocked = await list_products(env, fakes, args.orders)
            print(f"stock: {stocked}", flush=True)
            callback = shopee_callback(CHANNELS["shopee"][0])
            driver = Driver(env, fakes, shop_secrets, callback, rng, args.connections)
            progress = [0]
            fault = None
            if args.kill:
                victim = rng.choice(SERVICE_NAMES) if args.kill == "random" else args.kill
                at = int(len(sales) * 0.4)
                fault = asyncio.create_task(kill_midway(victim, procs, env, logs, progress, at))
            window = await burst(driver, sales, args.connections, progress)
            print(f"burst sent in {time.time() - window[0]:.1f} s ({driver.retries} retries)")
            await driver.settle()
            if fault is not None:
                print(f"fault: {await fault}")
            quiet, left, waited = await wait_quiet(
                env,
                bootstrap,
                args.quiet_timeout,
                lambda: {"tiki queue": len(fakes.tiki_queue)} if fakes.tiki_queue else {},
            )
            print(
                f"quiet after {waited:.0f} s"
                if quiet
                else f"NOT quiet after {waited:.0f} s: {left}"
            )
            await driver.close()
            stored = await read_stored(env, bootstrap)
            verdict = Verdict(sales, stored)
            found = verdict.run(channel_stock(fakes), catalogue())
            if not quiet:
                found.insert(0, Violation("quiet", "-", f"still to do: {left}"))
            lines = figures(sales, verdict, window, await stages(env))
        finally:
            stop_services(procs)
    print(f"service logs: {logs}")
    return report(sales, verdict, found, lines, logs / "violations.json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=None, help="default: a new one, printed")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--kill",
        nargs="?",
        const="random",
        choices=[*SERVICE_NAMES, "random"],
        help="SIGKILL one service (default: one chosen by the seed) mid-burst and restart it",
    )
    parser.add_argument("--quiet-timeout", type=float, default=600.0)
    parser.add_argument("--max-seconds", type=int, default=3600, help="hard bound on the run")
    parser.add_argument("--allow-fast-disk", action="store_true", help="run without fsync")
    args = parser.parse_args()
    args.seed = args.seed if args.seed is not None else secrets.randbelow(10**6)

    def overran(*_: object) -> None:  # whatever hangs; devstack stops the servers
        stop_services(RUNNING, timeout=5)
        print(f"soak: over {args.max_seconds} s, stopped", file=sys.stderr, flush=True)
        os._exit(124)

    signal.signal(signal.SIGALRM, overran)
    signal.alarm(args.max_seconds)
    sys.exit(0 if asyncio.run(main(args)) else 1)
