"""What a planned wave adds to ovop_logistics_planned_total: besides cost, km and parcels, the
stops planned after their window (the alert OvopPickupsPlannedLate) and the parcels deferred."""

from __future__ import annotations

from prometheus_client import REGISTRY

from services.logistics.domain.kpis import Kpis
from services.logistics.planner import _record_kpis

HUB = "HUB-METRICS-TEST"


def planned(plan: str, measure: str) -> float:
    labels = {"hub_id": HUB, "plan": plan, "measure": measure}
    return REGISTRY.get_sample_value("ovop_logistics_planned_total", labels) or 0.0


def test_a_planned_wave_counts_its_late_stops_and_deferred_parcels():
    ours = Kpis(cost=900, routes=1, stops=3, parcels=4, on_time=2, late=1, deferred=2)
    baseline = Kpis(cost=2000, routes=4, stops=4, parcels=4, on_time=4)
    kpis = {
        "plan": ours.as_dict(),
        "one_trip_per_order": baseline.as_dict(),
        "one_trip_per_village": baseline.as_dict(),
    }
    before = {m: planned("plan", m) for m in ("late", "deferred", "parcels")}
    _record_kpis(HUB, kpis)
    _record_kpis(HUB, kpis)  # a second wave of the same day adds up
    assert planned("plan", "late") - before["late"] == 2
    assert planned("plan", "deferred") - before["deferred"] == 4
    assert planned("plan", "parcels") - before["parcels"] == 8
    # The baselines ignore windows and defer nothing: their series exist, at zero.
    assert (
        REGISTRY.get_sample_value(
            "ovop_logistics_planned_total",
            {"hub_id": HUB, "plan": "one_trip_per_order", "measure": "late"},
        )
        == 0.0
    )
    on_time = REGISTRY.get_sample_value(
        "ovop_logistics_wave_kpi", {"hub_id": HUB, "plan": "plan", "kpi": "on_time_pct"}
    )
    assert on_time == 66.7  # a percentage, not a share
