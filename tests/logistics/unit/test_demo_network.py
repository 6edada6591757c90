"""The demo network must reach every demo producer: `make run` sells all of their products."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.logistics.domain.config import hub_for
from services.logistics.domain.hubs import demo_network
from services.logistics.domain.insertion import place
from services.logistics.domain.matrix import HaversineProvider
from services.logistics.domain.network import next_wave
from services.logistics.domain.planning import Plan
from services.logistics.waves import wave_problem

PRODUCERS = json.loads(
    (Path(__file__).parents[3] / "services/catalog/demo/producers.json").read_text()
)


@pytest.mark.parametrize("producer", PRODUCERS, ids=lambda p: p["producer_id"])
def test_every_demo_producer_can_be_promised_a_pickup_in_an_empty_wave(producer) -> None:
    config = hub_for(
        demo_network(), producer["province"], producer["village"], producer["lat"], producer["lon"]
    )
    wave = next_wave(config.hub(), datetime(2026, 11, 30, tzinfo=UTC), config.wave_specs())
    location = {k: producer[k] for k in ("lat", "lon", "province", "village")}
    parcel = dict(
        producer_id=producer["producer_id"],
        location=location,
        parcels=1,
        weight_g=1500,
        volume_ml=1500,
        perishable=False,
        deferrals=0,
    )
    problem = wave_problem(config, wave, [parcel])
    matrix = HaversineProvider(config.road_factor, config.speed_kmh).compute(problem.points())
    placement = place(problem, matrix, Plan(), producer["producer_id"])
    assert placement.visit is not None, f"{config.hub_id} cannot reach {producer['village']}"
