"""A hub's configuration as operators give it (API, CLI, demo data): where it is, which
villages it serves, the partner fleets it can call on and its pickup waves."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.logistics.domain.network import DEFAULT_WAVES, Hub, Wave, nearest_hub
from services.logistics.domain.planning import VehicleType
from services.logistics.domain.scenario import VehicleSpec, hhmm


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VillageRef(_Spec):
    province: str
    village: str


class FleetSpec(_Spec):
    partner: str
    vehicles: list[VehicleSpec]


class WaveSpec(_Spec):
    code: str = Field(pattern=r"^[A-Z0-9]{1,8}$")
    cutoff: str
    window_start: str
    window_end: str

    def wave(self) -> Wave:
        return Wave(self.code, _t(self.cutoff), _t(self.window_start), _t(self.window_end))


def _t(value: str) -> time:
    seconds = hhmm(value)
    return time(seconds // 3600, seconds % 3600 // 60)


DEFAULT_FLEET = [
    FleetSpec(
        partner="ghn",
        vehicles=[
            VehicleSpec(type="motorbike", capacity_kg=60, capacity_l=90, fixed_cost=120_000,
                        cost_per_km=2_500, count=12),
            VehicleSpec(type="van", capacity_kg=800, capacity_l=3_000, fixed_cost=500_000,
                        cost_per_km=6_000, count=3),
        ],
    )
]


class HubConfig(_Spec):
    hub_id: str = Field(pattern=r"^[A-Z0-9-]{2,40}$")
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    tz: str = "Asia/Ho_Chi_Minh"
    villages: list[VillageRef] = Field(default_factory=list)  # empty: nearest hub serves
    fleets: list[FleetSpec] = Field(default_factory=lambda: list(DEFAULT_FLEET))
    waves: list[WaveSpec] = Field(
        default_factory=lambda: [
            WaveSpec(
                code=w.code,
                cutoff=w.cutoff.strftime("%H:%M"),
                window_start=w.window_start.strftime("%H:%M"),
                window_end=w.window_end.strftime("%H:%M"),
            )
            for w in DEFAULT_WAVES
        ]
    )
    # What a day's delay of one non-perishable parcel costs (SLA, goodwill): the prize of
    # collecting it in its wave rather than the next.
    defer_cost: int = Field(default=150_000, ge=0)
    road_factor: float = Field(default=1.4, ge=1)
    speed_kmh: float = Field(default=35.0, gt=0)
    solve_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _checks(self) -> HubConfig:
        for w in self.waves:
            if hhmm(w.window_end) <= hhmm(w.window_start):
                raise ValueError(f"wave {w.code}: the window must end after it starts")
            if hhmm(w.cutoff) > hhmm(w.window_start):
                raise ValueError(f"wave {w.code}: the cut-off must come before the window")
        if len({w.code for w in self.waves}) != len(self.waves):
            raise ValueError("wave codes must be unique")
        names = [f"{f.partner}:{v.type}" for f in self.fleets for v in f.vehicles]
        if len(names) != len(set(names)):
            raise ValueError("vehicle types must be unique per partner")
        return self

    def hub(self) -> Hub:
        return Hub(self.hub_id, self.name, self.lat, self.lon, self.tz)

    def wave_specs(self) -> tuple[Wave, ...]:
        return tuple(w.wave() for w in self.waves)

    def vehicles(self) -> tuple[VehicleType, ...]:
        return tuple(
            VehicleType(
                name=f"{f.partner}:{v.type}",
                capacity_kg=v.capacity_kg,
                capacity_l=v.capacity_l,
                fixed_cost=v.fixed_cost,
                cost_per_km=v.cost_per_km,
                count=v.count,
                shift_start=hhmm(v.shift_start),
                shift_end=hhmm(v.shift_end),
            )
            for f in self.fleets
            for v in f.vehicles
            if v.count > 0
        )

    def serves(self, province: str, village: str) -> bool:
        return any(v.province == province and v.village == village for v in self.villages)


def hub_for(
    configs: list[HubConfig], province: str, village: str, lat: float, lon: float
) -> HubConfig:
    """The hub that lists the village, else the nearest one."""
    for c in configs:
        if c.serves(province, village):
            return c
    nearest = nearest_hub(lat, lon, tuple(c.hub() for c in configs))
    return next(c for c in configs if c.hub_id == nearest.hub_id)
