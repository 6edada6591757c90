"""`ovop run` (what `make run` does): start Kafka and PostgreSQL unless the environment names
them, prepare databases, topics and demo data, start the four services and the simulator, and
show the journey as it happens. It writes its servers and admin token to `<run dir>/env`, where
`ovop` commands in other terminals find them. A service that exits is restarted; a Kafka or
PostgreSQL of its own that exits stops everything, saying so. Ctrl-C (or SIGTERM) stops
everything it started."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from services.platform.serve import SERVICE_NAMES
from services.platform.setup import DEMO_SHOP, DEMO_WOO_SHOP, load_demo_data, prepare
from services.platform.simulator import simulate
from services.platform.supervise import ServerDied, Supervisor, stop_processes, watch_servers
from shared.db.pool import connect
from shared.phones import mask_phone
from shared.settings import (
    DEFAULT_PORTS,
    RunnerSettings,
    database_url_for,
    remove_run_env,
    run_dir,
    server_variables,
    write_run_env,
)

ROOT = Path(__file__).resolve().parents[2]


def service_env(base: dict[str, str], servers: dict[str, str]) -> dict[str, str]:
    env = dict(base) | {k: v for k, v in servers.items() if not k.startswith("DEVSTACK_")}
    env.setdefault("ADMIN_TOKEN", secrets.token_urlsafe(24))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_service(name: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def start_services(env: dict[str, str], log_dir: Path) -> dict[str, subprocess.Popen]:
    return {name: start_service(name, env, log_dir) for name in SERVICE_NAMES}


def port_of(name: str, env: dict[str, str]) -> int:
    return int(env.get(f"{name.upper()}_HTTP_PORT") or DEFAULT_PORTS[name])


async def wait_ready(
    env: dict[str, str], procs: dict[str, subprocess.Popen] | None = None, timeout: float = 120
):
    """Until every service answers ready; a service of `procs` that exits meanwhile fails it
    (without `procs`, a supervisor restarts what exits, so only the timeout does)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        for name in SERVICE_NAMES:
            url = f"http://127.0.0.1:{port_of(name, env)}/health/ready"
            while True:
                if procs and procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with {procs[name].returncode}")
                try:
                    if (await client.get(url)).status_code == 200:
                        break
                except httpx.TransportError as exc:
                    stopping(exc)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} not ready after {timeout}s")
                await asyncio.sleep(0.2)


def stopping(exc: BaseException) -> None:
    """Re-raises `exc` when the task is being cancelled: an error met on the way out (a
    connection cut by the stop) is no outage to wait out, and waiting would swallow the stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise exc


def stop_services(procs: dict[str, subprocess.Popen], timeout: float = 25.0) -> None:
    stop_processes(procs.values(), timeout)


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
    (a product sold out), as it happens. A database that stops answering is waited for."""
    seen: set = set()
    while True:
        try:
            await _follow(server_url, since, seen)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            stopping(exc)
            print(f"journey: the database does not answer ({exc!r}); trying again", flush=True)
            await asyncio.sleep(5)


async def _follow(server_url: str | None, since: float, seen: set) -> None:
    feeds = []
    try:
        for service, sql, line in (
            ("notifications", SMS_SINCE, _sms_line),
            ("orders", REJECTED_SINCE, _rejected_line),
        ):
            feeds.append((await connect(database_url_for(service, server_url)), sql, line))
        while True:
            for conn, sql, line in feeds:
                for r in await conn.fetch(sql, since):
                    if (sql, r["id"]) not in seen:
                        seen.add((sql, r["id"]))
                        print(line(r), flush=True)
            await asyncio.sleep(1)
    finally:
        for conn, _, _ in feeds:
            conn.terminate()  # a read-only feed: nothing to finish, and no await that could
            # replace the cancellation that stops the run with an error caught below


async def journey(
    env: dict[str, str],
    supervisor: Supervisor,
    stack,
    started: float,
    interval_s: float,
    log_dir: Path,
    env_file: Path,
) -> None:
    """The supervisor and the servers' watch run from the start: a service may die, and a
    server may die, while the others are still getting ready."""
    watching = [supervisor.watch(), *([watch_servers(stack)] if stack else [])]
    await asyncio.gather(show(env, started, interval_s, log_dir, env_file), *watching)


async def show(
    env: dict[str, str], started: float, interval_s: float, log_dir: Path, env_file: Path
) -> None:
    await wait_ready(env)
    print(f"ready in {time.monotonic() - started:.1f}s", flush=True)
    print_where_to_look(env, log_dir, env_file)
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


def print_where_to_look(env: dict[str, str], log_dir: Path, env_file: Path) -> None:
    ports = ", ".join(f"{n} :{port_of(n, env)}" for n in SERVICE_NAMES)
    print(
        f"""
services on 127.0.0.1: {ports}
  health   curl 127.0.0.1:8001/health/ready     metrics  curl 127.0.0.1:8001/metrics
  logs     {log_dir}/<service>.log (JSON)
  CLI      .venv/bin/ovop orders list | ovop sms list | ovop dlq list
           works in another terminal too: it reads the servers and the admin token from
           {env_file}  (`set -a; . that file` exports them for curl)
A service that exits is restarted. Ctrl-C stops everything.
""",
        flush=True,
    )


def cli_env(env: dict[str, str]) -> dict[str, str]:
    """What `ovop` commands in another terminal need: the servers, the admin token, the ports."""
    names = (*server_variables(), "ADMIN_TOKEN")
    ports = {f"{n.upper()}_HTTP_PORT": str(port_of(n, env)) for n in SERVICE_NAMES}
    return {k: env[k] for k in names if env.get(k)} | ports


def _interrupt(_signum: int, _frame: object) -> None:
    # SIGTERM stops everything as Ctrl-C does, the same way: while the journey runs, asyncio
    # turns Ctrl-C into cancelling it; before, it is a KeyboardInterrupt.
    os.kill(os.getpid(), signal.SIGINT)


def main(interval_s: float = 5.0) -> int:
    started = time.monotonic()
    root = run_dir()
    # Started in the background by a non-interactive shell (nohup, CI), a process inherits
    # SIGINT ignored; the operator's Ctrl-C (or `kill -INT`) must still stop everything.
    previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
    stack = None
    given = RunnerSettings()
    if not (given.kafka_bootstrap_servers and given.databases_given()):
        from shared.devstack import DevStack

        stack = DevStack(root, kafka_port=19092, pg_port=15432)
    supervisor: Supervisor | None = None
    env_file: Path | None = None
    status = 0
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
        env_file = write_run_env(cli_env(env))
        log_dir = root / "logs"
        supervisor = Supervisor(lambda name: start_service(name, env, log_dir))
        supervisor.start(SERVICE_NAMES)
        asyncio.run(journey(env, supervisor, stack, started, interval_s, log_dir, env_file))
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    except ServerDied as exc:
        print(f"\n{exc}", flush=True)
        status = 1
    finally:
        if env_file:
            remove_run_env(env_file)
        if supervisor:
            supervisor.stop()
        if stack:
            stack.stop()
        signal.signal(signal.SIGTERM, previous_sigterm)
        signal.signal(signal.SIGINT, previous_sigint)
    return status


async def _prepare(env: dict[str, str]) -> None:
    os.environ.update(env)  # database_url_for reads per-service URLs from the environment
    await prepare(env["KAFKA_BOOTSTRAP_SERVERS"], env.get("DATABASE_URL"))
    counts = await load_demo_data(env.get("DATABASE_URL"), env["OVOP_DEMO_SHOP_SECRET"])
    print(f"demo data: {counts}", flush=True)
