"""Instant promise latency: placing one new parcel into a busy hub-wave's current plan by
cheapest feasible insertion (the producer's pickup window comes from this), against re-solving
the wave, the alternative, measured in the same run.

Two paths are timed on the busiest hub-wave of the generated rural day (~260 stops, ~1,100
parcels already planned):
- compute: the matrix over the wave's stops, the plan rebuilt on them, the insertion;
- handler (when DATABASE_URL names a PostgreSQL server): the service's ParcelQueued handler
  itself, loading the wave's shipments and plan, placing and saving, in a transaction that is
  rolled back after each promise so every one sees the same wave.

    .venv/bin/python -m shared.devstack exec --fresh --root .devstack/bench -- \
        .venv/bin/python bench/instant_promise.py [--promises 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pct  # noqa: E402

from services.logistics import bootstrap  # noqa: E402
from services.logistics.adapters import postgres as db  # noqa: E402
from services.logistics.adapters.uow import PostgresLogisticsUnitOfWork  # noqa: E402
from services.logistics.commands import PromisePickup  # noqa: E402
from services.logistics.demo.generate import FLEET, rural_day  # noqa: E402
from services.logistics.domain.config import FleetSpec, HubConfig, VehicleSpec  # noqa: E402
from services.logistics.domain.insertion import greedy_plan, place  # noqa: E402
from services.logistics.domain.matrix import haversine_matrix  # noqa: E402
from services.logistics.domain.messages import ParcelQueued  # noqa: E402
from services.logistics.domain.network import cutoff_of, next_wave  # noqa: E402
from services.logistics.domain.planning import Stop, plan_to_json, rebuild  # noqa: E402
from services.logistics.domain.scenario import Scenario  # noqa: E402
from services.logistics.planner import Planner  # noqa: E402
from services.logistics.settings import LogisticsSettings  # noqa: E402
from services.logistics.solving import default_solver  # noqa: E402
from shared.contracts.envelope import Envelope  # noqa: E402
from shared.db.pool import create_pool, ensure_database, migrate  # noqa: E402
from shared.logging import configure_logging  # noqa: E402
from shared.settings import with_database  # noqa: E402


def summary(label: str, values: list[float]) -> str:
    return (f"{label:<34} n={len(values):<4} p50 {pct(values, 50) * 1e3:6.1f} ms  "
            f"p99 {pct(values, 99) * 1e3:6.1f} ms  max {max(values) * 1e3:6.1f} ms")


def busiest():
    day = rural_day()
    (hub, wave), spec = max(day.items(), key=lambda kv: len(kv[1]["stops"]))
    return hub, spec, Scenario.model_validate(spec).problem()


def new_stop(rng: random.Random, problem, n: int) -> Stop:
    base = rng.choice(problem.stops)
    return replace(base, stop_id=f"NEW-{n}", lat=base.lat + rng.uniform(-0.05, 0.05),
                   lon=base.lon + rng.uniform(-0.05, 0.05), grams=1500, ml=1800, parcels=1)


def compute_path(problem, plan, count: int) -> list[float]:
    rng, times = random.Random(1), []
    for n in range(count):
        started = time.perf_counter()
        bigger = replace(problem, stops=(*problem.stops, new_stop(rng, problem, n)))
        matrix = haversine_matrix(bigger.points())
        placed = place(bigger, matrix, rebuild(bigger, matrix, plan), f"NEW-{n}")
        times.append(time.perf_counter() - started)
        assert placed.visit is not None
    return times


async def handler_path(server: str, hub: str, spec, problem, plan, count: int) -> list[float]:
    name = f"bench_promise_{uuid.uuid4().hex[:8]}"
    await ensure_database(server, name)
    pool = await create_pool(with_database(server, name), max_size=2)
    fleet = [FleetSpec(partner="bench", vehicles=[VehicleSpec(**v) for v in FLEET])]
    config = HubConfig(hub_id=hub, name=hub, lat=spec["hub"]["lat"], lon=spec["hub"]["lon"],
                       fleets=fleet, waves=[
                           {"code": "AM", "cutoff": "07:00", "window_start": "08:00",
                            "window_end": "12:00"}])
    async with pool.acquire() as conn:
        await migrate(conn, "logistics", bootstrap.MIGRATIONS)
        wave = next_wave(config.hub(), datetime.now(UTC), config.wave_specs())
        renamed = {f"bench:{v['type']}": v["type"] for v in FLEET}
        async with conn.transaction():
            await db.put_hub(conn, config)
            for stop in problem.stops:
                await _shipment(conn, stop.stop_id, stop.stop_id, wave.wave_id, stop.grams,
                                stop.ml, stop.parcels, stop.lat, stop.lon, "PICKUP_SCHEDULED")
            await db.lock_wave(conn, wave, cutoff_of(config.hub(), wave, config.wave_specs()))
            state = plan_to_json(plan)
            for r in state["routes"]:
                r["vehicle"] = next(k for k, v in renamed.items() if v == r["vehicle"])
            await db.save_wave(conn, wave.wave_id, state)
    planner = Planner(LogisticsSettings(), solver=None)  # type: ignore[arg-type]
    rng, times = random.Random(2), []
    try:
        for n in range(-5, count):  # five unrecorded promises warm the connection up
            stop = new_stop(rng, problem, n)
            # Left without a commit, the unit of work rolls back: every promise sees one wave.
            async with PostgresLogisticsUnitOfWork(pool) as uow:
                sid = f"new-{n}"
                await _shipment(uow.connection, sid, f"NEWP-{n}", wave.wave_id, stop.grams,
                                stop.ml, 1, stop.lat, stop.lon, "QUEUED")
                msg = ParcelQueued(hub_id=hub, wave_id=wave.wave_id, shipment_id=sid)
                env = Envelope.wrap(msg, producer="bench", correlation_id=sid)
                started = time.perf_counter()
                with uow.caused_by(env):
                    await planner.promise(PromisePickup(msg), uow)
                if n >= 0:
                    times.append(time.perf_counter() - started)
                events = uow.collect_new_events()
                assert events and events[0].wave_id == wave.wave_id, "not placed in the wave"
    finally:
        await pool.close()
    return times


async def _shipment(conn, sid, producer, wave_id, grams, ml, parcels, lat, lon, status):
    await db.insert_shipment(
        conn, shipment_id=sid, order_id=f"o-{sid}", order_ref=sid, producer_id=producer,
        hub_id=wave_id.split("-2")[0], run_id=wave_id, status=status, weight_g=grams,
        volume_ml=ml, parcels=parcels, lines=[{"sku": "X", "name": "x", "quantity": 1,
                                               "weight_g": grams}],
        contact={"name": "p", "phone": "+84900000000"},
        location={"village": "v", "province": "p", "country": "VN", "lat": lat, "lon": lon},
    )


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--promises", type=int, default=300)
    ap.add_argument("--solve-seconds", type=float, default=9.0)
    args = ap.parse_args()
    configure_logging("bench", "WARNING")
    hub, spec, problem = busiest()
    matrix = haversine_matrix(problem.points())
    solver = default_solver()
    try:
        started = time.perf_counter()
        plan = await solver.solve(problem, matrix, seconds=args.solve_seconds)
        solve_s = time.perf_counter() - started
    finally:
        solver.close()
    print(f"{hub}: {len(problem.stops)} stops, "
          f"{sum(s.parcels for s in problem.stops)} parcels planned in {len(plan.routes)} routes")
    compute = compute_path(problem, plan, args.promises)
    print(summary("promise, compute path", compute))
    figures = [compute]
    server = os.environ.get("DATABASE_URL")
    if server:
        handler = await handler_path(server, hub, spec, problem, plan, args.promises)
        print(summary("promise, ParcelQueued handler + SQL", handler))
        figures.append(handler)
    else:
        print("(set DATABASE_URL to time the handler with PostgreSQL too)")
    greedy_s = time.perf_counter()
    greedy_plan(problem, matrix)
    greedy_s = time.perf_counter() - greedy_s
    worst = pct(figures[-1], 99)
    print(f"baseline, re-solving the wave: {solve_s:.2f} s (PyVRP) / {greedy_s:.2f} s "
          f"(insertion from scratch)")
    print(f"p99 promise = {worst * 1e3:.1f} ms (goal <= 50 ms) = {worst / solve_s:.4f} x a wave "
          f"re-solve, {worst / greedy_s:.3f} x an insertion plan from scratch")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
