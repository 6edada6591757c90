"""The notifications service's composition root."""

from __future__ import annotations

from importlib import resources

from services.notifications.adapters.providers import DevProvider, SmsProvider
from services.notifications.handlers import alert_producer
from shared.contracts.events import PICKUPS, PickupScheduled
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.notifications") / "migrations"


def build(settings: ServiceSettings | None = None, provider: SmsProvider | None = None) -> Service:
    provider = provider or DevProvider()
    return Service(
        settings=settings or load_settings("notifications"),
        migrations=MIGRATIONS,
        subscriptions=[Subscription(PICKUPS, {PickupScheduled: alert_producer(provider)})],
    )
