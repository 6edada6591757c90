"""Solves run in a worker process under a hard time limit.

PyVRP holds the GIL and one core for the whole solve, so it must not run on the service's event
loop. The solver is asked to stop at `seconds`; if the worker has not answered `grace_s` later
(a stuck or crashed process), it is killed and the wave gets the insertion plan instead, so a
cut-off always produces a plan.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
from dataclasses import replace

import structlog

from services.logistics.domain.insertion import greedy_plan
from services.logistics.domain.matrix import Matrix
from services.logistics.domain.planning import Plan, Problem, Solver

log = structlog.get_logger(__name__)


def _run(solver: Solver, problem, matrix, seconds, initial, seed, max_iterations) -> Plan:
    return solver.solve(
        problem, matrix, seconds=seconds, initial=initial, seed=seed, max_iterations=max_iterations
    )


class ProcessSolver:
    """A Solver that runs another one in a separate process, at most `workers` at a time."""

    def __init__(self, inner: Solver, *, workers: int = 1, grace_s: float = 5.0) -> None:
        self._inner = inner
        self._workers = workers
        self._grace_s = grace_s
        self._pool: cf.ProcessPoolExecutor | None = None

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")  # no fork of a process with threads
            self._pool = cf.ProcessPoolExecutor(self._workers, mp_context=ctx)
        return self._pool

    def _kill(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The executor has no public way to stop a running task: terminate its processes.
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self._kill()

    async def solve(
        self,
        problem: Problem,
        matrix: Matrix,
        *,
        seconds: float,
        initial: Plan | None = None,
        seed: int = 0,
        max_iterations: int | None = None,
    ) -> Plan:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor(),
            _run,
            self._inner,
            problem,
            matrix,
            seconds,
            initial,
            seed,
            max_iterations,
        )
        try:
            return await asyncio.wait_for(future, timeout=seconds + self._grace_s)
        except (TimeoutError, cf.process.BrokenProcessPool) as exc:
            log.error("solver.abandoned", error=repr(exc), limit_s=seconds + self._grace_s)
            self._kill()
            return replace(greedy_plan(problem, matrix), notes=(f"solver abandoned: {exc!r}",))
