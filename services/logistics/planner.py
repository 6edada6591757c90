"""The hub-keyed use cases: whichever replica owns a hub's partition of logistics.planning.v1
runs them, one message at a time per hub.

- ParcelQueued: the instant promise (cheapest feasible insertion into the wave's current plan),
  or the next wave with room, under the wave's row lock;
- WaveCutoffReached: the wave solve in the worker process, warm-started from the current plan,
  holding no transaction: the wave is read in a short unit of work of its own (SnapshotWave),
  solved outside any, and the plan applied (ApplyWavePlan) in the consumer's transaction only if
  the wave still holds what was solved, else solved again; deferred or unserved parcels move to
  the next wave;
- ParcelWithdrawn: a cancelled shipment leaves the plan (also after dispatch: the stop is
  skipped, the rest of the frozen route stays as it is).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog

from services.logistics.adapters.osrm import OsrmProvider
from services.logistics.adapters.postgres import ACTIVE, as_json
from services.logistics.adapters.uow import LogisticsUnitOfWork
from services.logistics.commands import (
    ApplyWavePlan,
    PromisePickup,
    QueueCutoffAgain,
    SnapshotWave,
    WithdrawParcel,
)
from services.logistics.domain.config import HubConfig
from services.logistics.domain.insertion import place
from services.logistics.domain.matrix import HaversineProvider, Matrix, MatrixProvider
from services.logistics.domain.messages import ParcelQueued, WaveCutoffReached
from services.logistics.domain.network import (
    ScheduledWave,
    cutoff_of,
    next_wave,
    wave_by_id,
)
from services.logistics.domain.planning import Plan, Problem, plan_from_json, plan_to_json, rebuild
from services.logistics.metrics import (
    PARCELS_ON_HOLD,
    PLANNED_TOTAL,
    PROMISE_SECONDS,
    SOLVE_SECONDS,
    WAVE_CHANGED,
    WAVE_KPI,
)
from services.logistics.settings import LogisticsSettings
from services.logistics.solving import AsyncSolver, Planned, plan_problem
from services.logistics.waves import pickup_planned, wave_problem
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import Contact, Location, ReservedLine
from shared.contracts.logistics import PickupCancelled, PickupRescheduled, PickupScheduled
from shared.messaging.bus import MessageBus
from shared.messaging.consumer import Commit, OwnTransactions, Step

log = structlog.get_logger(__name__)
MAX_WAVES_AHEAD = 14
UNPLACEABLE = "unreachable"  # no wave within reach can take the parcel
# Solves of one wave per cut-off message: a wave that keeps changing meanwhile is queued again
# behind its hub's other messages, which are most likely what changes it.
MAX_SOLVES = 3


@dataclass(frozen=True)
class HubWave:
    """A hub-wave as read: its active shipments, their routing problem, its plan."""

    config: HubConfig
    scheduled: ScheduledWave
    rows: list[Any]  # its shipments' rows
    problem: Problem
    stored: Plan  # the stop order kept in the row, to be re-timed on the problem


@dataclass(frozen=True)
class Snapshot:
    """A wave to solve, and its content when read (`db.wave_content`)."""

    wave: HubWave
    content: str | None


async def read_wave(
    uow: LogisticsUnitOfWork, config: HubConfig, scheduled: ScheduledWave, state: Any
) -> HubWave:
    rows = list(await uow.waves.wave_shipments(scheduled.wave_id))
    return HubWave(
        config,
        scheduled,
        rows,
        wave_problem(config, scheduled, rows),
        plan_from_json(as_json(state["plan"])),
    )


async def lock_wave(uow: LogisticsUnitOfWork, config: HubConfig, scheduled: ScheduledWave) -> Any:
    hub = config.hub()
    return await uow.waves.lock_wave(scheduled, cutoff_of(hub, scheduled, config.wave_specs()))


@dataclass
class Planner:
    settings: LogisticsSettings
    solver: AsyncSolver

    def provider(self, config: HubConfig) -> MatrixProvider:
        if self.settings.osrm_url:
            return OsrmProvider(self.settings.osrm_url)
        return HaversineProvider(config.road_factor, config.speed_kmh)

    async def current(self, wave: HubWave) -> tuple[Matrix, Plan]:
        """The wave's plan re-timed on its stops as they are now."""
        matrix = await self.provider(wave.config).matrix(wave.problem.points())
        return matrix, rebuild(wave.problem, matrix, wave.stored)

    # --- the instant promise ----------------------------------------------------------------
    async def promise(self, cmd: PromisePickup, uow: LogisticsUnitOfWork) -> None:
        for event in await self._promise(uow, cmd.message):
            uow.raise_event(event, correlation_id=getattr(event, "order_id", None))

    async def _promise(self, uow: LogisticsUnitOfWork, msg: ParcelQueued) -> list[Event]:
        structlog.contextvars.bind_contextvars(shipment_id=msg.shipment_id, hub_id=msg.hub_id)
        started = time.perf_counter()
        row = await uow.shipments.shipment(msg.shipment_id, lock=True)
        if row is not None:
            structlog.contextvars.bind_contextvars(order_id=row["order_id"])
        config = await uow.network.hub(msg.hub_id)
        if row is None or row["status"] not in ACTIVE or config is None:
            return []  # cancelled meanwhile, or the hub is gone (its parcels wait on hold)
        hub, waves = config.hub(), config.wave_specs()
        now = datetime.now(UTC)
        try:
            wave = wave_by_id(hub, msg.wave_id, waves)
        except ValueError:  # the hub's waves changed since: the next one from now
            wave = next_wave(hub, now, waves)
        if row["status"] == "PICKUP_SCHEDULED" and not msg.announce:
            # A lighter parcel (partial cancellation): once its wave is planned or dispatched
            # the stop stays where it is, frozen with the rest of the plan.
            state = await lock_wave(uow, config, wave)
            if state["status"] != "open" or state["cutoff_at"] <= now:
                return []
        for _ in range(MAX_WAVES_AHEAD):
            state = await lock_wave(uow, config, wave)
            if state["status"] == "open" and state["cutoff_at"] > now:
                if row["run_id"] != wave.wave_id:
                    await uow.shipments.update_shipment(msg.shipment_id, run_id=wave.wave_id)
                placed = await self._place(uow, config, wave, state, row["producer_id"])
                if placed:
                    break
            wave = next_wave(hub, cutoff_of(hub, wave, waves), waves)
        else:
            return await self._hold_unplaceable(uow, row, msg)
        await uow.shipments.update_shipment(
            msg.shipment_id,
            run_id=wave.wave_id,
            status="PICKUP_SCHEDULED",
            window_start=wave.window_start,
            window_end=wave.window_end,
        )
        PROMISE_SECONDS.observe(time.perf_counter() - started)
        log.info("pickup.promised", wave_id=wave.wave_id)
        if msg.announce:
            return [scheduled(row, config.hub_id, wave)]
        if wave.wave_id != msg.wave_id:  # told one wave, placed in a later one
            return [rescheduled(row, wave, "the wave it was moved to is full")]
        return []

    async def _hold_unplaceable(
        self, uow: LogisticsUnitOfWork, row, msg: ParcelQueued
    ) -> list[Event]:
        """No wave within reach takes the parcel (out of every vehicle's reach in a window, or
        the waves are full): it waits on hold for an operator, instead of retrying into the
        dead-letter topic. A producer already told a window hears it is off."""
        await uow.shipments.update_shipment(
            msg.shipment_id, status="ON_HOLD", hold_reason=UNPLACEABLE, run_id=None
        )
        PARCELS_ON_HOLD.labels(UNPLACEABLE).inc()
        log.warning("shipment.on_hold", reason=UNPLACEABLE, waves_tried=MAX_WAVES_AHEAD)
        if msg.announce:
            return []
        return [
            PickupCancelled(
                shipment_id=row["shipment_id"],
                order_id=row["order_id"],
                order_ref=row["order_ref"] or row["order_id"],
                producer_id=row["producer_id"],
                pickup_contact=Contact.model_validate(as_json(row["contact"])),
                reason=f"on_hold:{UNPLACEABLE}",
            )
        ]

    async def _place(
        self, uow: LogisticsUnitOfWork, config: HubConfig, wave: ScheduledWave, state, producer: str
    ) -> bool:
        current = await read_wave(uow, config, wave, state)
        matrix, plan = await self.current(current)
        placement = place(current.problem, matrix, plan, producer)
        if placement.visit is None:
            return False  # the wave is full: the parcel goes to the next one
        await uow.waves.save_wave(wave.wave_id, plan_to_json(placement.plan))
        return True

    # --- the wave solve at cut-off ------------------------------------------------------------
    def cutoff_handler(
        self, bus: MessageBus[Any], join: Callable[[asyncpg.Connection], LogisticsUnitOfWork]
    ) -> OwnTransactions:
        """The consumer's handler of WaveCutoffReached. The one path not handed whole to the bus:
        the solve (seconds) must hold no transaction, so it runs between two units of work, the
        snapshot's own and the apply's, which joins the consumer's transaction (the inbox claim
        commits with the plan, or the message is retried)."""

        async def plan_wave(
            pool: asyncpg.Pool, env: Envelope, msg: WaveCutoffReached, commit: Commit
        ) -> None:
            await self.plan_wave(bus, join, env, msg, commit)

        return OwnTransactions(plan_wave)  # type: ignore[arg-type]

    async def plan_wave(
        self,
        bus: MessageBus[Any],
        join: Callable[[asyncpg.Connection], LogisticsUnitOfWork],
        env: Envelope,
        msg: WaveCutoffReached,
        commit: Commit,
    ) -> None:
        structlog.contextvars.bind_contextvars(hub_id=msg.hub_id, wave_id=msg.wave_id)

        def step(command: object) -> Step:
            return _in_consumer(bus, join, env, command)

        for attempt in range(1, MAX_SOLVES + 1):
            snapshot = await bus.handle(SnapshotWave(msg.hub_id, msg.wave_id))
            if snapshot is None:  # nothing to plan: only the message is recorded as handled
                await commit(_nothing)
                return
            solved, elapsed = await self._solve(snapshot.wave)
            if await commit(step(ApplyWavePlan(snapshot, solved, elapsed))):
                return
            log.warning("wave.changed_while_solving", attempt=attempt)
            if attempt < MAX_SOLVES:
                WAVE_CHANGED.labels(msg.hub_id, "solved_again").inc()
        await commit(step(QueueCutoffAgain(msg)))
        WAVE_CHANGED.labels(msg.hub_id, "queued_again").inc()
        log.warning("wave.queued_again", solves=MAX_SOLVES)

    async def snapshot(self, cmd: SnapshotWave, uow: LogisticsUnitOfWork) -> Snapshot | None:
        found = await _hub_wave(uow, cmd.hub_id, cmd.wave_id)
        if found is None:
            return None
        config, scheduled = found
        content = await uow.waves.wave_content(scheduled.wave_id)
        state = await lock_wave(uow, config, scheduled)
        if state["status"] not in ("open", "cutoff_queued"):
            return None  # planned already (a redelivered cut-off)
        return Snapshot(await read_wave(uow, config, scheduled, state), content)

    async def _solve(self, wave: HubWave) -> tuple[Planned, float]:
        started = time.perf_counter()
        solved = await plan_problem(
            wave.problem,
            self.provider(wave.config),
            self.solver,
            seconds=self.settings.solve_seconds or wave.config.solve_seconds,
            initial=wave.stored,
            max_iterations=self.settings.solve_iterations,
        )
        elapsed = time.perf_counter() - started
        SOLVE_SECONDS.labels(wave.config.hub_id).observe(elapsed)
        return solved, elapsed

    async def apply(self, cmd: ApplyWavePlan, uow: LogisticsUnitOfWork) -> bool:
        """The plan's writes and events; False (nothing written) when the wave changed since its
        snapshot."""
        snapshot, elapsed = cmd.snapshot, cmd.elapsed
        wave, plan = snapshot.wave, cmd.solved.plan
        wave_id, hub_id = wave.scheduled.wave_id, wave.config.hub_id
        await uow.waves.wave_content(wave_id)  # locks its shipments until the commit
        if not await uow.waves.save_planned_wave(wave_id, plan_to_json(plan), snapshot.content):
            return False
        planned = pickup_planned(
            wave.config, wave.scheduled, wave.problem, plan, wave.rows, wave_id
        )
        details = planned.model_dump(mode="json") | {"solver": plan.solver, "notes": plan.notes}
        await uow.waves.save_plan(wave_id, hub_id, wave_id, details, cmd.solved.kpis, elapsed)
        _record_kpis(hub_id, cmd.solved.kpis)
        log.info(
            "wave.planned",
            routes=len(plan.routes),
            deferred=len(plan.deferred),
            unserved=len(plan.unserved),
            cost=plan.cost,
            solve_s=round(elapsed, 2),
        )
        for event in [planned, *await _move_left_parcels(uow, wave, plan)]:
            uow.raise_event(event, correlation_id=f"wave:{wave_id}")
        return True

    # --- cancellations --------------------------------------------------------------------------
    async def withdraw(self, cmd: WithdrawParcel, uow: LogisticsUnitOfWork) -> None:
        msg = cmd.message
        row = await uow.shipments.shipment(msg.shipment_id)
        if row is not None:
            structlog.contextvars.bind_contextvars(
                order_id=row["order_id"], shipment_id=msg.shipment_id
            )
        found = await _hub_wave(uow, msg.hub_id, msg.wave_id)
        if found is None:
            return
        config, scheduled = found
        state = await lock_wave(uow, config, scheduled)
        _, kept = await self.current(await read_wave(uow, config, scheduled, state))
        await uow.waves.save_wave(scheduled.wave_id, plan_to_json(kept))


