"""The routing problem of one hub-wave, its plan, and the schedule of a route. Pure: no I/O.

Units are integers throughout, as the solver wants them: grams, millilitres, metres, seconds since
the plan's local midnight, and costs in the currency's minor unit (VND has none).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from services.logistics.domain.matrix import Matrix


@dataclass(frozen=True)
class VehicleType:
    name: str
    capacity_kg: float
    capacity_l: float
    fixed_cost: int
    cost_per_km: int
    count: int
    shift_start: int  # seconds since midnight
    shift_end: int

    @property
    def capacity(self) -> tuple[int, int]:
        return round(self.capacity_kg * 1000), round(self.capacity_l * 1000)

    def fits(self, grams: int, ml: int) -> bool:
        cap_g, cap_ml = self.capacity
        return grams <= cap_g and ml <= cap_ml


@dataclass(frozen=True)
class Stop:
    """One pickup: a producer's parcels of one wave, merged."""

    stop_id: str
    lat: float
    lon: float
    grams: int
    ml: int
    window_start: int
    window_end: int
    release: int = 0  # when the goods are ready
    service_s: int = 300
    deferrable: bool = False
    defer_cost: int = 0  # the prize of visiting it in this wave
    parcels: int = 1
    village: str = ""


@dataclass(frozen=True)
class Problem:
    depot_lat: float
    depot_lon: float
    vehicles: tuple[VehicleType, ...]
    stops: tuple[Stop, ...]

    def points(self) -> list[tuple[float, float]]:
        """Index 0 is the hub, index i + 1 is stop i."""
        return [(self.depot_lat, self.depot_lon), *((s.lat, s.lon) for s in self.stops)]

    def index(self) -> dict[str, int]:
        return {s.stop_id: i + 1 for i, s in enumerate(self.stops)}


@dataclass(frozen=True)
class Visit:
    stop_id: str
    arrival: int
    late_s: int = 0


@dataclass(frozen=True)
class Route:
    vehicle: str
    visits: tuple[Visit, ...]
    distance_m: int
    cost: int
    grams: int
    ml: int
    start: int
    end: int


@dataclass(frozen=True)
class Plan:
    routes: tuple[Route, ...] = ()
    deferred: tuple[str, ...] = ()  # optional stops left for a later wave
    unserved: tuple[str, ...] = ()  # required stops no vehicle could take
    solver: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.routes)

    @property
    def distance_m(self) -> int:
        return sum(r.distance_m for r in self.routes)

    def visits(self) -> dict[str, Visit]:
        return {v.stop_id: v for r in self.routes for v in r.visits}

    def late(self) -> list[str]:
        return [v.stop_id for r in self.routes for v in r.visits if v.late_s > 0]


class Solver(Protocol):
    """Plans a problem within `seconds` (or `max_iterations`, for reproducible tests)."""

    def solve(
        self,
        problem: Problem,
        matrix: Matrix,
        *,
        seconds: float,
        initial: Plan | None = None,
        seed: int = 0,
        max_iterations: int | None = None,
    ) -> Plan: ...


def route_cost(vehicle: VehicleType, distance_m: int) -> int:
    return vehicle.fixed_cost + round(distance_m * vehicle.cost_per_km / 1000)


def build_route(
    problem: Problem, matrix: Matrix, vehicle: VehicleType, stop_idx: Sequence[int]
) -> Route:
    """The route visiting stops (matrix indices) in this order, with its schedule.

    The vehicle leaves the hub once all its goods are ready and the shift has begun, waits at a
    stop that is not open yet, and is late where it arrives after the window: lateness is
    reported, never refused, so an impossible window shows as a late stop.
    """
    stops = [problem.stops[i - 1] for i in stop_idx]
    t = max([vehicle.shift_start, *(s.release for s in stops)])
    prev, distance, visits = 0, 0, []
    for i, stop in zip(stop_idx, stops, strict=True):
        t = max(t + matrix.duration(prev, i), stop.window_start)
        visits.append(Visit(stop.stop_id, t, max(0, t - stop.window_end)))
        distance += matrix.distance(prev, i)
        t += stop.service_s
        prev = i
    distance += matrix.distance(prev, 0)
    end = t + matrix.duration(prev, 0)
    return Route(
        vehicle=vehicle.name,
        visits=tuple(visits),
        distance_m=distance,
        cost=route_cost(vehicle, distance),
        grams=sum(s.grams for s in stops),
        ml=sum(s.ml for s in stops),
        start=max([vehicle.shift_start, *(s.release for s in stops)]),
        end=end,
    )


def is_feasible(route: Route, vehicle: VehicleType) -> bool:
    return (
        vehicle.fits(route.grams, route.ml)
        and route.end <= vehicle.shift_end
        and all(v.late_s == 0 for v in route.visits)
    )


def vehicle_named(problem: Problem, name: str) -> VehicleType:
    for v in problem.vehicles:
        if v.name == name:
            return v
    raise KeyError(name)


def rebuild(problem: Problem, matrix: Matrix, plan: Plan) -> Plan:
    """The plan's stop order on this problem: stops no longer in it (cancelled) are dropped and
    every route's schedule, distance and load are computed afresh."""
    index = problem.index()
    routes = []
    for r in plan.routes:
        order = [index[v.stop_id] for v in r.visits if v.stop_id in index]
        if order:
            routes.append(build_route(problem, matrix, vehicle_named(problem, r.vehicle), order))
    return replace(plan, routes=tuple(routes))


def plan_to_json(plan: Plan) -> dict:
    """What a wave's state keeps of a plan: each route's vehicle and stop order (schedules, loads
    and costs are recomputed on the current stops by `rebuild`)."""
    return {
        "routes": [
            {"vehicle": r.vehicle, "stops": [v.stop_id for v in r.visits]} for r in plan.routes
        ],
        "deferred": list(plan.deferred),
        "unserved": list(plan.unserved),
        "solver": plan.solver,
    }


def plan_from_json(data: dict) -> Plan:
    routes = tuple(
        Route(r["vehicle"], tuple(Visit(s, 0) for s in r["stops"]), 0, 0, 0, 0, 0, 0)
        for r in data.get("routes", [])
    )
    return Plan(
        routes=routes,
        deferred=tuple(data.get("deferred", ())),
        unserved=tuple(data.get("unserved", ())),
        solver=data.get("solver", ""),
    )
