"""In-memory fakes of logistics' repositories and unit of work, to drive its use cases through the
bus without a database.

The fakes keep what the handlers rely on from adapters/postgres.py: a shipment once per id,
rows read as they were when read (a copy), the default columns, carrier updates and
cancellations kept once, a wave row made on first use. They leave out what only the database
does: locks, and the wave content check of a plan solved outside any transaction (the
PostgreSQL tests cover those)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.logistics.adapters.postgres import ACTIVE
from services.logistics.adapters.uow import LogisticsUnitOfWork
from services.logistics.bootstrap import command_handlers
from services.logistics.domain.config import HubConfig
from services.logistics.domain.network import ScheduledWave
from services.logistics.domain.tracking import TrackingUpdate
from services.logistics.handlers import Handlers
from services.logistics.planner import Planner
from services.logistics.settings import LogisticsSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.orders import OrderCancelled
from shared.messaging.bus import MessageBus
from tests.shared.fake_uow import InMemoryUnitOfWork

Row = dict[str, Any]
SHIPMENT_DEFAULTS: Row = {
    "deferrals": 0,
    "status_at": None,
    "carrier": None,
    "carrier_status": None,
    "tracking_number": None,
    "window_start": None,
    "window_end": None,
}


@dataclass
class Store:
    """What logistics' database holds, in memory."""

    hubs: dict[str, HubConfig] = field(default_factory=dict)
    shipments: dict[str, Row] = field(default_factory=dict)
    cancellations: dict[uuid.UUID, tuple[OrderCancelled, datetime]] = field(default_factory=dict)
    tracking: dict[tuple, bool] = field(default_factory=dict)  # key -> applied
    waiting: dict[tuple, TrackingUpdate] = field(default_factory=dict)
    waves: dict[str, Row] = field(default_factory=dict)
    plans: dict[str, Row] = field(default_factory=dict)
    deliveries: list[Row] = field(default_factory=list)


def _key(update: TrackingUpdate) -> tuple:
    return (update.carrier, update.reference, update.code, update.occurred_at)


class FakeNetwork:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def network(self) -> list[HubConfig]:
        return [self.store.hubs[h] for h in sorted(self.store.hubs)]

    async def seed_network(self, configs: list[HubConfig]) -> None:
        if not self.store.hubs:
            for config in configs:
                await self.put_hub(config)

    async def put_hub(self, config: HubConfig) -> None:
        self.store.hubs[config.hub_id] = config

    async def hub(self, hub_id: str) -> HubConfig | None:
        return self.store.hubs.get(hub_id)


class FakeShipments:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def lock_order(self, order_id: str) -> None:
        return None

    async def insert_shipment(self, **values: Any) -> bool:
        clash = any(
            (s["order_id"], s["producer_id"]) == (values["order_id"], values["producer_id"])
            for s in self.store.shipments.values()
        )
        if values["shipment_id"] in self.store.shipments or clash:
            return False
        self.store.shipments[values["shipment_id"]] = SHIPMENT_DEFAULTS | values
        return True

    async def shipment(self, shipment_id: str, *, lock: bool = False) -> Row | None:
        row = self.store.shipments.get(shipment_id)
        return dict(row) if row is not None else None

    async def shipment_by_tracking(self, carrier: str, number: str) -> Row | None:
        for row in self.store.shipments.values():
            if (row["carrier"], row["tracking_number"]) == (carrier, number):
                return dict(row)
        return None

    async def order_shipments(self, order_id: str) -> Sequence[Row]:
        return [
            dict(row)
            for _, row in sorted(self.store.shipments.items())
            if row["order_id"] == order_id
        ]

    async def update_shipment(self, shipment_id: str, **values: Any) -> None:
        self.store.shipments[shipment_id].update(values)

    async def keep_cancellation(
        self, event_id: uuid.UUID, event: OrderCancelled, occurred_at: datetime
    ) -> None:
        self.store.cancellations.setdefault(event_id, (event, occurred_at))

    async def order_cancellations(self, order_id: str) -> list[tuple[OrderCancelled, datetime]]:
        found = [c for c in self.store.cancellations.values() if c[0].order_id == order_id]
        return sorted(found, key=lambda c: c[1])

    async def record_tracking(
        self, update: TrackingUpdate, shipment_id: str, applied: bool
    ) -> bool:
        if _key(update) in self.store.tracking:
            return False
        self.store.tracking[_key(update)] = applied
        return True

    async def keep_waiting_tracking(self, update: TrackingUpdate) -> bool:
        if _key(update) in self.store.waiting:
            return False
        self.store.waiting[_key(update)] = update
        return True

    async def take_waiting_tracking(
        self, shipment_id: str, numbers: Sequence[tuple[str, str]] = ()
    ) -> list[TrackingUpdate]:
        taken = [
            key
            for key, u in self.store.waiting.items()
            if u.shipment_id == shipment_id
            or (u.shipment_id is None and (u.carrier, u.tracking_number) in set(numbers))
        ]
        return [self.store.waiting.pop(key) for key in taken]


