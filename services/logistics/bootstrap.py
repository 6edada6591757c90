"""The logistics service's composition root: the bus around the unit of work, and the service
that runs its consumers, jobs and HTTP API on it.

    Kafka consumers, cut-off job, HTTP  ->  bus.handle(command)  ->  handlers, planner
        ->  unit of work (repositories, outbox)  ->  relay  ->  Kafka

The wave solve at cut-off is the one consumer that does not hand its message to the bus whole:
it asks the bus for a snapshot, solves outside any unit of work, then hands the plan to the bus
in the consumer's transaction (see `Planner.cutoff_handler`).

HTTP routes reach the bus as `service.bus`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import asyncpg

from services.logistics import handlers as use_cases
from services.logistics.adapters.pyvrp_solver import PyVRPSolver
from services.logistics.adapters.uow import LogisticsUnitOfWork, PostgresLogisticsUnitOfWork
from services.logistics.adapters.worker import ProcessSolver
from services.logistics.commands import (
    ApplyWavePlan,
    CancelOrder,
    DeliverWebhooks,
    FanOut,
    PromisePickup,
    QueueCutoffAgain,
    ReportCarrierStatus,
    ReserveParcels,
    SnapshotWave,
    WithdrawParcel,
)
from services.logistics.domain.hubs import initial_network
from services.logistics.domain.messages import (
    PLANNING,
    ParcelQueued,
    ParcelWithdrawn,
    WaveCutoffReached,
)
from services.logistics.entrypoints.http import routes
from services.logistics.handlers import Handlers
from services.logistics.jobs import cutoff_job, webhook_job
from services.logistics.planner import Planner, queue_cutoff_again
from services.logistics.settings import LogisticsSettings
from services.logistics.solving import AsyncSolver
from shared.contracts.envelope import Envelope
from shared.contracts.events import (
    ORDERS,
    PICKUPS,
    RESERVATIONS,
    SHIPMENTS,
    TRACKING,
    OrderCancelled,
    StockReserved,
)
from shared.contracts.logistics import (
    SHIPMENT_EVENTS,
    CarrierStatusReported,
    PickupCancelled,
    PickupPlanned,
    PickupRescheduled,
    PickupScheduled,
)
from shared.messaging.bus import MessageBus, consumer_handler
from shared.messaging.consumer import Handler, Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.logistics") / "migrations"
Bus = MessageBus[LogisticsUnitOfWork]
Database = Callable[[], asyncpg.Pool | asyncpg.Connection | None]


def command_handlers(handlers: Handlers, planner: Planner) -> dict[type, Any]:
    """Every command and its handler: the plain use cases, those that need logistics' settings
    and network (`Handlers`), and the hub-keyed planner's."""
    return use_cases.COMMAND_HANDLERS | {
        ReserveParcels: handlers.reserve_parcels,
        CancelOrder: handlers.cancel_order,
        ReportCarrierStatus: handlers.carrier_status,
        FanOut: handlers.fan_out,
        DeliverWebhooks: handlers.deliver_webhooks,
        PromisePickup: planner.promise,
        WithdrawParcel: planner.withdraw,
        SnapshotWave: planner.snapshot,
        ApplyWavePlan: planner.apply,
        QueueCutoffAgain: queue_cutoff_again,
    }


def message_bus(
    database: Database, handlers: Handlers, planner: Planner, *, producer: str = "logistics"
) -> Bus:
    """Logistics' bus on a database: a pool (the service's, once started), or one connection."""
    return MessageBus(
        lambda: PostgresLogisticsUnitOfWork(database(), producer=producer),
        commands=command_handlers(handlers, planner),
    )


def joiner(producer: str = "logistics") -> Callable[[asyncpg.Connection], LogisticsUnitOfWork]:
    """A unit of work joined to a consumer's transaction on `conn`."""

    def join(conn: asyncpg.Connection) -> LogisticsUnitOfWork:
        return PostgresLogisticsUnitOfWork(conn, producer=producer, joined=True)

    return join


def planning_subscription(
    bus: Bus, planner: Planner, *, producer: str = "logistics"
) -> Subscription:
    """The hub-keyed planner: replicas split the hubs through this topic's partitions."""
    join = joiner(producer)

    def on(translate: Callable[[Envelope, Any], object]) -> Handler:
        return consumer_handler(bus, join, translate)

    return Subscription(
        PLANNING,
        {
            ParcelQueued: on(PromisePickup.of),
            WaveCutoffReached: planner.cutoff_handler(bus, join),
            ParcelWithdrawn: on(WithdrawParcel.of),
        },
    )


def subscriptions(
    bus: Bus, planner: Planner, *, fan_out: bool = False, producer: str = "logistics"
) -> list[Subscription]:
    """What logistics consumes, each event made into the command it asks for; with `fan_out`,
    also its own pickup and shipment events, for the partners' webhooks."""
    join = joiner(producer)

    def on(translate: Callable[[Envelope, Any], object]) -> Handler:
        return consumer_handler(bus, join, translate)

    subs = [
        Subscription(RESERVATIONS, {StockReserved: on(ReserveParcels.of)}),
        planning_subscription(bus, planner, producer=producer),
        Subscription(ORDERS, {OrderCancelled: on(CancelOrder.of)}),
        Subscription(TRACKING, {CarrierStatusReported: on(ReportCarrierStatus.of)}),
    ]
    if fan_out:
        outgoing = (PickupScheduled, PickupRescheduled, PickupCancelled, PickupPlanned)
        subs += [
            Subscription(PICKUPS, dict.fromkeys(outgoing, on(FanOut.of))),
            Subscription(SHIPMENTS, dict.fromkeys(SHIPMENT_EVENTS, on(FanOut.of))),
        ]
    return subs


def owner_of(solver: AsyncSolver):
    """A job that only ends the solver's worker process when the service stops."""

    async def solver_process(_: Service) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            solver.close()

    return solver_process


def build(
    settings: ServiceSettings | None = None, logistics: LogisticsSettings | None = None
) -> Service:
    settings = settings or load_settings("logistics")
    logistics = logistics or LogisticsSettings()
    hubs_file = logistics.hubs_file
    handlers = Handlers(
        logistics, initial_network(Path(hubs_file).read_text() if hubs_file else None)
    )
    planner = Planner(logistics, ProcessSolver(PyVRPSolver(), workers=logistics.solver_workers))
    # The pool exists once the service has started; each unit of work takes it then.
    bus = message_bus(lambda: service.pool, handlers, planner, producer=settings.service)
    background = [cutoff_job(logistics), owner_of(planner.solver)]
    if logistics.partner_webhooks:
        background.append(webhook_job(logistics))
    service = Service(
        settings=settings,
        migrations=MIGRATIONS,
        subscriptions=subscriptions(
            bus, planner, fan_out=bool(logistics.partner_webhooks), producer=settings.service
        ),
        routes=routes(logistics),
        background=background,
        bus=bus,
    )
    return service
