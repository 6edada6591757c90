"""The catalog service's composition root: the bus around the unit of work, and the service
that runs its consumers, jobs and HTTP API on it.

    Kafka consumers, jobs, CSV import, HTTP  ->  bus.handle(command)  ->  handlers
        ->  unit of work (repositories, outbox)  ->  relay  ->  Kafka

HTTP routes reach the bus as `request.app.state.bus` (or `service.bus`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from importlib import resources
from typing import Any

import asyncpg

from services.catalog import handlers
from services.catalog.adapters.uow import CatalogUnitOfWork, PostgresCatalogUnitOfWork
from services.catalog.commands import (
    ConfirmPickup,
    ExpireReservation,
    FindOverdueReservations,
    PublishStockChanges,
    ReleaseStock,
    ReserveStock,
)
from services.catalog.entrypoints.http import routes
from services.catalog.settings import CatalogSettings
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    ORDERS,
    SHIPMENTS,
    OrderCancelled,
    OrderPlaced,
    StockLevelChanged,
)
from shared.contracts.logistics import ShipmentPickedUp
from shared.messaging.bus import MessageBus, consumer_handler
from shared.messaging.consumer import Handler, Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.catalog") / "migrations"
Bus = MessageBus[CatalogUnitOfWork]
Database = Callable[[], asyncpg.Pool | asyncpg.Connection | None]


def build(
    settings: ServiceSettings | None = None, catalog: CatalogSettings | None = None
) -> Service:
    settings = settings or load_settings("catalog")
    options = catalog or CatalogSettings()
    # The pool exists once the service has started; each unit of work takes it then.
    bus = message_bus(lambda: service.pool, producer=settings.service)

    async def expire_reservations(_: Service) -> None:
        ttl = timedelta(seconds=options.reservation_ttl_s)
        while True:
            await expire_overdue(bus, ttl)
            await asyncio.sleep(options.expiry_interval_s)

    async def publish_stock_events(_: Service) -> None:
        command = PublishStockChanges(options.stock_events_batch, options.low_stock_threshold)
        while True:
            events = await bus.handle(command)
            # A full batch means more SKUs are waiting: take them now rather than next interval.
            if sum(isinstance(e, StockLevelChanged) for e in events) < command.limit:
                await asyncio.sleep(options.stock_events_interval_s)

    service = Service(
        settings=settings,
        migrations=MIGRATIONS,
        subscriptions=subscriptions(bus, producer=settings.service),
        routes=lambda service: routes(service, options),
        background=[expire_reservations, publish_stock_events] if options.jobs else [],
        bus=bus,
    )
    return service


def message_bus(database: Database, *, producer: str = "catalog") -> Bus:
    """The catalog's bus on a database: a pool, or one connection (the CLI's)."""
    return MessageBus(
        lambda: PostgresCatalogUnitOfWork(database(), producer=producer),
        commands=handlers.COMMAND_HANDLERS,
    )


def subscriptions(bus: Bus, *, producer: str = "catalog") -> list[Subscription]:
    """What the catalog consumes, each event made into the command it asks for."""

    def join(conn: asyncpg.Connection) -> CatalogUnitOfWork:
        return PostgresCatalogUnitOfWork(conn, producer=producer, joined=True)

    def on(translate: Callable[[Envelope, Any], object]) -> Handler:
        return consumer_handler(bus, join, translate)

    return [
        Subscription(
            ORDERS, {OrderPlaced: on(ReserveStock.of), OrderCancelled: on(ReleaseStock.of)}
        ),
        Subscription(SHIPMENTS, {ShipmentPickedUp: on(ConfirmPickup.of)}),
    ]


async def expire_overdue(bus: Bus, ttl: timedelta, limit: int = 100) -> int:
    """Releases reservations held longer than `ttl`, one order per transaction, so each holds
    its stock rows' locks only briefly; returns how many orders it released."""
    overdue = await bus.handle(FindOverdueReservations(ttl, limit))
    expired = 0
    for order_id in overdue:
        if await bus.handle(ExpireReservation(order_id)):
            expired += 1
    return expired
