"""Child-process plumbing shared by the Kafka and PostgreSQL launchers."""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_port_free(port: int, what: str) -> None:
    with socket.socket() as s:
        # As the servers do: connections of a stopped server in TIME_WAIT must not count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            raise RuntimeError(f"devstack: {what} port {port} is already in use ({e})") from None


def log_tail(*paths: Path, lines: int = 30) -> str:
    """The last lines of each log, preceded by its last error lines (a dying broker buries the
    cause under a long shutdown sequence)."""
    out = []
    for p in paths:
        if not (p.exists() and p.stat().st_size):
            continue
        text = p.read_text(errors="replace").splitlines()
        errors = [line for line in text if any(w in line for w in _ERROR_WORDS)][-10:]
        if errors:
            out.append(f"--- errors in {p} ---\n" + "\n".join(errors))
        out.append(f"--- last lines of {p} ---\n" + "\n".join(text[-lines:]))
    return "\n".join(out) or "(no log output)"


_ERROR_WORDS = (
    "] ERROR ",
    "] FATAL ",
    "ERROR:",
    "FATAL:",
    "PANIC:",
    "Error:",
    "Exception in thread",
)


def run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even if an event loop is running here
    (pytest-asyncio fixtures call DevStack.start() from inside a loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1) as ex:
        return ex.submit(asyncio.run, coro).result()


# PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, so every server is
# forked from one daemon thread that lives as long as the interpreter. Then even a SIGKILLed
# or os._exit()ed parent (pytest-timeout, CI kill) takes its servers with it.
_spawn_q: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
_spawner_lock = threading.Lock()
_spawner: threading.Thread | None = None


def _spawn_loop() -> None:
    while True:
        fn, fut = _spawn_q.get()
        try:
            fut.set_result(fn())
        except BaseException as e:  # handed back to the caller
            fut.set_exception(e)


def _on_spawner(fn: Callable[[], T]) -> T:
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = threading.Thread(target=_spawn_loop, name="devstack-spawner", daemon=True)
            _spawner.start()
    fut: Future[T] = Future()
    _spawn_q.put((fn, fut))
    return fut.result()


class Server:
    """One server process in its own session/process group, so stop() can reap the tree."""

    def __init__(self, name: str, log: Path) -> None:
        self.name = name
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self, cmd: list[str], *, deathsig: str, **popen: Any) -> None:
        setpriv = shutil.which("setpriv")
        if setpriv:  # util-linux; kills the server if we die without running stop()
            cmd = [setpriv, f"--pdeathsig={deathsig}", "--", *cmd]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            try:
                self.proc = _on_spawner(
                    lambda: subprocess.Popen(
                        cmd,
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        **popen,
                    )
                )
            except OSError as e:  # e.g. a JAVA_HOME without bin/java
                raise RuntimeError(f"devstack: cannot run {self.name} ({cmd[0]}): {e}") from e

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> None:
        """Polite signal to the leader, then SIGKILL to the whole group. Idempotent."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        pgid = proc.pid  # start_new_session: the leader's pid is the group id
        if proc.poll() is None:
            _signal(proc.pid, sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        _killpg(pgid, signal.SIGKILL)  # stragglers, e.g. backends of a killed postmaster
        proc.wait()
        deadline = time.monotonic() + 5
        while _group_exists(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _killpg(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
