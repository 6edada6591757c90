"""A hub's fleet is checked like a scenario's vehicles: a shift that is not a time is refused
when the operator sets it, not when a wave is planned."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.logistics.domain.hubs import demo_network, initial_network
from services.logistics.settings import LogisticsSettings

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


def test_the_hubs_file_the_settings_name_seeds_the_network_instead_of_the_demo(
    tmp_path, monkeypatch
) -> None:
    hub = demo_network()[0].model_copy(update={"hub_id": "HUB-ELSEWHERE"})
    path = tmp_path / "hubs.json"
    path.write_text(json.dumps([hub.model_dump(mode="json")]))
    monkeypatch.setenv("LOGISTICS_HUBS_FILE", str(path))

    hubs_file = LogisticsSettings().hubs_file
    assert hubs_file == str(path)
    assert [h.hub_id for h in initial_network(Path(hubs_file).read_text())] == ["HUB-ELSEWHERE"]
    assert initial_network(None) == demo_network()
