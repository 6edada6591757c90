"""Hubs, the villages they serve, their partner fleets and pickup waves, and the choice of the
wave a shipment joins. Pure: no I/O, no clock."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Hub:
    hub_id: str
    name: str
    lat: float
    lon: float
    tz: str


@dataclass(frozen=True)
class Wave:
    """A daily pickup wave: parcels ready before `cutoff` are collected within the window."""

    code: str
    cutoff: time
    window_start: time
    window_end: time


@dataclass(frozen=True)
class ScheduledWave:
    wave_id: str
    hub_id: str
    window_start: datetime
    window_end: datetime


DEFAULT_WAVES: tuple[Wave, ...] = (
    Wave("AM", cutoff=time(9, 0), window_start=time(10, 0), window_end=time(12, 0)),
    Wave("PM", cutoff=time(13, 0), window_start=time(14, 0), window_end=time(17, 0)),
)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest_hub(lat: float, lon: float, hubs: tuple[Hub, ...]) -> Hub:
    if not hubs:
        raise ValueError("no hubs configured")
    return min(hubs, key=lambda h: (haversine_km(lat, lon, h.lat, h.lon), h.hub_id))


def cutoff_of(hub: Hub, wave: ScheduledWave, waves: tuple[Wave, ...] = DEFAULT_WAVES) -> datetime:
    code = wave.wave_id.rsplit("-", 1)[1]
    spec = next(w for w in waves if w.code == code)
    local_day = wave.window_start.astimezone(ZoneInfo(hub.tz)).date()
    return datetime.combine(local_day, spec.cutoff, ZoneInfo(hub.tz))


def midnight_of(hub: Hub, wave: ScheduledWave) -> datetime:
    """The origin of a wave plan's clock (plans count seconds from the wave's local midnight)."""
    zone = ZoneInfo(hub.tz)
    return datetime.combine(wave.window_start.astimezone(zone).date(), time(0), zone)


def seconds_since(origin: datetime, at: datetime) -> int:
    return int((at - origin).total_seconds())


def wave_by_id(hub: Hub, wave_id: str, waves: tuple[Wave, ...] = DEFAULT_WAVES) -> ScheduledWave:
    """The wave `{hub_id}-{YYYY-MM-DD}-{code}` back from its id."""
    rest = wave_id.removeprefix(f"{hub.hub_id}-")
    day, code = rest.rsplit("-", 1)
    spec = next((w for w in waves if w.code == code), None)
    if spec is None:
        raise ValueError(f"{hub.hub_id} has no wave {code!r} any more")
    zone = ZoneInfo(hub.tz)
    date = datetime.strptime(day, "%Y-%m-%d").date()
    return ScheduledWave(
        wave_id=wave_id,
        hub_id=hub.hub_id,
        window_start=datetime.combine(date, spec.window_start, zone),
        window_end=datetime.combine(date, spec.window_end, zone),
    )


def next_wave(
    hub: Hub, ready_at: datetime, waves: tuple[Wave, ...] = DEFAULT_WAVES
) -> ScheduledWave:
    """The first wave whose cut-off is after `ready_at` (in the hub's time zone), today or later."""
    if ready_at.tzinfo is None:
        raise ValueError("ready_at must be timezone-aware")
    zone = ZoneInfo(hub.tz)
    local = ready_at.astimezone(zone)
    ordered = sorted(waves, key=lambda w: w.cutoff)
    for day in range(8):
        date = local.date() + timedelta(days=day)
        for wave in ordered:
            if datetime.combine(date, wave.cutoff, zone) > local:
                return ScheduledWave(
                    wave_id=f"{hub.hub_id}-{date.isoformat()}-{wave.code}",
                    hub_id=hub.hub_id,
                    window_start=datetime.combine(date, wave.window_start, zone),
                    window_end=datetime.combine(date, wave.window_end, zone),
                )
    raise ValueError("no pickup wave in the coming week")


def shipment_id_for(order_id: str, producer_id: str) -> str:
    """One shipment per producer per order, the same id on every redelivery."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ovop:shipment:{order_id}:{producer_id}"))
