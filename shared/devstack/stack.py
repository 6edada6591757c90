"""DevStack: Kafka + PostgreSQL from the environment, Docker, or local processes (in that order)."""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import shutil
import signal
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from . import containers
from .kafka import KIND, LocalKafka, wait_kafka
from .postgres import LocalPostgres, wait_postgres

log = logging.getLogger("devstack")
_live: set[DevStack] = set()
_hooks_installed = False


class DevStack:
    """Kafka + PostgreSQL for one data folder. start() returns the env vars to export;
    stop() (or leaving the `with` block) stops what start() started. `fresh` wipes the folder
    first and, unless `durable`, runs PostgreSQL without its disk flushes."""

    def __init__(
        self,
        root: Path,
        *,
        kafka_port: int | None = None,
        pg_port: int | None = None,
        fresh: bool = False,
        durable: bool = False,
    ) -> None:
        self.root = Path(root).resolve()
        self.kafka_port = kafka_port
        self.pg_port = pg_port
        self.fresh = fresh
        self.durable = durable
        self.env: dict[str, str] = {}
        self._kafka: LocalKafka | None = None
        self._pg: LocalPostgres | None = None
        self._containers: list[Any] = []
        self._lock: IO[str] | None = None

    def start(self) -> dict[str, str]:
        """Start what the environment does not provide and wait until both are usable."""
        if self.env:
            return dict(self.env)
        _install_exit_hooks()
        _live.add(self)
        try:
            self.env = self._start()
        except BaseException:
            self.stop()
            raise
        return dict(self.env)

    def _start(self) -> dict[str, str]:
        kafka_url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        db_url = os.environ.get("DATABASE_URL")
        kind = "external"
        if not (kafka_url and db_url) and containers.docker_available():
            if not kafka_url:
                container, kafka_url = containers.start_kafka()
                self._containers.append(container)
                kind = "docker"
            if not db_url:
                container, db_url = containers.start_postgres(self.durable)
                self._containers.append(container)
        elif not (kafka_url and db_url):
            self._lock_root()
            if self.fresh:
                _wipe(self.root)
            if not kafka_url:  # JVM first: it is the slow one, PostgreSQL boots meanwhile
                self._kafka = LocalKafka(self.root, self.kafka_port)
                self._kafka.start()
                kafka_url, kind = self._kafka.bootstrap, KIND
            if not db_url:
                self._pg = LocalPostgres(
                    self.root, self.pg_port, fresh=self.fresh, durable=self.durable
                )
                self._pg.start()
                db_url = self._pg.url
        assert kafka_url and db_url
        # Readiness is checked for external and container servers too: CI must fail loudly.
        if self._kafka:
            self._kafka.wait_ready()
        else:
            wait_kafka(kafka_url, 60)
        if self._pg:
            self._pg.wait_ready()
        else:
            wait_postgres(db_url, 60)
        return {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_url,
            "DATABASE_URL": db_url,
            "DEVSTACK_KAFKA_KIND": kind,
        }

    def pids(self) -> dict[str, int]:
        """Pids of locally started servers (each leads its own process group)."""
        servers = [s.server for s in (self._kafka, self._pg) if s is not None]
        return {s.name: s.pid for s in servers if s.pid is not None}

    def _lock_root(self) -> None:
        """One stack per data folder: a second one would corrupt (or, fresh, wipe) the first."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = open(self.root / ".lock", "a+")  # not inherited by the servers (PEP 446)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            lock.close()
            raise RuntimeError(
                f"devstack: {self.root} is in use by another devstack (pid {holder}); "
                "stop it or pass another root"
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock

    def dead(self) -> list[str]:
        """Names of locally started servers that have exited since start()."""
        servers = [s.server for s in (self._kafka, self._pg) if s is not None]
        return [s.name for s in servers if not s.alive()]

    def stop(self) -> None:
        """Stop whatever this instance started; safe to call twice."""
        for stopper in (self._pg, self._kafka, *self._containers):
            if stopper is None:
                continue
            try:
                stopper.stop()
            except Exception:  # keep going: the others must still be stopped
                log.exception("devstack: stopping %r failed", stopper)
        self._pg = self._kafka = None
        self._containers = []
        if self._lock:
            self._lock.close()  # releases the flock
            self._lock = None
        self.env = {}
        _live.discard(self)

    def __enter__(self) -> DevStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _wipe(root: Path) -> None:
    for child in root.iterdir():
        if child.name != ".lock":  # keep the file we hold the lock on
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def _stop_all() -> None:
    for stack in list(_live):
        stack.stop()


def _raise_exit(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through finally blocks and atexit


def _install_exit_hooks() -> None:
    """atexit stops servers on normal exit and Ctrl-C; SIGTERM/SIGHUP would skip atexit."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, _raise_exit)
