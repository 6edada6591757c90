"""What-if planning: a self-contained scenario file in, routes and KPIs out (`ovop logistics plan`).
The format is documented in services/logistics/README.md."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.logistics.domain.matrix import Matrix
from services.logistics.domain.planning import Plan, Problem, Stop, VehicleType


def hhmm(value: str) -> int:
    """'HH:MM' as seconds since midnight ('24:00' is allowed as the end of a day)."""
    hours, minutes = value.split(":")
    seconds = int(hours) * 3600 + int(minutes) * 60
    if not (0 <= int(minutes) < 60 and 0 <= seconds <= 24 * 3600):
        raise ValueError(f"not a time of day: {value!r}")
    return seconds


def clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HubSpec(_Strict):
    id: str = "HUB"
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class VehicleSpec(_Strict):
    """A vehicle type, in a scenario file and in a hub's fleet (config.py) alike."""

    type: str
    capacity_kg: float = Field(gt=0)
    capacity_l: float = Field(gt=0)
    fixed_cost: int = Field(ge=0)
    cost_per_km: int = Field(ge=0)
    count: int = Field(ge=0)
    shift_start: str = "07:00"
    shift_end: str = "19:00"

    @field_validator("shift_start", "shift_end")
    @classmethod
    def _time(cls, v: str) -> str:
        hhmm(v)
        return v


class StopSpec(_Strict):
    id: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kg: float = Field(ge=0)
    litres: float = Field(ge=0)
    window_start: str
    window_end: str
    ready_at: str | None = None
    village: str | None = None
    parcels: int = Field(default=1, ge=1)
    service_minutes: float | None = None
    deferrable: bool = False
    defer_cost: int = Field(default=0, ge=0)

    @field_validator("window_start", "window_end", "ready_at")
    @classmethod
    def _time(cls, v: str | None) -> str | None:
        if v is not None:
            hhmm(v)
        return v


class Scenario(_Strict):
    hub: HubSpec
    vehicles: list[VehicleSpec] = Field(min_length=1)
    stops: list[StopSpec]
    road_factor: float = Field(default=1.4, ge=1.0)
    speed_kmh: float = Field(default=35.0, gt=0)
    service_minutes: float = Field(default=5.0, ge=0)

    @model_validator(mode="after")
    def _unique(self) -> Scenario:
        ids = [s.id for s in self.stops]
        if len(ids) != len(set(ids)):
            raise ValueError("stop ids must be unique")
        names = [v.type for v in self.vehicles]
        if len(names) != len(set(names)):
            raise ValueError("vehicle types must be unique")
        return self

    def problem(self) -> Problem:
        return Problem(
            depot_lat=self.hub.lat,
            depot_lon=self.hub.lon,
            vehicles=tuple(
                VehicleType(
                    name=v.type,
                    capacity_kg=v.capacity_kg,
                    capacity_l=v.capacity_l,
                    fixed_cost=v.fixed_cost,
                    cost_per_km=v.cost_per_km,
                    count=v.count,
                    shift_start=hhmm(v.shift_start),
                    shift_end=hhmm(v.shift_end),
                )
                for v in self.vehicles
            ),
            stops=tuple(
                Stop(
                    stop_id=s.id,
                    lat=s.lat,
                    lon=s.lon,
                    grams=round(s.kg * 1000),
                    ml=round(s.litres * 1000),
                    window_start=hhmm(s.window_start),
                    window_end=hhmm(s.window_end),
                    release=hhmm(s.ready_at) if s.ready_at else 0,
                    service_s=round(60 * (s.service_minutes or self.service_minutes)),
                    deferrable=s.deferrable,
                    defer_cost=s.defer_cost,
                    parcels=s.parcels,
                    village=s.village or "",
                )
                for s in self.stops
            ),
        )


def plan_output(plan: Plan, matrix: Matrix, kpis: dict[str, Any]) -> dict[str, Any]:
    return {
        "routes": [
            {
                "vehicle": r.vehicle,
                "stops": [v.stop_id for v in r.visits],
                "arrivals": [clock(v.arrival) for v in r.visits],
                "late_minutes": [round(v.late_s / 60) for v in r.visits],
                "km": round(r.distance_m / 1000, 2),
                "load_kg": r.grams / 1000,
                "load_l": r.ml / 1000,
                "start": clock(r.start),
                "end": clock(r.end),
                "cost": r.cost,
            }
            for r in plan.routes
        ],
        "deferred": list(plan.deferred),
        "unserved": list(plan.unserved),
        "late": plan.late(),
        "cost": plan.cost,
        "km": round(plan.distance_m / 1000, 2),
        "solver": plan.solver,
        "notes": list(plan.notes),
        "kpis": kpis,
    }
