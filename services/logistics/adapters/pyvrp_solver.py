"""The Solver on PyVRP: pickups with loads in [grams, millilitres], time windows, release
times, a mixed fleet with fixed and per-km costs, and deferrable stops as optional clients
whose prize is the cost of deferring them.

PyVRP wants integers: distances are in metres, and a cost unit of `u` milli-VND, with `u` the
greatest common divisor of the fleet's per-km costs, keeps per-metre costs small integers: PyVRP
searches worse when they are large (bench/README.md). The plan's costs are computed back in VND
by `build_route`.
"""

from __future__ import annotations

import math

from pyvrp import Model
from pyvrp import Route as PyvrpRoute
from pyvrp import Solution as PyvrpSolution
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

from services.logistics.domain.matrix import Matrix
from services.logistics.domain.planning import Plan, Problem, Stop, build_route


def cost_unit(problem: Problem) -> int:
    """Milli-VND per PyVRP cost unit."""
    return math.gcd(*(v.cost_per_km for v in problem.vehicles)) or 1000


def _scaled(vnd: int, unit: int) -> int:
    return round(vnd * 1000 / unit)


def _window(problem: Problem, matrix: Matrix, i: int, stop: Stop) -> tuple[int, int]:
    """A window no vehicle can reach is opened to the end of the longest shift, so the stop is
    planned (and reported late) instead of making the whole problem infeasible."""
    earliest = min(v.shift_start for v in problem.vehicles) + matrix.duration(0, i)
    latest = max(v.shift_end for v in problem.vehicles)
    if stop.window_end < max(earliest, stop.release, stop.window_start):
        return min(stop.window_start, latest), latest
    return stop.window_start, stop.window_end


def build_model(problem: Problem, matrix: Matrix, *, all_optional: bool = False) -> Model:
    m = Model()
    unit = cost_unit(problem)
    depot_loc = m.add_location(problem.depot_lon, problem.depot_lat, name="hub")
    depot = m.add_depot(depot_loc)
    locations = [depot_loc]
    for i, stop in enumerate(problem.stops, start=1):
        loc = m.add_location(stop.lon, stop.lat, name=stop.stop_id)
        locations.append(loc)
        early, late = _window(problem, matrix, i, stop)
        required = not stop.deferrable and not all_optional
        prize = stop.defer_cost if stop.deferrable else _must_prize(problem, matrix, i)
        m.add_client(
            loc,
            pickup=[stop.grams, stop.ml],
            service_duration=stop.service_s,
            tw_early=early,
            tw_late=late,
            release_time=stop.release,
            prize=0 if required else _scaled(prize, unit),
            required=required,
            name=stop.stop_id,
        )
    for v in problem.vehicles:
        m.add_vehicle_type(
            num_available=v.count,
            capacity=list(v.capacity),
            start_depot=depot,
            end_depot=depot,
            fixed_cost=_scaled(v.fixed_cost, unit),
            tw_early=v.shift_start,
            tw_late=v.shift_end,
            unit_distance_cost=v.cost_per_km // unit,
            name=v.name,
        )
    for a, la in enumerate(locations):
        for b, lb in enumerate(locations):
            if a != b:
                m.add_edge(la, lb, matrix.distance(a, b), matrix.duration(a, b))
    return m


def _must_prize(problem: Problem, matrix: Matrix, i: int) -> int:
    """A required stop made optional (second pass) is worth more than a dedicated trip."""
    dearest = max(
        v.fixed_cost + v.cost_per_km * 2 * matrix.distance(0, i) // 1000 for v in problem.vehicles
    )
    return 10 * dearest + 1_000_000


class PyVRPSolver:
    name = "pyvrp"

    def solve(
        self,
        problem: Problem,
        matrix: Matrix,
        *,
        seconds: float,
        initial: Plan | None = None,
        seed: int = 0,
        max_iterations: int | None = None,
    ) -> Plan:
        if not problem.stops or not problem.vehicles:
            return Plan(
                deferred=tuple(s.stop_id for s in problem.stops if s.deferrable),
                unserved=tuple(s.stop_id for s in problem.stops if not s.deferrable),
                solver=self.name,
            )
        plan = self._solve(problem, matrix, seconds, initial, seed, max_iterations, False)
        if plan is None:
            # The fleet cannot take every required stop: plan what it can, say what is left.
            plan = self._solve(problem, matrix, seconds, None, seed, max_iterations, True)
            assert plan is not None
        return plan

    def _solve(self, problem, matrix, seconds, initial, seed, max_iterations, all_optional):
        model = build_model(problem, matrix, all_optional=all_optional)
        data = model.data()
        stop = MaxRuntime(seconds)
        if max_iterations is not None:
            stop = MultipleCriteria([MaxIterations(max_iterations), stop])
        warm = _warm_start(problem, data, initial) if initial else None
        result = model.solve(stop, seed=seed, display=False, initial_solution=warm)
        best = result.best
        if not best.is_feasible() and not all_optional:
            return None
        return self._to_plan(problem, matrix, best)

    def _to_plan(self, problem: Problem, matrix: Matrix, best) -> Plan:
        routes = []
        for r in best.routes():
            vehicle = problem.vehicles[r.vehicle_type()]
            order = [a.idx + 1 for a in r if a.is_client()]
            routes.append(build_route(problem, matrix, vehicle, order))
        visited = {v.stop_id for r in routes for v in r.visits}
        left = [s for s in problem.stops if s.stop_id not in visited]
        return Plan(
            routes=tuple(routes),
            deferred=tuple(s.stop_id for s in left if s.deferrable),
            unserved=tuple(s.stop_id for s in left if not s.deferrable),
            solver=self.name,
        )


def _warm_start(problem: Problem, data, initial: Plan):
    """The current plan as PyVRP's first solution; None when it no longer fits the problem."""
    index = problem.index()
    names = [v.name for v in problem.vehicles]
    used: dict[str, int] = {}
    routes = []
    for r in initial.routes:
        if r.vehicle not in names:
            continue
        used[r.vehicle] = used.get(r.vehicle, 0) + 1
        if used[r.vehicle] > problem.vehicles[names.index(r.vehicle)].count:
            continue
        visits = [index[v.stop_id] - 1 for v in r.visits if v.stop_id in index]
        if visits:
            routes.append(PyvrpRoute(data, visits, names.index(r.vehicle)))
    try:
        return PyvrpSolution(data, routes)
    except (ValueError, RuntimeError, IndexError):
        return None

