"""Distances from haversine or an OSRM-compatible server (a real HTTP fake), the network's
configuration, and `ovop logistics plan`."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from services.logistics.adapters.osrm import OsrmError, OsrmProvider
from services.logistics.domain.config import HubConfig, VillageRef, hub_for
from services.logistics.domain.matrix import haversine_matrix
from services.logistics.entrypoints.cli import logistics

DEMO = Path(__file__).resolve().parents[3] / "services/logistics/demo/scenario.json"


class FakeOsrm(BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self):  # noqa: N802
        FakeOsrm.paths.append(self.path)
        coords = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
        if len(coords) > 3:
            body = {"code": "TooBig", "message": "too many coordinates"}
        else:
            n = len(coords)
            body = {"code": "Ok",
                    "distances": [[abs(i - j) * 1000.4 for j in range(n)] for i in range(n)],
                    "durations": [[abs(i - j) * 60.0 if i != 2 else None for j in range(n)]
                                  for i in range(n)]}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def osrm():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsrm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeOsrm.paths = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_osrm_provider_reads_the_table_service(osrm):
    points = [(22.82, 104.98), (23.16, 105.41), (22.60, 104.70)]
    matrix = asyncio.run(OsrmProvider(osrm).matrix(points))
    assert FakeOsrm.paths[0].startswith("/table/v1/driving/104.980000,22.820000;105.410000")
    assert "annotations=distance%2Cduration" in FakeOsrm.paths[0]
    assert matrix.distance(0, 2) == 2001 and matrix.duration(0, 1) == 60
    assert matrix.duration(2, 0) == 1_000_000_000  # no route: prohibitively long, not a crash


def test_an_osrm_error_is_raised_with_its_code(osrm):
    with pytest.raises(OsrmError, match="TooBig"):
        asyncio.run(OsrmProvider(osrm).matrix([(1.0, 1.0)] * 4))


def test_haversine_times_the_road_factor():
    m = haversine_matrix([(21.0, 105.0), (21.0, 105.1)], road_factor=1.5, speed_kmh=36)
    straight = 10_384  # metres between the two points on the great circle
    assert abs(m.distance(0, 1) - 1.5 * straight) < 20
    assert abs(m.duration(0, 1) - m.distance(0, 1) / 10) <= 1  # 36 km/h is 10 m/s


def test_a_listed_village_goes_to_its_hub_and_others_to_the_nearest():
    near = HubConfig(hub_id="HUB-A", name="A", lat=22.8, lon=104.9)
    far = HubConfig(hub_id="HUB-B", name="B", lat=21.0, lon=105.8,
                    villages=[VillageRef(province="Tuyen Quang", village="Pa Vi")])
    assert hub_for([near, far], "Tuyen Quang", "Pa Vi", 23.1, 105.4).hub_id == "HUB-B"
    assert hub_for([near, far], "Tuyen Quang", "Meo Vac", 23.1, 105.4).hub_id == "HUB-A"


def test_a_wave_whose_cutoff_follows_its_window_is_refused():
    with pytest.raises(ValidationError, match="cut-off"):
        HubConfig(hub_id="HUB-A", name="A", lat=1, lon=1, waves=[
            {"code": "AM", "cutoff": "11:00", "window_start": "10:00", "window_end": "12:00"}])


def test_plan_prints_kpis_beside_both_baselines_and_writes_the_routes(tmp_path):
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(
        logistics,
        ["plan", "--scenario", str(DEMO), "--seconds", "5", "--iterations", "200",
         "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "one_trip_per_order" in result.output and "x one trip per village" in result.output
    plan = json.loads(out.read_text())
    scenario = json.loads(DEMO.read_text())
    planned = [s for r in plan["routes"] for s in r["stops"]] + plan["deferred"] + plan[
        "unserved"]
    assert sorted(planned) == sorted(s["id"] for s in scenario["stops"])
    for route in plan["routes"]:
        assert {"vehicle", "stops", "km", "load_kg", "load_l", "arrivals"} <= set(route)
    assert plan["cost"] == sum(r["cost"] for r in plan["routes"]) and plan["km"] > 0


def test_a_bad_scenario_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hub": {"lat": 1, "lon": 1}, "vehicles": [], "stops": []}))
    result = CliRunner().invoke(logistics, ["plan", "--scenario", str(bad)])
    assert result.exit_code == 2 and "vehicles" in result.output
