"""`ovop run` (what `make run` does): start Kafka and PostgreSQL unless the environment names
them, prepare databases, topics and demo data, start the four services and the simulator, and
show the journey as it happens. Ctrl-C stops everything it started."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from services.platform.serve import SERVICE_NAMES
from services.platform.setup import DEMO_SHOP, DEMO_WOO_SHOP, load_demo_data, prepare
from services.platform.simulator import simulate
from shared.db.pool import connect
from shared.phones import mask_phone
from shared.settings import DEFAULT_PORTS, database_url_for

ROOT = Path(__file__).resolve().parents[2]


def databases_given() -> bool:
    """DATABASE_URL (a server), or one URL per service."""
    own = all(os.environ.get(f"{name.upper()}_DATABASE_URL") for name in SERVICE_NAMES)
    return bool(os.environ.get("DATABASE_URL")) or own


def service_env(base: dict[str, str], servers: dict[str, str]) -> dict[str, str]:
    env = dict(base) | {k: v for k, v in servers.items() if not k.startswith("DEVSTACK_")}
    env.setdefault("ADMIN_TOKEN", secrets.token_urlsafe(24))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_services(env: dict[str, str], log_dir: Path) -> dict[str, subprocess.Popen]:
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name in SERVICE_NAMES:
        log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
        procs[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return procs


def port_of(name: str, env: dict[str, str]) -> int:
    return int(env.get(f"{name.upper()}_HTTP_PORT") or DEFAULT_PORTS[name])


async def wait_ready(env: dict[str, str], procs: dict[str, subprocess.Popen], timeout: float = 120):
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        for name in SERVICE_NAMES:
            url = f"http://127.0.0.1:{port_of(name, env)}/health/ready"
            while True:
                if procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {procs[name].returncode}")
                try:
                    if (await client.get(url)).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout}s")
                await asyncio.sleep(0.2)


def stop_services(procs: dict[str, subprocess.Popen], timeout: float = 25.0) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs.values():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


SMS_SINCE = """SELECT message_id AS id, recipient, message_type, encoding, segments, text
               FROM sms_messages
               WHERE created_at >= to_timestamp($1) ORDER BY created_at"""
REJECTED_SINCE = """SELECT h.id, o.canonical->>'channel_order_name' AS ref, h.reason
                    FROM order_status_history h JOIN orders o USING (order_id)
                    WHERE h.status = 'REJECTED' AND h.changed_at >= to_timestamp($1)
                    ORDER BY h.id"""


def _sms_line(r) -> str:
    to = r["message_type"].split(".")[0]  # producer or buyer
    return (
        f"SMS to {to} {mask_phone(r['recipient'])} "
        f"[{r['encoding']}, {r['segments']} segment(s)]: {r['text']}"
    )


def _rejected_line(r) -> str:
    return f"order {r['ref']} rejected: {r['reason']}"


async def follow_journey(server_url: str | None, since: float) -> None:
    """Print what a newcomer should see: each producer SMS, and each order the catalog refused
    (a product sold out), as it happens."""
    feeds = [
        (await connect(database_url_for("notifications", server_url)), SMS_SINCE, _sms_line),
        (await connect(database_url_for("orders", server_url)), REJECTED_SINCE, _rejected_line),
    ]
    seen: set = set()
    try:
        while True:
            for conn, sql, line in feeds:
                for r in await conn.fetch(sql, since):
                    if (sql, r["id"]) not in seen:
                        seen.add((sql, r["id"]))
                        print(line(r), flush=True)
            await asyncio.sleep(1)
    finally:
        for conn, _, _ in feeds:
            await conn.close()


async def journey(
    env: dict[str, str], procs, started: float, interval_s: float, log_dir: Path
) -> None:
    await wait_ready(env, procs)
    print(f"ready in {time.monotonic() - started:.1f}s", flush=True)
    print_where_to_look(env, log_dir)
    base = f"http://127.0.0.1:{port_of('orders', env)}"
    await asyncio.gather(
        simulate(
            base,
            DEMO_SHOP,
            env["OVOP_DEMO_SHOP_SECRET"],
            interval_s=interval_s,
            woo_account=DEMO_WOO_SHOP,
        ),
        follow_journey(env.get("DATABASE_URL"), time.time() - 5),
    )


def print_where_to_look(env: dict[str, str], log_dir: Path) -> None:
    ports = ", ".join(f"{n} :{port_of(n, env)}" for n in SERVICE_NAMES)
    exports = " ".join(
        f"{k}={env[k]}"
        for k in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "ADMIN_TOKEN")
        if k in env
    )
    print(
        f"""
services on 127.0.0.1: {ports}
  health   curl 127.0.0.1:8001/health/ready     metrics  curl 127.0.0.1:8001/metrics
  logs     {log_dir}/<service>.log (JSON)
  CLI      export {exports}
           .venv/bin/ovop sms list | ovop orders show <order id> | ovop dlq list
Ctrl-C stops everything.
""",
        flush=True,
    )


def main(interval_s: float = 5.0) -> int:
    started = time.monotonic()
    root = Path(os.environ.get("OVOP_RUN_DIR") or ROOT / ".devstack" / "run")
    stack = None
    if not (os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and databases_given()):
        from shared.devstack import DevStack

        stack = DevStack(root, kafka_port=19092, pg_port=15432)
    procs: dict[str, subprocess.Popen] = {}
    try:
        servers = stack.start() if stack else {}
        env = service_env(dict(os.environ), servers)
        env.setdefault("OVOP_DEMO_SHOP_SECRET", secrets.token_urlsafe(32))
        kind = servers.get("DEVSTACK_KAFKA_KIND", "external")
        print(
            f"kafka {env['KAFKA_BOOTSTRAP_SERVERS']} ({kind}) and postgres ready after "
            f"{time.monotonic() - started:.1f}s",
            flush=True,
        )
        asyncio.run(_prepare(env))
        procs = start_services(env, root / "logs")
        asyncio.run(journey(env, procs, started, interval_s, root / "logs"))
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stop_services(procs)
        if stack:
            stack.stop()
    return 0


async def _prepare(env: dict[str, str]) -> None:
    os.environ.update(env)  # database_url_for reads per-service URLs from the environment
    await prepare(env["KAFKA_BOOTSTRAP_SERVERS"], env.get("DATABASE_URL"))
    counts = await load_demo_data(env.get("DATABASE_URL"), env["OVOP_DEMO_SHOP_SECRET"])
    print(f"demo data: {counts}", flush=True)
