"""What the catalog's route handlers need, bound to them by `shared.http.route`."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.catalog.adapters.uow import CatalogUnitOfWork
from services.catalog.settings import CatalogSettings
from shared.messaging.bus import MessageBus
from shared.runtime import Service


@dataclass(frozen=True)
class CatalogHttp:
    """What the catalog's handlers need: the running service (its pool opens at start, after
    the routes are built, its bus takes the admin API's commands, and its settings hold the
    admin token) and the catalog's options."""

    service: Service
    options: CatalogSettings

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.service.pool is not None
        return self.service.pool

    @property
    def bus(self) -> MessageBus[CatalogUnitOfWork]:
        assert self.service.bus is not None
        return self.service.bus

    @property
    def admin_token(self) -> str | None:
        token = self.service.settings.admin_token
        return token.get_secret_value() if token else None
