"""The orders service's composition root: its settings, and the state its webhook route and its
jobs share, made here once per service."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from services.orders import handlers
from services.orders.adapters.webhook_queue import QueueWriter
from services.orders.domain import addresses
from services.orders.entrypoints import api
from services.orders.entrypoints.webhooks import receive_webhook
from services.orders.jobs import Jobs
from services.orders.settings import OrdersSettings, load
from services.orders.state import State
from shared.contracts.events import (
    PICKUPS,
    RESERVATIONS,
    SHIPMENT_EVENTS,
    SHIPMENTS,
    STOCK,
    PickupScheduled,
    StockLevelChanged,
    StockRejected,
    StockReserved,
)
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings

MIGRATIONS = resources.files("services.orders") / "migrations"


def routes(service: Service, settings: OrdersSettings, state: State) -> list[BaseRoute]:
    def pool() -> asyncpg.Pool:
        assert service.pool is not None
        return service.pool

    writer = QueueWriter(pool)
    queue_limit = settings.webhook_queue_limit

    async def webhook(request: Request) -> Response:
        return await receive_webhook(request, pool(), writer, queue_limit, state)

    def token() -> str | None:
        secret = service.settings.admin_token
        return secret.get_secret_value() if secret else None

    return [
        Route("/webhooks/{platform}/{account:path}", webhook, methods=["POST"]),
        *api.routes(lambda: service.pool, token),
    ]


SUBSCRIPTIONS = [
    Subscription(
        RESERVATIONS,
        {StockReserved: handlers.on_stock_reserved, StockRejected: handlers.on_stock_rejected},
    ),
    Subscription(PICKUPS, {PickupScheduled: handlers.on_pickup_scheduled}),
    Subscription(SHIPMENTS, {event: handlers.on_shipment_event for event in SHIPMENT_EVENTS}),
    Subscription(STOCK, {StockLevelChanged: handlers.on_stock_level_changed}),
]


@dataclass
class OrdersService(Service):
    """A service whose state (its webhook route's and its jobs') can be reached, by tests too."""

    state: State = field(default_factory=State)


def build(settings: ServiceSettings | None = None) -> OrdersService:
    orders = _orders_settings(settings)
    # Read at start, not by the first order, and frozen out of the GC with the start-up heap.
    addresses.load()
    state = State()
    return OrdersService(
        settings=orders,
        migrations=MIGRATIONS,
        subscriptions=SUBSCRIPTIONS,
        routes=lambda service: routes(service, orders, state),
        background=Jobs(orders, state).all(),
        state=state,
    )


def _orders_settings(settings: ServiceSettings | None) -> OrdersSettings:
    """Shared settings (a test's, a benchmark's) completed with the environment's `ORDERS_*`."""
    if settings is None:
        return load()
    if isinstance(settings, OrdersSettings):
        return settings
    return OrdersSettings(**settings.model_dump())
