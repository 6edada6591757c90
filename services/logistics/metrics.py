"""The logistics service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PARCELS_ON_HOLD = Counter(
    "ovop_logistics_parcels_on_hold_total",
    "Shipments put on hold instead of planned, by reason (too_heavy, no_coordinates, no_hub,"
    " no_fleet, unreachable).",
    ["reason"],
)
PROMISE_SECONDS = Histogram(
    "ovop_logistics_promise_seconds",
    "Time to place one parcel by cheapest insertion (the instant promise).",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
SOLVE_SECONDS = Histogram(
    "ovop_logistics_solve_seconds",
    "Wall time of one hub-wave solve in the worker process.",
    ["hub_id"],
    buckets=(0.1, 0.5, 1, 2, 5, 10, 15, 30, 60),
)
WAVE_CHANGED = Counter(
    "ovop_logistics_wave_changed_total",
    "Wave solves whose wave changed before the plan was applied, by what followed: solved"
    " again, or the cut-off queued again behind the hub's other messages.",
    ["hub_id", "outcome"],
)
WAVE_KPI = Gauge(
    "ovop_logistics_wave_kpi",
    "The last planned wave's KPIs per hub, beside the two baselines on the same parcels.",
    ["hub_id", "plan", "kpi"],
)
PLANNED_TOTAL = Counter(
    "ovop_logistics_planned_total",
    "Cost, km, parcels, late stops and deferred parcels of planned waves summed (per day:"
    " increase over 24 h), per plan kind.",
    ["hub_id", "plan", "measure"],
)
PARTNER_EVENTS = Counter(
    "ovop_logistics_partner_events_total",
    "Carrier status updates received, by partner and outcome.",
    ["partner", "outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "ovop_logistics_webhook_deliveries_total",
    "Outbound partner webhook attempts, by partner and outcome (sent, retry, dead).",
    ["partner", "outcome"],
)
