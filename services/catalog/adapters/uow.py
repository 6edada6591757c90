"""The catalog's unit of work: its repositories, the inbox and the outbox, in one transaction."""

from __future__ import annotations

import asyncpg

from services.catalog.adapters.repository import (
    CatalogRepository,
    PostgresCatalog,
    PostgresStock,
    StockRepository,
)
from shared.db.uow import PostgresUnitOfWork, UnitOfWork

SERVICE = "catalog"


class CatalogUnitOfWork(UnitOfWork):
    catalog: CatalogRepository
    stock: StockRepository


class PostgresCatalogUnitOfWork(PostgresUnitOfWork, CatalogUnitOfWork):
    service = SERVICE

    def _bind(self, conn: asyncpg.Connection) -> None:
        self.catalog = PostgresCatalog(conn)
        self.stock = PostgresStock(conn)
