"""`ovop run` keeps the four services running: a service that exits is started again after a
delay that doubles with each quick failure, up to a cap, and starts over from the first delay
once a run of it lasted a while. Only Ctrl-C or SIGTERM stops them (`stop`). A Kafka or
PostgreSQL of its own that exits is not restarted (`watch_servers`)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# A local server's logs, by the name DevStack.dead() gives it.
SERVER_LOGS = {"kafka": ("kafka.log", "kafka.out"), "postgres": ("postgres.log",)}


class ServerDied(RuntimeError):
    """A Kafka or PostgreSQL that `ovop run` started has exited."""


@dataclass
class Backoff:
    """The delay before restarting a service that exited, from how long it had run."""

    initial_s: float = 1.0
    max_s: float = 30.0
    stable_after_s: float = 60.0  # a run this long was no crash loop: the delays start over
    failures: int = 0

    def after_exit(self, uptime_s: float) -> float:
        if uptime_s >= self.stable_after_s:
            self.failures = 0
        delay = min(self.max_s, self.initial_s * 2**self.failures)
        self.failures += 1
        return delay


@dataclass
class _Service:
    proc: subprocess.Popen
    started_at: float
    backoff: Backoff
    restart_at: float | None = None  # set while it waits for its restart
    restarts: int = 0


@dataclass
class Supervisor:
    """Starts each service with `spawn(name)` and starts it again when it exits."""

    spawn: Callable[[str], subprocess.Popen]
    echo: Callable[[str], None] = print
    backoff: Callable[[], Backoff] = Backoff
    clock: Callable[[], float] = time.monotonic
    _services: dict[str, _Service] = field(default_factory=dict)

    def start(self, names: Iterable[str]) -> None:
        for name in names:
            self._services[name] = _Service(self.spawn(name), self.clock(), self.backoff())

    @property
    def procs(self) -> dict[str, subprocess.Popen]:
        return {name: s.proc for name, s in self._services.items()}

    def check(self) -> None:
        """Notice the services that exited, and restart those whose delay is over."""
        now = self.clock()
        for name, s in self._services.items():
            if s.restart_at is None and s.proc.poll() is not None:
                uptime = now - s.started_at
                delay = s.backoff.after_exit(uptime)
                s.restart_at = now + delay
                self.echo(
                    f"{name} exited with code {_exit_code(s.proc.returncode)} after "
                    f"{uptime:.1f}s; restarting it in {delay:g}s"
                )
            elif s.restart_at is not None and now >= s.restart_at:
                s.proc, s.started_at, s.restart_at = self.spawn(name), now, None
                s.restarts += 1
                self.echo(f"{name} restarted (pid {s.proc.pid}, restart {s.restarts})")

    async def watch(self, poll_s: float = 0.2) -> None:
        while True:
            self.check()
            await asyncio.sleep(poll_s)

    def stop(self, timeout: float = 25.0) -> None:
        stop_processes(self.procs.values(), timeout)


def stop_processes(procs: Iterable[subprocess.Popen], timeout: float = 25.0) -> None:
    """SIGTERM to each (a graceful stop), then SIGKILL to those still running at the deadline."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def watch_servers(stack) -> None:
    """Restarting a broker or a database that died would bury the reason (a full disk, a port
    taken, the JVM out of memory, damaged data) under a loop, and the services can do nothing
    without it: say which one and where its log is, and stop."""
    while not (dead := stack.dead()):
        await asyncio.sleep(1)
    lines = [f"{', '.join(dead)} (started by make run) exited unexpectedly; stopping everything."]
    for name in dead:
        for log in SERVER_LOGS.get(name, ()):
            path = stack.root / log
            tail = path.read_text(errors="replace").splitlines()[-5:] if path.exists() else []
            lines += [f"  {path}:", *(f"    {line}" for line in tail)]
    lines.append("Its data is kept: `make run` starts it again (`make clean-data` forgets it).")
    raise ServerDied("\n".join(lines))


def _exit_code(code: int) -> str:
    if code < 0:
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return str(code)
