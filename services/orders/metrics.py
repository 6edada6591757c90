"""The orders service's own metrics (the shared ones are in shared/metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS_ACCEPTED = Counter(
    "ovop_orders_webhooks_accepted_total",
    "Verified pushes accepted and persisted, by platform and outcome (queued: a full-order "
    "push stored in the webhook queue; pending_fetch: a thin push).",
    ["platform", "outcome"],
)
WEBHOOKS_APPLIED = Counter(
    "ovop_orders_webhooks_applied_total",
    "Queued full-order pushes applied, by platform and outcome (created, updated, stale, "
    "duplicate_delivery, ..., ignored, rejected, failed: tried again later).",
    ["platform", "outcome"],
)
WEBHOOKS_DEAD_LETTERED = Counter(
    "ovop_orders_webhooks_dead_lettered_total",
    "Queued pushes kept as dead-letter entries (`ovop orders rejected`), by platform and reason: "
    "rejected (not an order we can read) or failed (gave up after repeated errors).",
    ["platform", "reason"],
)
DETAIL_FETCHES = Counter(
    "ovop_orders_detail_fetches_total",
    "Order-detail fetches after a thin push or a Tiki event, by platform and outcome.",
    ["platform", "outcome"],
)
STOCK_PUSHES = Counter(
    "ovop_orders_stock_pushes_total",
    "Stock levels pushed to a channel listing, by channel and outcome.",
    ["channel", "outcome"],
)
BACKLOG = Gauge(
    "ovop_orders_backlog",
    "What waits: queued pushes not applied yet, dead-lettered pushes, pending detail fetches, "
    "listings with a stock figure not yet pushed, orders on hold for the operator, orders "
    "waiting for the catalog.",
    ["kind"],
)
JOURNEY_SECONDS = Histogram(
    "ovop_order_journey_seconds",
    "From the order's arrival (its row's creation) to it reaching a stage: confirmed (stock "
    "reserved) or pickup_scheduled (every producer has a pickup window).",
    ["stage"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 12 * 3600, 86400,
             2 * 86400),
)
