"""A hub-wave's routing problem from its shipments, and its plan as partner events."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from services.logistics.adapters.postgres import as_json
from services.logistics.domain.config import HubConfig
from services.logistics.domain.network import ScheduledWave, midnight_of, seconds_since
from services.logistics.domain.planning import Plan, Problem, Stop
from shared.contracts.logistics import PickupPlanned, PlannedRoute, PlannedStop


def wave_problem(config: HubConfig, wave: ScheduledWave, rows) -> Problem:
    """One stop per producer: all of a producer's parcels of the wave are collected at once."""
    origin = midnight_of(config.hub(), wave)
    start = seconds_since(origin, wave.window_start)
    end = seconds_since(origin, wave.window_end)
    by_producer = defaultdict(list)
    for row in rows:
        by_producer[row["producer_id"]].append(row)
    stops = []
    for producer_id, parcels in sorted(by_producer.items()):
        loc = as_json(parcels[0]["location"])
        count = sum(p["parcels"] for p in parcels)
        stops.append(
            Stop(
                stop_id=producer_id,
                lat=loc["lat"],
                lon=loc["lon"],
                grams=sum(p["weight_g"] for p in parcels),
                ml=sum(p["volume_ml"] or 0 for p in parcels),
                window_start=start,
                window_end=end,
                # Perishables and parcels deferred once already must go in this wave.
                deferrable=all(not p["perishable"] and p["deferrals"] == 0 for p in parcels),
                defer_cost=config.defer_cost * count,
                parcels=count,
                village=f"{loc.get('province')}/{loc.get('village')}",
            )
        )
    return Problem(config.lat, config.lon, config.vehicles(), tuple(stops))


def at(origin: datetime, seconds: int) -> datetime:
    return origin + timedelta(seconds=seconds)


def pickup_planned(
    config: HubConfig, wave: ScheduledWave, problem: Problem, plan: Plan, rows, plan_id: str
) -> PickupPlanned:
    origin = midnight_of(config.hub(), wave)
    shipments = defaultdict(list)
    for row in rows:
        shipments[row["producer_id"]].append(row["shipment_id"])
    stops = {s.stop_id: s for s in problem.stops}
    routes = []
    for n, route in enumerate(plan.routes, start=1):
        routes.append(
            PlannedRoute(
                route_id=f"{wave.wave_id}-R{n:02d}",
                vehicle_type=route.vehicle,
                stops=[
                    PlannedStop(
                        sequence=i,
                        producer_id=v.stop_id,
                        shipment_ids=shipments[v.stop_id],
                        lat=stops[v.stop_id].lat,
                        lon=stops[v.stop_id].lon,
                        eta=at(origin, v.arrival),
                        window_start=wave.window_start,
                        window_end=wave.window_end,
                    )
                    for i, v in enumerate(route.visits, start=1)
                ],
                km=round(route.distance_m / 1000, 2),
                cost=float(route.cost),
                load_kg=route.grams / 1000,
                load_l=route.ml / 1000,
            )
        )
    left = [*plan.deferred, *plan.unserved]
    return PickupPlanned(
        plan_id=plan_id,
        hub_id=config.hub_id,
        wave_id=wave.wave_id,
        routes=routes,
        deferred_shipment_ids=[s for p in left for s in shipments[p]],
    )
