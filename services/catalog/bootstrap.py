"""The catalog service's composition root."""

from __future__ import annotations

from importlib import resources

from services.catalog.handlers import reserve_stock
from shared.contracts.events import ORDERS, OrderPlaced
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.catalog") / "migrations"


def build(settings: ServiceSettings | None = None) -> Service:
    return Service(
        settings=settings or load_settings("catalog"),
        migrations=MIGRATIONS,
        subscriptions=[Subscription(ORDERS, {OrderPlaced: reserve_stock})],
    )
