"""Plan one problem end to end: matrix, solver in its worker process, KPIs beside the baselines.
Shared by the wave solve, the CLI and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from services.logistics.adapters.pyvrp_solver import PyVRPSolver
from services.logistics.adapters.worker import ProcessSolver
from services.logistics.domain.kpis import compare
from services.logistics.domain.matrix import Matrix, MatrixProvider
from services.logistics.domain.planning import Plan, Problem, rebuild


class AsyncSolver(Protocol):
    """A `Solver` off the event loop (`ProcessSolver`), closed when the service stops."""

    async def solve(
        self,
        problem: Problem,
        matrix: Matrix,
        *,
        seconds: float,
        initial: Plan | None = None,
        seed: int = 0,
        max_iterations: int | None = None,
    ) -> Plan: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Planned:
    plan: Plan
    matrix: Matrix
    kpis: dict[str, Any]


async def plan_problem(
    problem: Problem,
    provider: MatrixProvider,
    solver: AsyncSolver,
    *,
    seconds: float,
    initial: Plan | None = None,
    seed: int = 0,
    max_iterations: int | None = None,
) -> Planned:
    """`initial`, a plan's stop order (a wave's current plan), is re-timed on this problem and
    warm-starts the solver when any of its routes remains."""
    matrix = await provider.matrix(problem.points())
    start = rebuild(problem, matrix, initial) if initial is not None else None
    plan = await solver.solve(
        problem,
        matrix,
        seconds=seconds,
        initial=start if start and start.routes else None,
        seed=seed,
        max_iterations=max_iterations,
    )
    return Planned(plan, matrix, compare(problem, matrix, plan))


def default_solver(workers: int = 1) -> ProcessSolver:
    return ProcessSolver(PyVRPSolver(), workers=workers)
