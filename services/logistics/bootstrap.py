"""The logistics service's composition root."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path

from services.logistics.adapters.pyvrp_solver import PyVRPSolver
from services.logistics.adapters.worker import ProcessSolver
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
from services.logistics.planner import Planner
from services.logistics.settings import LogisticsSettings
from services.logistics.solving import AsyncSolver
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
from shared.messaging.consumer import Subscription
from shared.runtime import Service
from shared.settings import ServiceSettings, load_settings

MIGRATIONS = resources.files("services.logistics") / "migrations"


def planning_subscription(planner: Planner) -> Subscription:
    """The hub-keyed planner: replicas split the hubs through this topic's partitions."""
    return Subscription(
        PLANNING,
        {
            ParcelQueued: planner.promise,
            WaveCutoffReached: planner.cutoff_handler(),
            ParcelWithdrawn: planner.withdraw,
        },
    )


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
    logistics = logistics or LogisticsSettings()
    hubs_file = logistics.hubs_file
    handlers = Handlers(
        logistics, initial_network(Path(hubs_file).read_text() if hubs_file else None)
    )
    planner = Planner(logistics, ProcessSolver(PyVRPSolver(), workers=logistics.solver_workers))
    subscriptions = [
        Subscription(RESERVATIONS, {StockReserved: handlers.reserve_parcels}),
        planning_subscription(planner),
        Subscription(ORDERS, {OrderCancelled: handlers.cancel_order}),
        Subscription(TRACKING, {CarrierStatusReported: handlers.carrier_status}),
    ]
    background = [cutoff_job(logistics), owner_of(planner.solver)]
    if logistics.partner_webhooks:
        outgoing = (PickupScheduled, PickupRescheduled, PickupCancelled, PickupPlanned)
        subscriptions += [
            Subscription(PICKUPS, dict.fromkeys(outgoing, handlers.fan_out)),
            Subscription(SHIPMENTS, dict.fromkeys(SHIPMENT_EVENTS, handlers.fan_out)),
        ]
        background.append(webhook_job(logistics))
    return Service(
        settings=settings or load_settings("logistics"),
        migrations=MIGRATIONS,
        subscriptions=subscriptions,
        routes=routes(logistics),
        background=background,
    )