async def queue_cutoff_again(cmd: QueueCutoffAgain, uow: LogisticsUnitOfWork) -> None:
    msg = cmd.message
    uow.raise_event(
        WaveCutoffReached(hub_id=msg.hub_id, wave_id=msg.wave_id),
        correlation_id=f"wave:{msg.wave_id}",
    )


def _in_consumer(
    bus: MessageBus[Any],
    join: Callable[[asyncpg.Connection], LogisticsUnitOfWork],
    env: Envelope,
    command: object,
) -> Step:
    """A step of the consumer's transaction (`Commit`): `command` on the bus in a unit of work
    joined to it, its events in the outbox; None (the transaction rolls back) when the command
    answers False."""

    async def step(conn: asyncpg.Connection) -> Sequence[Event] | None:
        async with join(conn) as uow:
            with uow.caused_by(env):
                done = await bus.handle(command, uow)
            if done is False:
                await uow.rollback()
                return None
            await uow.commit()
        return []  # already in the outbox

    return step


async def _move_left_parcels(uow: LogisticsUnitOfWork, wave: HubWave, plan: Plan) -> list[Event]:
    """Deferred or unserved parcels go to the next wave, their producers told."""
    hub, waves = wave.config.hub(), wave.config.wave_specs()
    later = next_wave(hub, cutoff_of(hub, wave.scheduled, waves), waves)
    left = {p: "deferred to the next wave" for p in plan.deferred} | {
        p: "no vehicle left in this wave" for p in plan.unserved
    }
    events: list[Event] = []
    for row in wave.rows:
        reason = left.get(row["producer_id"])
        if reason is None:
            continue
        await uow.shipments.update_shipment(
            row["shipment_id"],
            run_id=later.wave_id,
            status="QUEUED",
            deferrals=row["deferrals"] + 1,
            window_start=later.window_start,
            window_end=later.window_end,
        )
        events.append(rescheduled(row, later, reason))
        events.append(
            ParcelQueued(
                hub_id=hub.hub_id,
                wave_id=later.wave_id,
                shipment_id=row["shipment_id"],
                announce=False,
            )
        )
    return events