class FakeWaves:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def lock_wave(self, wave: ScheduledWave, cutoff_at: datetime) -> Row:
        row = self.store.waves.setdefault(
            wave.wave_id,
            {
                "wave_id": wave.wave_id,
                "hub_id": wave.hub_id,
                "window_start": wave.window_start,
                "window_end": wave.window_end,
                "cutoff_at": cutoff_at,
                "status": "open",
                "plan": {"routes": []},
            },
        )
        return dict(row)

    async def wave_shipments(self, wave_id: str) -> Sequence[Row]:
        rows = [
            dict(r)
            for r in self.store.shipments.values()
            if r["run_id"] == wave_id and r["status"] in ACTIVE
        ]
        return sorted(rows, key=lambda r: (r["producer_id"], r["shipment_id"]))

    async def wave_content(self, wave_id: str) -> str | None:
        rows = sorted(await self.wave_shipments(wave_id), key=lambda r: r["shipment_id"])
        return repr(rows) if rows else None

    async def save_wave(self, wave_id: str, plan: dict[str, Any]) -> None:
        self.store.waves[wave_id]["plan"] = plan

    async def save_planned_wave(
        self, wave_id: str, plan: dict[str, Any], content: str | None
    ) -> bool:
        wave = self.store.waves[wave_id]
        if wave["status"] not in ("open", "cutoff_queued"):
            return False
        if await self.wave_content(wave_id) != content:
            return False
        wave.update(plan=plan, status="planned", plan_id=wave_id)
        return True

    async def save_plan(
        self,
        plan_id: str,
        hub_id: str,
        wave_id: str,
        plan: dict[str, Any],
        kpis: dict[str, Any],
        solve_seconds: float,
    ) -> None:
        self.store.plans[plan_id] = {
            "plan_id": plan_id,
            "hub_id": hub_id,
            "wave_id": wave_id,
            "plan": plan,
            "kpis": kpis,
            "solve_seconds": solve_seconds,
        }

    async def due_cutoffs(self) -> Sequence[Row]:
        due = []
        for wave in self.store.waves.values():
            if wave["status"] == "open" and wave["cutoff_at"] <= datetime.now(UTC):
                wave["status"] = "cutoff_queued"
                due.append({"wave_id": wave["wave_id"], "hub_id": wave["hub_id"]})
        return due

    async def dispatch_started_waves(self) -> int:
        return 0

    async def plan(self, plan_id: str) -> Row | None:
        return self.store.plans.get(plan_id)

    async def day_plans(self, hub_id: str, day: str) -> Sequence[Row]:
        prefix = f"{hub_id}-{day}-"
        return [p for k, p in sorted(self.store.plans.items()) if k.startswith(prefix)]


class FakeDeliveries:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def enqueue_delivery(self, **values: Any) -> None:
        known = {(d["partner"], d["event_id"]) for d in self.store.deliveries}
        if (values["partner"], values["event_id"]) not in known:
            row = {"id": len(self.store.deliveries) + 1, "status": "pending", "attempts": 0}
            self.store.deliveries.append(row | values)

    async def due_deliveries(self, limit: int) -> Sequence[Row]:
        # The fake ignores the backoff: every pending delivery is due.
        return [dict(d) for d in self.store.deliveries if d["status"] == "pending"][:limit]

    async def delivery_outcome(
        self, delivery_id: int, status: str, retry_in_s: float = 0.0, error: str | None = None
    ) -> None:
        row = self.store.deliveries[delivery_id - 1]
        row.update(status=status, attempts=row["attempts"] + 1, last_error=error)


class FakeUnitOfWork(InMemoryUnitOfWork, LogisticsUnitOfWork):
    """The fake outbox and inbox keep only what a commit wrote, as the database does; the
    repositories are not rolled back (a test that needs it uses the database)."""

    def __init__(self, store: Store | None = None) -> None:
        super().__init__("logistics")
        self.store = store or Store()
        self.network = FakeNetwork(self.store)
        self.shipments = FakeShipments(self.store)
        self.waves = FakeWaves(self.store)
        self.deliveries = FakeDeliveries(self.store)


def fake_bus(
    uow: FakeUnitOfWork,
    network: list[HubConfig],
    settings: LogisticsSettings | None = None,
    planner: Planner | None = None,
) -> MessageBus[LogisticsUnitOfWork]:
    """Logistics' bus with its own handler list, every unit of work being `uow`; the network
    seeds the hubs on first use. Without `planner`, no solver (the instant promise needs none)."""
    settings = settings or LogisticsSettings()
    planner = planner or Planner(settings, solver=None)  # type: ignore[arg-type]
    return MessageBus(lambda: uow, commands=command_handlers(Handlers(settings, network), planner))


async def consume(
    bus: MessageBus[LogisticsUnitOfWork],
    uow: FakeUnitOfWork,
    translate: Callable[[Envelope, Any], object],
    event: Event,
    envelope: Envelope | None = None,
) -> bool:
    """`event` received as logistics' consumer takes it (`consumer_handler`): claimed in the
    inbox, made into its command, handled in the unit of work, committed. False when the inbox
    had it already (a redelivery)."""
    envelope = envelope or Envelope.wrap(
        event, producer="test", correlation_id=getattr(event, "order_id", "test")
    )
    async with uow:
        with uow.caused_by(envelope):
            claimed = await uow.claim("logistics", envelope, event.topic)
            if claimed:
                await bus.handle(translate(envelope, event), uow)
        await uow.commit()
    return claimed
