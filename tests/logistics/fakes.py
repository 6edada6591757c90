"""Fakes the logistics tests share (importable by the solver's worker process)."""

from __future__ import annotations

import time

from services.logistics.domain.planning import Plan


class StuckSolver:
    """A solver that never answers in time."""

    def solve(self, problem, matrix, *, seconds, initial=None, seed=0, max_iterations=None) -> Plan:
        time.sleep(3600)
        return Plan()
