"""Fakes the logistics tests share (importable by the solver's worker process)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from services.logistics.domain.insertion import greedy_plan
from services.logistics.domain.planning import Plan


class StuckSolver:
    """A solver that never answers in time."""

    def solve(self, problem, matrix, *, seconds, initial=None, seed=0, max_iterations=None) -> Plan:
        time.sleep(3600)
        return Plan()


class HookedSolver:
    """Plans by cheapest insertion in this process, but first awaits `during(n)` (n counts the
    solves from 1): what happens to the wave, and to whoever waits for it, while a real solve
    runs."""

    def __init__(self, during: Callable[[int], Awaitable[None]]) -> None:
        self.during = during
        self.solves = 0

    async def solve(
        self, problem, matrix, *, seconds, initial=None, seed=0, max_iterations=None
    ) -> Plan:
        self.solves += 1
        await self.during(self.solves)
        return greedy_plan(problem, matrix)

    def close(self) -> None:
        pass


def consumer_handlers(pool, planner=None, settings=None) -> dict:
    """Logistics' consumer handlers (event type -> handler) on a bus over `pool`, as bootstrap
    subscribes them: each hands its event to the bus in the consumer's transaction."""
    from services.logistics import bootstrap
    from services.logistics.handlers import Handlers
    from services.logistics.planner import Planner
    from services.logistics.settings import LogisticsSettings
    from tests.logistics.integration.conftest import HAGIANG

    settings = settings or LogisticsSettings()
    planner = planner or Planner(settings, solver=None)  # type: ignore[arg-type]
    bus = bootstrap.message_bus(lambda: pool, Handlers(settings, [HAGIANG]), planner)
    subs = bootstrap.subscriptions(bus, planner, fan_out=True)
    return {model.event_type: h for sub in subs for model, h in sub.handlers.items()}
