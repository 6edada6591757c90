"""A hub's fleet is checked like a scenario's vehicles: a shift that is not a time is refused
when the operator sets it, not when a wave is planned."""

import pytest
from pydantic import ValidationError

from services.logistics.domain.hubs import demo_network

VAN = {"type": "van", "capacity_kg": 800, "capacity_l": 3000, "fixed_cost": 500_000,
       "cost_per_km": 6_000, "count": 2}  # fmt: skip


def hub_with(vehicle: dict) -> dict:
    hub = demo_network()[0].model_dump(mode="json")
    hub["fleets"] = [{"partner": "ghn", "vehicles": [vehicle]}]
    return hub


def test_a_fleet_with_valid_shifts_is_accepted() -> None:
    config = type(demo_network()[0]).model_validate(hub_with(VAN | {"shift_start": "06:30"}))
    assert config.vehicles()


@pytest.mark.parametrize("shift", ["25:00", "7am", "07:60"])
def test_a_shift_that_is_not_a_time_of_day_is_refused(shift: str) -> None:
    with pytest.raises(ValidationError):
        type(demo_network()[0]).model_validate(hub_with(VAN | {"shift_start": shift}))
