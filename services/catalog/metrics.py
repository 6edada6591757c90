"""The catalog's own Prometheus metrics (the shared ones cover consuming and publishing)."""

from __future__ import annotations

from prometheus_client import Counter

RESERVATIONS = Counter(
    "ovop_catalog_reservations_total",
    "Orders the catalog decided on, by outcome (reserved, replayed, rejected).",
    ["outcome"],
)
RELEASED_UNITS = Counter(
    "ovop_catalog_released_units_total",
    "Reserved units given back to available stock, by cause (cancelled, expired).",
    ["cause"],
)
CONFIRMED_UNITS = Counter(
    "ovop_catalog_confirmed_units_total",
    "Reserved units that left the shelf with a courier.",
)
STOCK_EVENTS = Counter(
    "ovop_catalog_stock_events_total",
    "Stock events written to the outbox, by event type.",
    ["event_type"],
)
STOCK_CHANGES_COALESCED = Counter(
    "ovop_catalog_stock_changes_coalesced_total",
    "Stock changes folded into a later StockLevelChanged of the same SKU (not published alone).",
)
ADMIN_REJECTED = Counter(
    "ovop_catalog_admin_rejected_total",
    "Admin API requests and import rows refused, by reason.",
    ["endpoint", "reason"],
)