async def _nothing(conn: asyncpg.Connection) -> list[Event]:
    return []


async def _hub_wave(
    uow: LogisticsUnitOfWork, hub_id: str, wave_id: str
) -> tuple[HubConfig, ScheduledWave] | None:
    config = await uow.network.hub(hub_id)
    if config is None:
        return None
    scheduled = _known_wave(config, wave_id)
    return None if scheduled is None else (config, scheduled)


def _known_wave(config: HubConfig, wave_id: str) -> ScheduledWave | None:
    try:
        return wave_by_id(config.hub(), wave_id, config.wave_specs())
    except ValueError:
        log.warning("wave.unknown", wave_id=wave_id)
        return None


def _record_kpis(hub_id: str, kpis: dict) -> None:
    for kind in ("plan", "one_trip_per_order", "one_trip_per_village"):
        figures = kpis[kind]
        for kpi in (
            "cost",
            "km",
            "routes",
            "stops_per_route",
            "parcels_per_stop",
            "weight_fill",
            "volume_fill",
            "on_time_pct",
            "deferred",
            "cost_per_parcel",
        ):
            WAVE_KPI.labels(hub_id, kind, kpi).set(figures[kpi])
        for measure in ("cost", "km", "parcels", "late", "deferred"):  # late: stops
            PLANNED_TOTAL.labels(hub_id, kind, measure).inc(figures[measure])


def scheduled(row, hub_id: str, wave: ScheduledWave) -> PickupScheduled:
    lines = [ReservedLine.model_validate(line) for line in as_json(row["lines"])]
    return PickupScheduled(
        shipment_id=row["shipment_id"],
        order_id=row["order_id"],
        order_ref=row["order_ref"] or row["order_id"],
        producer_id=row["producer_id"],
        hub_id=hub_id,
        wave_id=wave.wave_id,
        window_start=wave.window_start,
        window_end=wave.window_end,
        pickup_contact=Contact.model_validate(as_json(row["contact"])),
        location=Location.model_validate(as_json(row["location"])),
        lines=lines,
        weight_g=row["weight_g"],
        parcels=row["parcels"],
        cod_amount=row["cod_amount"] or None,
        currency=row["currency"],
    )


def rescheduled(row, wave: ScheduledWave, reason: str) -> PickupRescheduled:
    return PickupRescheduled(
        shipment_id=row["shipment_id"],
        order_id=row["order_id"],
        order_ref=row["order_ref"] or row["order_id"],
        producer_id=row["producer_id"],
        pickup_contact=Contact.model_validate(as_json(row["contact"])),
        window_start=wave.window_start,
        window_end=wave.window_end,
        reason=reason,
    )
