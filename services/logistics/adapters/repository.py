"""The logistics repositories: what its handlers read and write, whatever holds it.

`NetworkRepository` holds the hubs; `ShipmentRepository` the shipments and the facts that can
come before them (cancellations, carrier updates); `WaveRepository` the waves' plans and the
stored plans; `DeliveryRepository` the partner webhooks owed. The PostgreSQL ones run
adapters/postgres.py on the unit of work's connection (its rules are the source of truth: the
migrations' constraints); unit tests use in-memory fakes with the same methods. Rows are read as
mappings (`row["status"]`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from services.logistics.adapters import postgres as db
from services.logistics.domain.config import HubConfig
from services.logistics.domain.network import ScheduledWave
from services.logistics.domain.tracking import TrackingUpdate
from shared.contracts.orders import OrderCancelled

Row = Mapping[str, Any]


class NetworkRepository(Protocol):
    async def network(self) -> list[HubConfig]: ...

    async def seed_network(self, configs: list[HubConfig]) -> None: ...

    async def put_hub(self, config: HubConfig) -> None: ...

    async def hub(self, hub_id: str) -> HubConfig | None: ...


class ShipmentRepository(Protocol):
    async def lock_order(self, order_id: str) -> None: ...

    async def insert_shipment(self, **values: Any) -> bool: ...

    async def shipment(self, shipment_id: str, *, lock: bool = False) -> Row | None: ...

    async def shipment_by_tracking(self, carrier: str, number: str) -> Row | None: ...

    async def order_shipments(self, order_id: str) -> Sequence[Row]: ...

    async def update_shipment(self, shipment_id: str, **values: Any) -> None: ...

    async def keep_cancellation(
        self, event_id: uuid.UUID, event: OrderCancelled, occurred_at: datetime
    ) -> None: ...

    async def order_cancellations(self, order_id: str) -> list[tuple[OrderCancelled, datetime]]: ...

    async def record_tracking(
        self, update: TrackingUpdate, shipment_id: str, applied: bool
    ) -> bool: ...

    async def keep_waiting_tracking(self, update: TrackingUpdate) -> bool: ...

    async def take_waiting_tracking(
        self, shipment_id: str, numbers: Sequence[tuple[str, str]] = ()
    ) -> list[TrackingUpdate]: ...


class WaveRepository(Protocol):
    async def lock_wave(self, wave: ScheduledWave, cutoff_at: datetime) -> Row: ...

    async def wave_shipments(self, wave_id: str) -> Sequence[Row]: ...

    async def wave_content(self, wave_id: str) -> str | None: ...

    async def save_wave(self, wave_id: str, plan: dict[str, Any]) -> None: ...

    async def save_planned_wave(
        self, wave_id: str, plan: dict[str, Any], content: str | None
    ) -> bool: ...

    async def save_plan(
        self,
        plan_id: str,
        hub_id: str,
        wave_id: str,
        plan: dict[str, Any],
        kpis: dict[str, Any],
        solve_seconds: float,
    ) -> None: ...

    async def due_cutoffs(self) -> Sequence[Row]: ...

    async def dispatch_started_waves(self) -> int: ...

    async def plan(self, plan_id: str) -> Row | None: ...

    async def day_plans(self, hub_id: str, day: str) -> Sequence[Row]: ...


class DeliveryRepository(Protocol):
    async def enqueue_delivery(self, **values: Any) -> None: ...

    async def due_deliveries(self, limit: int) -> Sequence[Row]: ...

    async def delivery_outcome(
        self, delivery_id: int, status: str, retry_in_s: float = 0.0, error: str | None = None
    ) -> None: ...


class PostgresNetwork:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def network(self) -> list[HubConfig]:
        return await db.network(self._conn)

    async def seed_network(self, configs: list[HubConfig]) -> None:
        await db.seed_network(self._conn, configs)

    async def put_hub(self, config: HubConfig) -> None:
        await db.put_hub(self._conn, config)

    async def hub(self, hub_id: str) -> HubConfig | None:
        return await db.hub(self._conn, hub_id)


class PostgresShipments:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def lock_order(self, order_id: str) -> None:
        await db.lock_order(self._conn, order_id)

    async def insert_shipment(self, **values: Any) -> bool:
        return await db.insert_shipment(self._conn, **values)

    async def shipment(self, shipment_id: str, *, lock: bool = False) -> Row | None:
        return await db.shipment(self._conn, shipment_id, lock=lock)

    async def shipment_by_tracking(self, carrier: str, number: str) -> Row | None:
        return await db.shipment_by_tracking(self._conn, carrier, number)

    async def order_shipments(self, order_id: str) -> Sequence[Row]:
        return await db.order_shipments(self._conn, order_id)

    async def update_shipment(self, shipment_id: str, **values: Any) -> None:
        await db.update_shipment(self._conn, shipment_id, **values)

    async def keep_cancellation(
        self, event_id: uuid.UUID, event: OrderCancelled, occurred_at: datetime
    ) -> None:
        await db.keep_cancellation(self._conn, event_id, event, occurred_at)

    async def order_cancellations(self, order_id: str) -> list[tuple[OrderCancelled, datetime]]:
        return await db.order_cancellations(self._conn, order_id)

    async def record_tracking(
        self, update: TrackingUpdate, shipment_id: str, applied: bool
    ) -> bool:
        return await db.record_tracking(self._conn, update, shipment_id, applied)

    async def keep_waiting_tracking(self, update: TrackingUpdate) -> bool:
        return await db.keep_waiting_tracking(self._conn, update)

    async def take_waiting_tracking(
        self, shipment_id: str, numbers: Sequence[tuple[str, str]] = ()
    ) -> list[TrackingUpdate]:
        return await db.take_waiting_tracking(self._conn, shipment_id, numbers)


class PostgresWaves:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def lock_wave(self, wave: ScheduledWave, cutoff_at: datetime) -> Row:
        return await db.lock_wave(self._conn, wave, cutoff_at)

    async def wave_shipments(self, wave_id: str) -> Sequence[Row]:
        return await db.wave_shipments(self._conn, wave_id)

    async def wave_content(self, wave_id: str) -> str | None:
        return await db.wave_content(self._conn, wave_id)

    async def save_wave(self, wave_id: str, plan: dict[str, Any]) -> None:
        await db.save_wave(self._conn, wave_id, plan)

    async def save_planned_wave(
        self, wave_id: str, plan: dict[str, Any], content: str | None
    ) -> bool:
        return await db.save_planned_wave(self._conn, wave_id, plan, content)

    async def save_plan(
        self,
        plan_id: str,
        hub_id: str,
        wave_id: str,
        plan: dict[str, Any],
        kpis: dict[str, Any],
        solve_seconds: float,
    ) -> None:
        await db.save_plan(self._conn, plan_id, hub_id, wave_id, plan, kpis, solve_seconds)

    async def due_cutoffs(self) -> Sequence[Row]:
        return await db.due_cutoffs(self._conn)

    async def dispatch_started_waves(self) -> int:
        return await db.dispatch_started_waves(self._conn)

    async def plan(self, plan_id: str) -> Row | None:
        return await db.plan(self._conn, plan_id)

    async def day_plans(self, hub_id: str, day: str) -> Sequence[Row]:
        return await db.day_plans(self._conn, hub_id, day)


class PostgresDeliveries:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def enqueue_delivery(self, **values: Any) -> None:
        await db.enqueue_delivery(self._conn, **values)

    async def due_deliveries(self, limit: int) -> Sequence[Row]:
        return await db.due_deliveries(self._conn, limit)

    async def delivery_outcome(
        self, delivery_id: int, status: str, retry_in_s: float = 0.0, error: str | None = None
    ) -> None:
        await db.delivery_outcome(self._conn, delivery_id, status, retry_in_s, error)
