"""The logistics unit of work: its repositories, the inbox and the outbox, in one transaction."""

from __future__ import annotations

import asyncpg

from services.logistics.adapters.repository import (
    DeliveryRepository,
    NetworkRepository,
    PostgresDeliveries,
    PostgresNetwork,
    PostgresShipments,
    PostgresWaves,
    ShipmentRepository,
    WaveRepository,
)
from shared.db.uow import PostgresUnitOfWork, UnitOfWork

SERVICE = "logistics"


class LogisticsUnitOfWork(UnitOfWork):
    network: NetworkRepository
    shipments: ShipmentRepository
    waves: WaveRepository
    deliveries: DeliveryRepository


class PostgresLogisticsUnitOfWork(PostgresUnitOfWork, LogisticsUnitOfWork):
    service = SERVICE

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.network = PostgresNetwork(conn)
        self.shipments = PostgresShipments(conn)
        self.waves = PostgresWaves(conn)
        self.deliveries = PostgresDeliveries(conn)
