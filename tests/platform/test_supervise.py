"""`ovop run` restarts a service that exits, with a backoff that doubles, is capped, and starts
over once a run lasted; a Kafka or PostgreSQL of its own that exits stops it, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.platform.supervise import Backoff, ServerDied, Supervisor, watch_servers


def test_quick_failures_double_the_delay_up_to_the_cap():
    backoff = Backoff(initial_s=1, max_s=30, stable_after_s=60)
    assert [backoff.after_exit(uptime_s=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_run_that_lasted_starts_the_delays_over():
    backoff = Backoff(initial_s=1, max_s=30, stable_after_s=60)
    for _ in range(4):
        backoff.after_exit(uptime_s=2)
    assert backoff.after_exit(uptime_s=60) == 1
    assert backoff.after_exit(uptime_s=2) == 2


class FakeProcess:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_exited_service_is_announced_and_restarted_after_its_delay():
    clock, said, spawned = Clock(), [], []

    def spawn(name: str) -> FakeProcess:
        spawned.append(FakeProcess(pid=1000 + len(spawned)))
        return spawned[-1]

    supervisor = Supervisor(spawn, echo=said.append, clock=clock)
    supervisor.start(["orders"])
    clock.now += 5
    spawned[0].returncode = -9
    supervisor.check()
    assert said == ["orders exited with code -9 (SIGKILL) after 5.0s; restarting it in 1s"]
    clock.now += 0.5
    supervisor.check()
    assert len(spawned) == 1, "not before its delay"
    clock.now += 0.5
    supervisor.check()
    assert said[-1] == "orders restarted (pid 1001, restart 1)"
    assert supervisor.procs["orders"] is spawned[1]

    clock.now += 1
    spawned[1].returncode = 1
    supervisor.check()
    assert said[-1] == "orders exited with code 1 after 1.0s; restarting it in 2s"


class DeadPostgres:
    def __init__(self, root: Path) -> None:
        self.root = root

    def dead(self) -> list[str]:
        return ["postgres"]


async def test_a_dead_local_server_stops_the_run_with_its_name_and_log_tail(tmp_path: Path):
    (tmp_path / "postgres.log").write_text("ok\nPANIC:  could not write to file: No space left\n")
    with pytest.raises(ServerDied) as stopped:
        await watch_servers(DeadPostgres(tmp_path))
    message = str(stopped.value)
    assert message.startswith("postgres (started by make run) exited unexpectedly")
    assert f"{tmp_path / 'postgres.log'}:" in message
    assert "PANIC:  could not write to file: No space left" in message
