"""The logistics service's composition root."""

from __future__ import annotations

from importlib import resources

from services.logistics.domain.hubs import load_hubs
from services.logistics.handlers import schedule_pickups
from shared.contracts.events import RESERVATIONS, StockReserved
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.logistics") / "migrations"


def build(settings: ServiceSettings | None = None) -> Service:
    return Service(
        settings=settings or load_settings("logistics"),
        migrations=MIGRATIONS,
        subscriptions=[Subscription(RESERVATIONS, {StockReserved: schedule_pickups(load_hubs())})],
    )
