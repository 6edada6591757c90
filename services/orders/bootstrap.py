"""The orders service's composition root."""

from __future__ import annotations

import os
from importlib import resources

import asyncpg
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.orders import handlers, jobs
from services.orders.adapters.webhook_queue import QueueWriter
from services.orders.domain import addresses
from services.orders.entrypoints import api
from services.orders.entrypoints.webhooks import receive_webhook
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
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.orders") / "migrations"


def routes(service: Service) -> list[Route]:
    def pool() -> asyncpg.Pool:
        assert service.pool is not None
        return service.pool

    writer = QueueWriter(pool)
    # Past this many queued pushes, new ones get 503 and the platforms send them again later.
    queue_limit = int(os.environ.get("ORDERS_WEBHOOK_QUEUE_LIMIT", "100000"))

    async def webhook(request: Request) -> Response:
        return await receive_webhook(request, pool(), writer, queue_limit)

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


def build(settings: ServiceSettings | None = None) -> Service:
    # Read at start, not by the first order, and frozen out of the GC with the start-up heap.
    addresses.load()
    return Service(
        settings=settings or load_settings("orders"),
        migrations=MIGRATIONS,
        subscriptions=SUBSCRIPTIONS,
        routes=routes,
        background=jobs.JOBS,
    )
