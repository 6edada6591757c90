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
