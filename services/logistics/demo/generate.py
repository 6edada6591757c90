"""A generated rural day: hubs, villages around them, producers in the villages and their
parcels, as one scenario per hub-wave. The benchmarks, the tests and the demo scenario use it.
Deterministic for a seed."""

from __future__ import annotations

import math
import random
from typing import Any

HUB_CENTRES = [
    ("HUB-HAGIANG", 22.8233, 104.9836),
    ("HUB-LAOCAI", 22.4856, 103.9707),
    ("HUB-SONLA", 21.3256, 103.9188),
    ("HUB-CAOBANG", 22.6657, 106.2570),
    ("HUB-DIENBIEN", 21.3860, 103.0230),
]
WAVES = {"AM": ("08:00", "12:00"), "PM": ("13:00", "17:00")}
FLEET = [
    dict(type="motorbike", capacity_kg=60, capacity_l=90, fixed_cost=120_000, cost_per_km=2_500,
         count=30, shift_start="07:00", shift_end="19:00"),
    dict(type="van", capacity_kg=800, capacity_l=3_000, fixed_cost=500_000, cost_per_km=6_000,
         count=10, shift_start="07:00", shift_end="19:00"),
    dict(type="truck", capacity_kg=2_500, capacity_l=9_000, fixed_cost=1_100_000,
         cost_per_km=9_000, count=3, shift_start="07:00", shift_end="19:00"),
]


def _offset(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    dlat = km / 111.0 * math.cos(bearing)
    dlon = km / (111.0 * math.cos(math.radians(lat))) * math.sin(bearing)
    return round(lat + dlat, 5), round(lon + dlon, 5)


def rural_day(
    *,
    seed: int = 7,
    parcels: int = 10_000,
    villages: int = 500,
    hubs: int = 5,
    radius_km: float = 35.0,
    deferrable_share: float = 0.2,
) -> dict[tuple[str, str], dict[str, Any]]:
    """{(hub id, wave): scenario}. Each producer's parcels of a wave are one stop."""
    rng = random.Random(seed)
    centres = HUB_CENTRES[:hubs]
    producers = []  # (hub, village, producer id, lat, lon)
    for v in range(villages):
        hub_id, hlat, hlon = centres[v % len(centres)]
        vlat, vlon = _offset(hlat, hlon, radius_km * math.sqrt(rng.random()), rng.uniform(0, 6.3))
        for p in range(rng.randint(1, 4)):
            plat, plon = _offset(vlat, vlon, rng.uniform(0.05, 0.6), rng.uniform(0, 6.3))
            producers.append((hub_id, f"V{v:03d}", f"P{v:03d}-{p}", plat, plon))
    stops: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for _ in range(parcels):
        hub_id, village, pid, lat, lon = rng.choice(producers)
        wave = "AM" if rng.random() < 0.55 else "PM"
        start, end = WAVES[wave]
        kg = round(rng.choice([0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0]), 2)
        litres = round(kg * rng.uniform(0.9, 1.6), 2)
        stop = stops.setdefault((hub_id, wave), {}).setdefault(
            pid,
            dict(id=f"{pid}-{wave}", lat=lat, lon=lon, kg=0.0, litres=0.0, window_start=start,
                 window_end=end, village=village, parcels=0,
                 deferrable=rng.random() < deferrable_share, defer_cost=0),
        )
        stop["kg"] = round(stop["kg"] + kg, 2)
        stop["litres"] = round(stop["litres"] + litres, 2)
        stop["parcels"] += 1
        stop["defer_cost"] = 40_000 * stop["parcels"]
    scenarios = {}
    for (hub_id, wave), by_producer in sorted(stops.items()):
        _, hlat, hlon = next(c for c in centres if c[0] == hub_id)
        scenarios[(hub_id, wave)] = dict(
            hub=dict(id=hub_id, lat=hlat, lon=hlon),
            vehicles=FLEET,
            stops=sorted(by_producer.values(), key=lambda s: s["id"]),
        )
    return scenarios
