"""A plan's KPIs, and the same figures for two baselines on the same stops: one round trip per
order, and one trip per village. Pure.

The baselines ignore time windows: they price what a courier without consolidation would drive.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, fields
from typing import Any

from services.logistics.domain.matrix import Matrix
from services.logistics.domain.planning import Plan, Problem, Stop, VehicleType, route_cost


@dataclass(frozen=True)
class Kpis:
    """Sums, so that waves add up to a day; ratios are derived in `as_dict`."""

    cost: int = 0
    distance_m: int = 0
    routes: int = 0
    stops: int = 0
    parcels: int = 0
    grams: int = 0
    ml: int = 0
    capacity_g: int = 0
    capacity_ml: int = 0
    on_time: int = 0
    late: int = 0
    deferred: int = 0
    unserved: int = 0

    def __add__(self, other: Kpis) -> Kpis:
        summed = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Kpis)}
        return Kpis(**summed)

    def as_dict(self) -> dict[str, Any]:
        visited = self.on_time + self.late
        asked = visited + self.deferred + self.unserved
        return asdict(self) | {
            "km": round(self.distance_m / 1000, 1),
            "stops_per_route": _ratio(self.stops, self.routes),
            "parcels_per_stop": _ratio(self.parcels, self.stops),
            "weight_fill": _ratio(self.grams, self.capacity_g, 3),
            "volume_fill": _ratio(self.ml, self.capacity_ml, 3),
            "on_time_pct": _ratio(100 * self.on_time, visited, 1),
            "deferred_pct": _ratio(100 * self.deferred, asked, 1),
            "cost_per_parcel": _ratio(self.cost, self.parcels, 0),
            "km_per_parcel": _ratio(self.distance_m / 1000, self.parcels, 2),
        }


def _ratio(a: float, b: float, digits: int = 2) -> float:
    return round(a / b, digits) if b else 0.0


def plan_kpis(problem: Problem, plan: Plan) -> Kpis:
    stops = {s.stop_id: s for s in problem.stops}
    vehicles = {v.name: v for v in problem.vehicles}
    visits = [v for r in plan.routes for v in r.visits]
    return Kpis(
        cost=plan.cost,
        distance_m=plan.distance_m,
        routes=len(plan.routes),
        stops=len(visits),
        parcels=sum(stops[v.stop_id].parcels for v in visits),
        grams=sum(r.grams for r in plan.routes),
        ml=sum(r.ml for r in plan.routes),
        capacity_g=sum(vehicles[r.vehicle].capacity[0] for r in plan.routes),
        capacity_ml=sum(vehicles[r.vehicle].capacity[1] for r in plan.routes),
        on_time=sum(1 for v in visits if v.late_s == 0),
        late=sum(1 for v in visits if v.late_s > 0),
        deferred=len(plan.deferred),
        unserved=len(plan.unserved),
    )


def _cheapest(vehicles: tuple[VehicleType, ...], grams: int, ml: int, metres: int) -> VehicleType:
    fitting = [v for v in vehicles if v.fits(grams, ml)] or [
        max(vehicles, key=lambda v: v.capacity)
    ]
    return min(fitting, key=lambda v: route_cost(v, metres))


def one_trip_per_order(problem: Problem, matrix: Matrix) -> Kpis:
    """Every order (a stop's parcels, one by one) fetched by its own round trip."""
    total = Kpis()
    if not problem.vehicles:
        return total
    for i, stop in enumerate(problem.stops, start=1):
        n = max(stop.parcels, 1)
        metres = matrix.distance(0, i) + matrix.distance(i, 0)
        grams, ml = -(-stop.grams // n), -(-stop.ml // n)
        vehicle = _cheapest(problem.vehicles, grams, ml, metres)
        cap_g, cap_ml = vehicle.capacity
        total += Kpis(
            cost=n * route_cost(vehicle, metres),
            distance_m=n * metres,
            routes=n,
            stops=n,
            parcels=n,
            grams=stop.grams,
            ml=stop.ml,
            capacity_g=n * cap_g,
            capacity_ml=n * cap_ml,
            on_time=n,
        )
    return total


def one_trip_per_village(problem: Problem, matrix: Matrix) -> Kpis:
    """Each village's stops gathered by their own trips (nearest neighbour from the hub), a new
    trip whenever the biggest vehicle is full."""
    if not problem.vehicles:
        return Kpis()
    villages: dict[str, list[int]] = defaultdict(list)
    for i, stop in enumerate(problem.stops, start=1):
        villages[stop.village or stop.stop_id].append(i)
    biggest = max(problem.vehicles, key=lambda v: v.capacity)
    total = Kpis()
    for members in villages.values():
        for trip in _fill_trips(problem.stops, members, biggest):
            order = _nearest_neighbour(matrix, trip)
            path = [0, *order, 0]
            metres = sum(matrix.distance(a, b) for a, b in zip(path, path[1:], strict=False))
            grams = sum(problem.stops[i - 1].grams for i in trip)
            ml = sum(problem.stops[i - 1].ml for i in trip)
            vehicle = _cheapest(problem.vehicles, grams, ml, metres)
            cap_g, cap_ml = vehicle.capacity
            total += Kpis(
                cost=route_cost(vehicle, metres),
                distance_m=metres,
                routes=1,
                stops=len(trip),
                parcels=sum(problem.stops[i - 1].parcels for i in trip),
                grams=grams,
                ml=ml,
                capacity_g=cap_g,
                capacity_ml=cap_ml,
                on_time=len(trip),
            )
    return total


def _fill_trips(
    stops: tuple[Stop, ...], members: list[int], vehicle: VehicleType
) -> list[list[int]]:
    cap_g, cap_ml = vehicle.capacity
    trips: list[list[int]] = [[]]
    grams = ml = 0
    for i in members:
        s = stops[i - 1]
        if trips[-1] and (grams + s.grams > cap_g or ml + s.ml > cap_ml):
            trips.append([])
            grams = ml = 0
        trips[-1].append(i)
        grams, ml = grams + s.grams, ml + s.ml
    return trips


def _nearest_neighbour(matrix: Matrix, members: list[int]) -> list[int]:
    left, order, here = set(members), [], 0
    while left:
        here = min(left, key=lambda j: (matrix.distance(here, j), j))
        order.append(here)
        left.remove(here)
    return order


def compare(problem: Problem, matrix: Matrix, plan: Plan) -> dict[str, dict[str, Any]]:
    """The plan beside both baselines, with the plan's saving against each."""
    ours = plan_kpis(problem, plan)
    per_order = one_trip_per_order(problem, matrix)
    per_village = one_trip_per_village(problem, matrix)
    return {
        "plan": ours.as_dict(),
        "one_trip_per_order": per_order.as_dict(),
        "one_trip_per_village": per_village.as_dict(),
        "cost_ratio": {
            "vs_one_trip_per_order": _ratio(ours.cost, per_order.cost, 3),
            "vs_one_trip_per_village": _ratio(ours.cost, per_village.cost, 3),
        },
    }
