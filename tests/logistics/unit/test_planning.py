"""The wave solver, the instant promise and the KPIs, on small problems with a fixed seed and an
iteration bound (reproducible, not timed)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from services.logistics.adapters.pyvrp_solver import PyVRPSolver
from services.logistics.adapters.worker import ProcessSolver
from services.logistics.domain.insertion import greedy_plan, place
from services.logistics.domain.kpis import compare, one_trip_per_order, plan_kpis
from services.logistics.domain.matrix import haversine_matrix
from services.logistics.domain.planning import Plan, Problem, Stop, VehicleType, is_feasible
from services.logistics.domain.scenario import Scenario
from tests.logistics.fakes import StuckSolver

DEMO = Path(__file__).resolve().parents[3] / "services/logistics/demo/scenario.json"
H = 3600
BIKE = VehicleType("motorbike", 30, 40, 100_000, 2_000, 4, 7 * H, 19 * H)
VAN = VehicleType("van", 500, 2000, 400_000, 6_000, 1, 7 * H, 19 * H)


def stop(i: int, lat: float, lon: float, kg: float = 5, **kw) -> Stop:
    values = dict(window_start=8 * H, window_end=12 * H, village=f"V{i % 3}")
    return Stop(f"S{i}", lat, lon, round(kg * 1000), round(kg * 1200), **(values | kw))


def problem(stops, vehicles=(BIKE, VAN)) -> Problem:
    return Problem(22.82, 104.98, tuple(vehicles), tuple(stops))


def solve(p: Problem, **kw) -> Plan:
    return PyVRPSolver().solve(
        p, haversine_matrix(p.points()), seconds=5, seed=1, max_iterations=300, **kw
    )


def near(i: int) -> tuple[float, float]:
    return 22.82 + 0.01 * (i % 5), 104.98 + 0.01 * (i // 5)


def test_a_plan_respects_both_capacities_the_windows_and_the_fleet():
    p = problem([stop(i, *near(i), kg=6 + i % 4) for i in range(20)])
    plan = solve(p)
    assert sorted(v.stop_id for r in plan.routes for v in r.visits) == sorted(
        s.stop_id for s in p.stops
    )
    vehicles = {v.name: v for v in p.vehicles}
    for r in plan.routes:
        assert is_feasible(r, vehicles[r.vehicle])
    assert sum(1 for r in plan.routes if r.vehicle == "van") <= VAN.count
    assert plan.unserved == () and plan.late() == []


def test_litres_alone_can_fill_a_vehicle():
    bulky = [stop(i, *near(i), kg=1) for i in range(6)]
    bulky = [Stop(**(s.__dict__ | {"ml": 15_000})) for s in bulky]  # 15 l each, 1 kg
    plan = solve(problem(bulky, vehicles=(BIKE,)))
    assert all(r.ml <= 40_000 for r in plan.routes)
    assert len(plan.routes) == 3


def test_a_far_deferrable_stop_worth_less_than_its_detour_is_deferred():
    far = stop(99, 23.30, 105.40, deferrable=True, defer_cost=1_000)
    plan = solve(problem([stop(1, *near(1)), far]))
    assert plan.deferred == ("S99",)
    assert "S99" not in plan.visits()


def test_an_impossible_window_is_planned_late_not_refused():
    early = stop(1, 23.10, 105.20, window_start=7 * H, window_end=7 * H + 60)
    plan = solve(problem([early, stop(2, *near(2))]))
    assert plan.late() == ["S1"]
    assert plan.visits()["S1"].late_s > 0


def test_required_stops_beyond_the_fleet_are_reported_unserved():
    p = problem([stop(i, *near(i), kg=25) for i in range(6)], vehicles=(BIKE,))
    plan = solve(p)
    assert len(plan.unserved) == 2 and len(plan.routes) == 4


def test_the_warm_started_solve_is_no_worse_than_the_plan_it_starts_from():
    p = problem([stop(i, *near(i), kg=3) for i in range(25)])
    matrix = haversine_matrix(p.points())
    start = greedy_plan(p, matrix)
    warm = PyVRPSolver().solve(p, matrix, seconds=5, seed=1, max_iterations=50, initial=start)
    assert warm.cost <= start.cost


def test_the_instant_promise_inserts_at_the_cheapest_feasible_place():
    stops = [stop(i, *near(i), kg=3) for i in range(10)]
    p = problem(stops)
    matrix = haversine_matrix(p.points())
    plan = greedy_plan(Problem(p.depot_lat, p.depot_lon, p.vehicles, p.stops[:-1]), matrix)
    placed = place(p, matrix, plan, "S9")
    assert placed.visit is not None and placed.visit.late_s == 0
    before = plan.cost
    assert placed.plan.cost - before <= greedy_plan(
        Problem(p.depot_lat, p.depot_lon, p.vehicles, (stops[-1],)),
        haversine_matrix([(p.depot_lat, p.depot_lon), (stops[-1].lat, stops[-1].lon)]),
    ).cost


def test_the_instant_promise_says_no_when_no_vehicle_is_left():
    p = problem([stop(0, *near(0), kg=25), stop(1, *near(1), kg=25)], vehicles=(BIKE,))
    one_bike = Problem(p.depot_lat, p.depot_lon, (VehicleType(**(BIKE.__dict__ | {"count": 1})),),
                       p.stops)
    matrix = haversine_matrix(p.points())
    first = place(one_bike, matrix, Plan(), "S0")
    assert first.visit is not None
    assert place(one_bike, matrix, first.plan, "S1").visit is None


def test_a_consolidated_plan_costs_far_less_than_one_trip_per_order():
    scenario = Scenario.model_validate(json.loads(DEMO.read_text()))
    p = scenario.problem()
    plan = solve(p)
    figures = compare(p, haversine_matrix(p.points()), plan)
    assert figures["cost_ratio"]["vs_one_trip_per_order"] < 0.2
    assert figures["cost_ratio"]["vs_one_trip_per_village"] < 1
    assert plan_kpis(p, plan).parcels == one_trip_per_order(p, haversine_matrix(p.points())).parcels


def test_a_solver_that_overruns_its_hard_limit_is_killed_and_the_wave_still_gets_a_plan():
    p = problem([stop(i, *near(i), kg=3) for i in range(5)])
    solver = ProcessSolver(StuckSolver(), grace_s=0.5)
    try:
        plan = asyncio.run(solver.solve(p, haversine_matrix(p.points()), seconds=0.5))
    finally:
        solver.close()
    assert plan.solver == "insertion" and plan.notes
    assert len(plan.visits()) == 5


def test_a_hub_without_vehicles_leaves_every_stop_unplanned_without_crashing():
    p = problem([stop(1, *near(1)), stop(2, *near(2), deferrable=True)], vehicles=())
    plan = solve(p)
    assert plan.routes == () and plan.unserved == ("S1",) and plan.deferred == ("S2",)
    figures = compare(p, haversine_matrix(p.points()), plan)
    assert figures["plan"]["cost"] == 0 and figures["one_trip_per_order"]["cost"] == 0
