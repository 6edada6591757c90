"""`make run`'s own command on servers given by the environment: it starts none of its own,
shows the journey, serves `ovop` commands in other terminals, restarts a service that dies, and
Ctrl-C or SIGTERM leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from services.orders.bootstrap import MIGRATIONS as ORDERS_MIGRATIONS
from services.platform.isolated import free_port
from services.platform.serve import SERVICE_NAMES
from shared.db.pool import ensure_database
from shared.settings import server_variables, with_database
from tests.conftest import ROOT, unique
from tests.shared.integration.harness import eventually

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


async def run_env(kafka_bootstrap: str, database_server: str, run_dir: Path) -> dict[str, str]:
    """`ovop run`'s environment: the given broker, one fresh database per service, free ports."""
    env = dict(os.environ) | {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "OVOP_RUN_DIR": str(run_dir),
    }
    env.pop("DATABASE_URL", None)  # one URL per service instead
    for name in SERVICE_NAMES:
        database = unique(f"run_{name}")
        await ensure_database(database_server, database)
        env[f"{name.upper()}_DATABASE_URL"] = with_database(database_server, database)
        env[f"{name.upper()}_HTTP_PORT"] = str(free_port())
    return env


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def start_run(
    env: dict[str, str], *, sigint_ignored: bool = False
) -> asyncio.subprocess.Process:
    """`ovop run` (what `make run` does) as a process, its output on a pipe; with
    `sigint_ignored`, as a non-interactive shell starts a background job (nohup, CI)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "run",
        "--interval",
        "0.5",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )


async def test_ovop_run_uses_the_given_servers_shows_an_sms_and_stops_cleanly_on_ctrl_c(
    kafka_bootstrap, database_server, tmp_path
):
    env = await run_env(kafka_bootstrap, database_server, tmp_path)
    proc = await start_run(env, sigint_ignored=True)  # Ctrl-C works however it was started
    output = Output(proc)
    try:
        await output.wait_for("SMS to producer ")
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) == 4, "the four services, and no Kafka or PostgreSQL of its own"
        proc.send_signal(signal.SIGINT)
        await stopped(proc, output)
    finally:
        kill_tree(proc)
    lines = "".join(output.lines)
    assert "(external)" in lines and "-> 200 queued" in lines
    assert "SMS to producer +8491*****" in lines  # the producer's phone, masked
    assert proc.returncode == 0, lines
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


async def stopped(proc: asyncio.subprocess.Process, output: Output, timeout: float = 60) -> None:
    """Waits for `ovop run` to exit; if it does not, says what it and its children were doing."""
    try:
        async with asyncio.timeout(timeout):
            await proc.wait()
    except TimeoutError:
        tree = [
            f"{c.pid} {c.status()} {' '.join(c.cmdline()[-2:])}"
            for c in psutil.Process(proc.pid).children(recursive=True)
        ]
        raise AssertionError(
            f"ovop run still running {timeout:g}s after the signal; children: {tree}; "
            "output:\n" + "".join(output.lines[-40:])
        ) from None


def kill_tree(proc: asyncio.subprocess.Process) -> None:
    """A run that did not stop must not leave its services in the broker's consumer groups,
    where they would take partitions from the tests that come next."""
    if proc.returncode is not None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        for child in psutil.Process(proc.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
    proc.kill()


class Output:
    """`ovop run`'s output lines, read as they come."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.lines: list[str] = []
        self._task = asyncio.create_task(self._read(proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := (await proc.stdout.readline()).decode():
            self.lines.append(line)

    async def wait_for(self, text: str, timeout: float = 120) -> str:
        async with asyncio.timeout(timeout):
            while True:
                if found := [line for line in self.lines if text in line]:
                    return found[0]
                assert not self._task.done(), "ovop run exited:\n" + "".join(self.lines)
                await asyncio.sleep(0.1)


async def ovop(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    """An `ovop` command as another terminal runs it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode() + err.decode()


def service_pid(run: asyncio.subprocess.Process, name: str) -> int:
    [pid] = [
        c.pid
        for c in psutil.Process(run.pid).children()
        if c.cmdline()[-2:] == ["serve", name] and c.status() != psutil.STATUS_ZOMBIE
    ]
    return pid


async def test_ovop_in_another_terminal_finds_the_run_and_a_killed_service_is_restarted(
    kafka_bootstrap, database_server, make_database, tmp_path
):
    env = await run_env(kafka_bootstrap, database_server, tmp_path)
    proc = await start_run(env)
    output = Output(proc)
    try:
        await output.wait_for("ready in ")
        env_file = tmp_path / "env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600, "it holds the admin token"

        # Another terminal: no server in its environment, and not in the repository.
        terminal = {k: v for k, v in os.environ.items() if k not in server_variables()}
        terminal["OVOP_RUN_DIR"] = str(tmp_path)
        workdir = tmp_path / "elsewhere"
        workdir.mkdir()
        listed: list = []

        async def some_order_listed() -> bool:
            code, out = await ovop(terminal, workdir, "orders", "list", "--json")
            assert code == 0, out
            listed[:] = json.loads(out)
            return bool(listed)

        await eventually(some_order_listed, timeout=60)

        # The environment names a server: it wins, and the file is not read at all.
        empty_orders = await make_database("orders", ORDERS_MIGRATIONS)
        own = terminal | {"ORDERS_DATABASE_URL": empty_orders}
        code, out = await ovop(own, workdir, "orders", "list", "--json")
        assert (code, json.loads(out)) == (0, [])

        killed = service_pid(proc, "orders")
        os.kill(killed, signal.SIGKILL)
        await output.wait_for("orders exited with code -9 (SIGKILL)")
        await output.wait_for("orders restarted (pid ")
        ready = f"http://127.0.0.1:{env['ORDERS_HTTP_PORT']}/health/ready"

        async def orders_ready() -> bool:
            async with httpx.AsyncClient(timeout=2) as client:
                try:
                    return (await client.get(ready)).status_code == 200
                except httpx.TransportError:
                    return False

        await eventually(orders_ready, timeout=60)
        assert service_pid(proc, "orders") != killed
        assert proc.returncode is None, "the other services, Kafka and PostgreSQL kept running"

        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        await stopped(proc, output)
    finally:
        kill_tree(proc)
    assert proc.returncode == 0, "".join(output.lines)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    assert not env_file.exists(), "the CLI no longer finds a run that stopped"
