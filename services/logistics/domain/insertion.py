"""Cheapest feasible insertion: the instant promise between two solves, and the fallback plan
when a solve cannot finish. Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from services.logistics.domain.matrix import Matrix
from services.logistics.domain.planning import (
    Plan,
    Problem,
    Route,
    VehicleType,
    Visit,
    build_route,
    vehicle_named,
)


@dataclass(frozen=True)
class Placement:
    plan: Plan
    visit: Visit | None  # None: no vehicle of this wave can take the stop
    route: int | None = None


def no_worse(old: Route | None, new: Route, vehicle: VehicleType) -> bool:
    """The new route fits the vehicle and makes no stop later than it was (a stop that was
    already late because its window was impossible stays acceptable)."""
    if not vehicle.fits(new.grams, new.ml):
        return False
    was_late = {v.stop_id: v.late_s for v in old.visits} if old else {}
    if any(v.late_s > was_late.get(v.stop_id, 0) for v in new.visits):
        return False
    return new.end <= max(vehicle.shift_end, old.end if old else vehicle.shift_end)


def place(problem: Problem, matrix: Matrix, plan: Plan, stop_id: str) -> Placement:
    """Put `stop_id` (a stop of `problem`) into `plan` where it adds the least cost.

    A stop already planned (a producer's further parcels for the same wave) stays where it is
    if its route still works, and is moved otherwise.
    """
    index = problem.index()
    for ri, route in enumerate(plan.routes):
        if any(v.stop_id == stop_id for v in route.visits):
            vehicle = vehicle_named(problem, route.vehicle)
            order = [index[v.stop_id] for v in route.visits]
            again = build_route(problem, matrix, vehicle, order)
            if no_worse(route, again, vehicle):
                routes = list(plan.routes)
                routes[ri] = again
                return Placement(replace(plan, routes=tuple(routes)), _visit(again, stop_id), ri)
            rest = [i for i in order if i != index[stop_id]]
            routes = list(plan.routes)
            if rest:
                routes[ri] = build_route(problem, matrix, vehicle, rest)
            else:
                del routes[ri]
            plan = replace(plan, routes=tuple(routes))
            break
    return _insert(problem, matrix, plan, index[stop_id])


def _insert(problem: Problem, matrix: Matrix, plan: Plan, idx: int) -> Placement:
    stop = problem.stops[idx - 1]
    index = problem.index()
    best: tuple[float, int | None, Route] | None = None
    for ri, route in enumerate(plan.routes):
        vehicle = vehicle_named(problem, route.vehicle)
        if not vehicle.fits(route.grams + stop.grams, route.ml + stop.ml):
            continue
        order = [index[v.stop_id] for v in route.visits]
        for pos in range(len(order) + 1):
            before = order[pos - 1] if pos else 0
            after = order[pos] if pos < len(order) else 0
            added_m = (
                matrix.distance(before, idx)
                + matrix.distance(idx, after)
                - matrix.distance(before, after)
            )
            delta = added_m * vehicle.cost_per_km / 1000
            if best is not None and delta >= best[0]:
                continue
            candidate = build_route(problem, matrix, vehicle, [*order[:pos], idx, *order[pos:]])
            if no_worse(route, candidate, vehicle):
                best = (delta, ri, candidate)
    used = Counter(r.vehicle for r in plan.routes)
    for vehicle in problem.vehicles:
        if used[vehicle.name] >= vehicle.count:
            continue
        candidate = build_route(problem, matrix, vehicle, [idx])
        if (best is None or candidate.cost < best[0]) and no_worse(None, candidate, vehicle):
            best = (float(candidate.cost), None, candidate)
    if best is None:
        return Placement(plan, None)
    _, target, new_route = best
    routes = list(plan.routes)
    if target is None:
        routes.append(new_route)
    else:
        routes[target] = new_route
    ri = len(routes) - 1 if target is None else target
    deferred = tuple(d for d in plan.deferred if d != stop.stop_id)
    unserved = tuple(u for u in plan.unserved if u != stop.stop_id)
    placed = replace(plan, routes=tuple(routes), deferred=deferred, unserved=unserved)
    return Placement(placed, _visit(new_route, stop.stop_id), ri)


def _visit(route: Route, stop_id: str) -> Visit:
    return next(v for v in route.visits if v.stop_id == stop_id)


def greedy_plan(problem: Problem, matrix: Matrix) -> Plan:
    """Every stop by cheapest insertion, earliest window first: what a wave gets when the solver
    cannot answer in time."""
    plan = Plan(solver="insertion")
    order = sorted(problem.stops, key=lambda s: (s.window_end, s.window_start, s.stop_id))
    for stop in order:
        placed = _insert(problem, matrix, plan, problem.index()[stop.stop_id])
        if placed.visit is not None:
            plan = placed.plan
        elif stop.deferrable:
            plan = replace(plan, deferred=(*plan.deferred, stop.stop_id))
        else:
            plan = replace(plan, unserved=(*plan.unserved, stop.stop_id))
    return plan
