"""The orders service's settings come from one object, read from the same `ORDERS_*` variables
with the same defaults as before; each service built keeps its own runtime state."""

from __future__ import annotations

from dataclasses import fields

import pytest

from services.orders.bootstrap import build
from services.orders.settings import OrdersSettings, load
from services.orders.state import State
from shared.settings import ServiceSettings

VARIABLES = {
    "ORDERS_RESERVATION_TIMEOUT_S": ("reservation_timeout_s", 900.0),
    "ORDERS_PLATFORM_TIMEOUT_S": ("platform_timeout_s", 5.0),
    "ORDERS_WEBHOOK_QUEUE_LIMIT": ("webhook_queue_limit", 100_000),
    "ORDERS_WEBHOOK_BURST_RATE": ("webhook_burst_rate", 500.0),
    "ORDERS_WEBHOOK_MAX_LAG_S": ("webhook_max_lag_s", 30.0),
    "ORDERS_WEBHOOK_POLL_S": ("webhook_poll_s", 1.0),
    "ORDERS_FETCH_POLL_S": ("fetch_poll_s", 1.0),
    "ORDERS_TIKI_POLL_S": ("tiki_poll_s", 10.0),
    "ORDERS_SHOPEE_PULL_S": ("shopee_pull_s", 600.0),
    "ORDERS_SAGA_SWEEP_S": ("saga_sweep_s", 5.0),
    "ORDERS_STOCK_SYNC_S": ("stock_sync_s", 1.0),
    "ORDERS_BACKLOG_SAMPLE_S": ("backlog_sample_s", 15.0),
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


@pytest.mark.parametrize("variable", VARIABLES)
def test_each_setting_keeps_its_variable_and_its_default(variable: str, clean_env):
    name, default = VARIABLES[variable]
    assert getattr(load(), name) == default
    clean_env.setenv(variable, "7")
    assert getattr(load(), name) == 7


def test_every_orders_setting_is_listed_here():
    own = set(OrdersSettings.model_fields) - set(ServiceSettings.model_fields) - {"service"}
    assert own == {name for name, _ in VARIABLES.values()}


def test_a_zero_or_negative_interval_is_refused(clean_env):
    clean_env.setenv("ORDERS_FETCH_POLL_S", "0")
    with pytest.raises(ValueError, match="fetch_poll_s|ORDERS_FETCH_POLL_S"):
        load()


def test_shared_settings_given_to_build_are_completed_from_the_environment(clean_env):
    clean_env.setenv("ORDERS_WEBHOOK_QUEUE_LIMIT", "12")
    given = ServiceSettings(service="orders", own_database_url="postgresql://h/x", http_port=9)
    service = build(given)
    assert isinstance(service.settings, OrdersSettings)
    assert service.settings.resolved_database_url() == "postgresql://h/x"
    assert service.settings.resolved_http_port() == 9
    assert service.settings.webhook_queue_limit == 12


def test_two_services_built_in_one_process_share_no_state():
    one, other = build(OrdersSettings()), build(OrdersSettings())
    for part in fields(State):
        assert getattr(one.state, part.name) is not getattr(other.state, part.name), part.name
    for service in (one, other):
        # Every job is bound to its own service's state, never the other's.
        assert all(job.__self__.state is service.state for job in service.background)
