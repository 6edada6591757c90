"""The catalog's own settings, from `CATALOG_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CatalogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore")

    public_base_url: str = Field(
        default="http://127.0.0.1:8002",
        description="Where buyers reach the story pages; the QR codes point here.",
    )
    reservation_ttl_s: float = Field(
        default=7 * 24 * 3600, gt=0, description="A reservation not picked up by then is released."
    )
    expiry_interval_s: float = Field(default=60.0, gt=0)
    stock_events_interval_s: float = Field(
        default=1.0, gt=0, description="Seconds between stock-event passes: the coalescing window."
    )
    stock_events_batch: int = Field(default=500, gt=0)
    low_stock_threshold: int = Field(
        default=5, ge=0, description="Default alert level: available at or below it."
    )
    jobs: bool = Field(default=True, description="Run the expiry and stock-event jobs.")
