"""The orders service's settings: what every service reads (shared/settings.py), and its own
`ORDERS_*` variables."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings, load_settings


def _env(variable: str, default: float, description: str, *, zero_allowed: bool = False) -> Any:
    """Positive unless `zero_allowed`: an interval or a timeout of 0 would spin or never wait."""
    if zero_allowed:
        return Field(default, ge=0, validation_alias=variable, description=description)
    return Field(default, gt=0, validation_alias=variable, description=description)


class OrdersSettings(ServiceSettings):
    # By field name too, for those who build settings in code (tests, benchmarks).
    model_config = SettingsConfigDict(populate_by_name=True)

    service: str = "orders"
    reservation_timeout_s: float = _env(
        "ORDERS_RESERVATION_TIMEOUT_S",
        900.0,
        "How long the saga waits for the catalog before it cancels and releases.",
    )
    platform_timeout_s: float = _env(
        "ORDERS_PLATFORM_TIMEOUT_S",
        5.0,
        "One call to a platform's API; a detail call that takes longer is retried later.",
    )
    webhook_queue_limit: int = _env(
        "ORDERS_WEBHOOK_QUEUE_LIMIT",
        100_000,
        "Past this many queued pushes, new ones get 503 and the platforms send them later.",
        zero_allowed=True,  # refuses every push: a way to shed all load
    )
    webhook_burst_rate: float = _env(
        "ORDERS_WEBHOOK_BURST_RATE",
        500.0,
        "Pushes a second above which applying the queue gives way to accepting pushes.",
    )
    webhook_max_lag_s: float = _env(
        "ORDERS_WEBHOOK_MAX_LAG_S", 30.0, "How long applying gives way during a burst."
    )
    webhook_poll_s: float = _env(
        "ORDERS_WEBHOOK_POLL_S", 1.0, "Between passes over the webhook queue, unless woken."
    )
    fetch_poll_s: float = _env(
        "ORDERS_FETCH_POLL_S", 1.0, "Between passes over the detail fetches, unless woken."
    )
    tiki_poll_s: float = _env(
        "ORDERS_TIKI_POLL_S", 10.0, "Between pulls of each Tiki account's event queue."
    )
    shopee_pull_s: float = _env(
        "ORDERS_SHOPEE_PULL_S", 600.0, "Between pulls of each Shopee account's recent orders."
    )
    saga_sweep_s: float = _env(
        "ORDERS_SAGA_SWEEP_S", 5.0, "Between sweeps for reservations past their deadline."
    )
    stock_sync_s: float = _env(
        "ORDERS_STOCK_SYNC_S",
        1.0,
        "Between stock pushes to the platforms: levels arriving meanwhile coalesce into one.",
    )
    backlog_sample_s: float = _env(
        "ORDERS_BACKLOG_SAMPLE_S", 15.0, "Between samples of the backlog gauges."
    )


def load() -> OrdersSettings:
    return load_settings("orders", OrdersSettings)
