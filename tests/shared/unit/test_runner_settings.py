"""What `ovop setup`, `simulate` and `run` read from the environment: one settings object."""

from __future__ import annotations

import pytest

from shared.settings import DEFAULT_PORTS, RunnerSettings

OWN = [f"{service.upper()}_DATABASE_URL" for service in DEFAULT_PORTS]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "OVOP_DEMO_SHOP_SECRET", *OWN):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_server_or_one_database_per_service_names_the_databases(env):
    assert not RunnerSettings().databases_given()
    for name in OWN[:-1]:
        env.setenv(name, f"postgresql://h/{name.lower()}")
    assert not RunnerSettings().databases_given(), "one service still has no database"
    env.setenv(OWN[-1], "postgresql://h/last")
    assert RunnerSettings().databases_given()
    for name in OWN:
        env.delenv(name)
    env.setenv("DATABASE_URL", "postgresql://h")
    assert RunnerSettings().databases_given()


def test_the_demo_shop_secret_is_read_and_an_empty_one_is_none(env):
    assert RunnerSettings().demo_shop_secret() is None
    env.setenv("OVOP_DEMO_SHOP_SECRET", "")
    assert RunnerSettings().demo_shop_secret() is None
    env.setenv("OVOP_DEMO_SHOP_SECRET", "s3cret")
    assert RunnerSettings().demo_shop_secret() == "s3cret"
    assert "s3cret" not in repr(RunnerSettings())
