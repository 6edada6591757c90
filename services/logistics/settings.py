"""The logistics service's own settings, from the environment (secrets never in the repo)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogisticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOGISTICS_", extra="ignore")

    # {"ghn": "secret", ...}: HMAC keys of inbound partner events and outbound webhooks
    partner_secrets: dict[str, str] = Field(default_factory=dict)
    # {"acme": "https://acme.example/ovop"}: partners without Kafka get our events here
    partner_webhooks: dict[str, str] = Field(default_factory=dict)
    webhook_max_attempts: int = 8
    webhook_backoff_s: float = 2.0
    webhook_backoff_max_s: float = 600.0
    webhook_poll_s: float = 1.0
    osrm_url: str | None = None  # an OSRM-compatible /table service; haversine otherwise
    solve_seconds: float | None = None  # overrides every hub's solve_seconds (tests, drills)
    solve_iterations: int | None = None  # bound solves by iterations too (reproducible tests)
    solver_workers: int = 1  # PyVRP uses one core per solve
    cutoff_poll_s: float = 15.0
    hubs_file: str | None = None  # a JSON list of hub configurations, seeding an empty network
    catalog_public_base_url: str = Field(
        default="https://ovop.example", validation_alias="CATALOG_PUBLIC_BASE_URL"
    )
