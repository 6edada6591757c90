"""The catalog service's composition root."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from importlib import resources

from services.catalog import handlers
from services.catalog.entrypoints.http import routes
from services.catalog.settings import CatalogSettings
from shared.contracts.envelope import Envelope
from shared.contracts.events import ORDERS, SHIPMENTS, OrderCancelled, OrderPlaced
from shared.contracts.logistics import ShipmentPickedUp
from shared.messaging import outbox
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.catalog") / "migrations"


def build(
    settings: ServiceSettings | None = None, catalog: CatalogSettings | None = None
) -> Service:
    options = catalog or CatalogSettings()

    async def expire_reservations(service: Service) -> None:
        ttl = timedelta(seconds=options.reservation_ttl_s)
        while True:
            assert service.pool is not None
            await handlers.expire_pass(service.pool, ttl)
            await asyncio.sleep(options.expiry_interval_s)

    async def publish_stock_events(service: Service) -> None:
        while True:
            # A full batch means more SKUs are waiting: take them now rather than next interval.
            if await publish_stock_changes(service, options) < options.stock_events_batch:
                await asyncio.sleep(options.stock_events_interval_s)

    return Service(
        settings=settings or load_settings("catalog"),
        migrations=MIGRATIONS,
        subscriptions=[
            Subscription(
                ORDERS,
                {
                    OrderPlaced: handlers.reserve_stock,
                    OrderCancelled: handlers.release_on_cancel,
                },
            ),
            Subscription(SHIPMENTS, {ShipmentPickedUp: handlers.confirm_on_pickup}),
        ],
        routes=lambda service: routes(service, options),
        background=[expire_reservations, publish_stock_events] if options.jobs else [],
    )


async def publish_stock_changes(service: Service, options: CatalogSettings) -> int:
    """One pass: drain the changed SKUs and write their events to the outbox, in one transaction
    (a crash before commit leaves the SKUs marked, so nothing is lost)."""
    assert service.pool is not None
    async with service.pool.acquire() as conn, conn.transaction():
        events = await handlers.stock_events_pass(
            conn, options.low_stock_threshold, options.stock_events_batch
        )
        for event in events:
            env = Envelope.wrap(event, producer=service.name, correlation_id=f"stock:{event.key()}")
            await outbox.enqueue(conn, env, event)
    return len(events)
