"""The wave solver's gap to the best-known solutions of the CVRPLIB X instances (n = 101..200).

Each instance goes through the service's own path: the Solver protocol's PyVRP adapter, in the
worker process, under its time limit. The same-run baseline is the service's fallback plan
(cheapest insertion), which a wave gets when a solve cannot finish.

    .venv/bin/python bench/solver_gap.py [--seconds 10] [--data DIR] [--only X-n101-k25,...]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import vrplib

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.logistics.adapters.pyvrp_solver import PyVRPSolver  # noqa: E402
from services.logistics.adapters.worker import ProcessSolver  # noqa: E402
from services.logistics.domain.insertion import greedy_plan  # noqa: E402
from services.logistics.domain.matrix import Matrix  # noqa: E402
from services.logistics.domain.planning import Problem, Stop, VehicleType  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "cvrplib-x"
DAY = 10**6  # no time windows in CVRP


def problem_of(path: Path) -> tuple[Problem, Matrix]:
    inst = vrplib.read_instance(str(path))
    coords = np.asarray(inst["node_coord"], dtype=float)
    diff = coords[:, None, :] - coords[None, :, :]
    dist = np.rint(np.sqrt((diff**2).sum(-1))).astype(np.int64)  # EUC_2D, rounded
    depot = int(inst["depot"][0])
    order = [depot] + [i for i in range(len(coords)) if i != depot]
    dist = dist[np.ix_(order, order)]
    demand = np.asarray(inst["demand"])[order]
    # One vehicle type; cost 1 per distance unit ("cost_per_km" of 1000 per 1000 units).
    vehicle = VehicleType("truck", inst["capacity"] / 1000, 1.0, 0, 1000, len(order), 0, DAY)
    xy = coords[order]  # PyVRP's geometric operators read the coordinates: keep them
    stops = tuple(
        Stop(f"c{i}", xy[i, 1], xy[i, 0], int(demand[i]), 0, 0, DAY, service_s=0)
        for i in range(1, len(order))
    )
    problem = Problem(xy[0, 1], xy[0, 0], (vehicle,), stops)
    return problem, Matrix(dist, np.zeros_like(dist))


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--only", help="comma-separated instance names (default: all)")
    args = ap.parse_args()
    bks = {r["instance"]: int(r["bks"]) for r in csv.DictReader(open(args.data / "bks.csv"))}
    names = args.only.split(",") if args.only else sorted(bks)
    solver = ProcessSolver(PyVRPSolver(), workers=1, grace_s=30)
    gaps, fallback_gaps, walls = [], [], []
    print(f"PyVRP via the service's Solver, {args.seconds:g} s per instance, seed 0")
    try:
        for name in names:
            problem, matrix = problem_of(args.data / f"{name}.vrp")
            greedy = greedy_plan(problem, matrix)
            started = time.perf_counter()
            plan = await solver.solve(problem, matrix, seconds=args.seconds)
            walls.append(time.perf_counter() - started)
            assert not plan.unserved and not plan.deferred, name
            gap = 100 * (plan.distance_m - bks[name]) / bks[name]
            base = 100 * (greedy.distance_m - bks[name]) / bks[name]
            gaps.append(gap)
            fallback_gaps.append(base)
            print(f"{name:<12} best-known {bks[name]:>7}  ours {plan.distance_m:>7}  "
                  f"gap {gap:6.2f}%  (insertion {base:6.2f}%)  wall {walls[-1]:5.1f} s",
                  flush=True)
    finally:
        solver.close()
    mean, worst = statistics.mean(gaps), max(gaps)
    print(f"\n{len(gaps)} instances: mean gap {mean:.2f}% (goal <= 1%), worst {worst:.2f}%, "
          f"mean wall {statistics.mean(walls):.1f} s")
    print(f"same-run baseline, cheapest insertion: mean gap {statistics.mean(fallback_gaps):.2f}%"
          f" -> the solver's cost is {(100 + mean) / (100 + statistics.mean(fallback_gaps)):.3f}"
          " x the insertion plan's")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
