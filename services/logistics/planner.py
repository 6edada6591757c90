"""The hub-keyed use cases: whichever replica owns a hub's partition of logistics.planning.v1
runs them, one message at a time per hub, under the wave's row lock.

- ParcelQueued: the instant promise (cheapest feasible insertion into the wave's current plan),
  or the next wave with room;
- WaveCutoffReached: the wave solve in the worker process, warm-started from the current plan;
  deferred or unserved parcels move to the next wave;
- ParcelWithdrawn: a cancelled shipment leaves the plan (also after dispatch: the stop is
  skipped, the rest of the frozen route stays as it is).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog

from services.logistics.adapters import postgres as db
from services.logistics.adapters.osrm import OsrmProvider
from services.logistics.adapters.worker import ProcessSolver
from services.logistics.domain.config import HubConfig
from services.logistics.domain.insertion import place
from services.logistics.domain.kpis import compare
from services.logistics.domain.matrix import HaversineProvider, MatrixProvider
from services.logistics.domain.messages import ParcelQueued, ParcelWithdrawn, WaveCutoffReached
from services.logistics.domain.network import (
    ScheduledWave,
    cutoff_of,
    next_wave,
    wave_by_id,
)
from services.logistics.domain.planning import plan_from_json, plan_to_json, rebuild
from services.logistics.metrics import (
    PARCELS_ON_HOLD,
    PLANNED_TOTAL,
    PROMISE_SECONDS,
    SOLVE_SECONDS,
    WAVE_KPI,
)
from services.logistics.settings import LogisticsSettings
from services.logistics.waves import pickup_planned, wave_problem
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import Contact, Location, ReservedLine
from shared.contracts.logistics import PickupCancelled, PickupRescheduled, PickupScheduled

log = structlog.get_logger(__name__)
MAX_WAVES_AHEAD = 14
UNPLACEABLE = "unreachable"  # no wave within reach can take the parcel


@dataclass
class Planner:
    settings: LogisticsSettings
    solver: ProcessSolver

    def provider(self, config: HubConfig) -> MatrixProvider:
        if self.settings.osrm_url:
            return OsrmProvider(self.settings.osrm_url)
        return HaversineProvider(config.road_factor, config.speed_kmh)

    # --- the instant promise ----------------------------------------------------------------
    async def promise(
        self, conn: asyncpg.Connection, env: Envelope, msg: ParcelQueued
    ) -> list[Event]:
        structlog.contextvars.bind_contextvars(shipment_id=msg.shipment_id, hub_id=msg.hub_id)
        started = time.perf_counter()
        row = await db.shipment(conn, msg.shipment_id, lock=True)
        if row is not None:
            structlog.contextvars.bind_contextvars(order_id=row["order_id"])
        config = await db.hub(conn, msg.hub_id)
        if row is None or row["status"] not in db.ACTIVE or config is None:
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
            state = await db.lock_wave(conn, wave, cutoff_of(hub, wave, waves))
            if state["status"] != "open" or state["cutoff_at"] <= now:
                return []
        for _ in range(MAX_WAVES_AHEAD):
            state = await db.lock_wave(conn, wave, cutoff_of(hub, wave, waves))
            if state["status"] == "open" and state["cutoff_at"] > now:
                if row["run_id"] != wave.wave_id:
                    await db.update_shipment(conn, msg.shipment_id, run_id=wave.wave_id)
                placed = await self._place(conn, config, wave, state, row["producer_id"])
                if placed:
                    break
            wave = next_wave(hub, cutoff_of(hub, wave, waves), waves)
        else:
            return await self._hold_unplaceable(conn, row, msg)
        await db.update_shipment(
            conn,
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

    async def _hold_unplaceable(self, conn, row, msg: ParcelQueued) -> list[Event]:
        """No wave within reach takes the parcel (out of every vehicle's reach in a window, or
        the waves are full): it waits on hold for an operator, instead of retrying into the
        dead-letter topic. A producer already told a window hears it is off."""
        await db.update_shipment(
            conn, msg.shipment_id, status="ON_HOLD", hold_reason=UNPLACEABLE, run_id=None
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
                pickup_contact=Contact.model_validate(db.as_json(row["contact"])),
                reason=f"on_hold:{UNPLACEABLE}",
            )
        ]

    async def _place(self, conn, config: HubConfig, wave: ScheduledWave, state, producer_id: str):
        rows = await db.wave_shipments(conn, wave.wave_id)
        problem = wave_problem(config, wave, rows)
        matrix = await self.provider(config).matrix(problem.points())
        current = rebuild(problem, matrix, plan_from_json(db.as_json(state["plan"])))
        placement = place(problem, matrix, current, producer_id)
        if placement.visit is None:
            return False  # the wave is full: the parcel goes to the next one
        await db.save_wave(conn, wave.wave_id, plan_to_json(placement.plan))
        return True

    # --- the wave solve at cut-off ------------------------------------------------------------
    async def plan_wave(
        self, conn: asyncpg.Connection, env: Envelope, msg: WaveCutoffReached
    ) -> list[Event]:
        structlog.contextvars.bind_contextvars(hub_id=msg.hub_id, wave_id=msg.wave_id)
        config = await db.hub(conn, msg.hub_id)
        if config is None:
            return []
        hub, waves = config.hub(), config.wave_specs()
        wave = _known_wave(config, msg.wave_id)
        if wave is None:
            return []
        state = await db.lock_wave(conn, wave, cutoff_of(hub, wave, waves))
        if state["status"] not in ("open", "cutoff_queued"):
            return []  # planned already (a redelivered cut-off)
        rows = await db.wave_shipments(conn, wave.wave_id)
        problem = wave_problem(config, wave, rows)
        matrix = await self.provider(config).matrix(problem.points())
        initial = rebuild(problem, matrix, plan_from_json(db.as_json(state["plan"])))
        seconds = self.settings.solve_seconds or config.solve_seconds
        started = time.perf_counter()
        plan = await self.solver.solve(
            problem,
            matrix,
            seconds=seconds,
            initial=initial if initial.routes else None,
            max_iterations=self.settings.solve_iterations,
        )
        elapsed = time.perf_counter() - started
        SOLVE_SECONDS.labels(msg.hub_id).observe(elapsed)
        kpis = compare(problem, matrix, plan)
        plan_id = wave.wave_id
        planned = pickup_planned(config, wave, problem, plan, rows, plan_id)
        state_json = plan_to_json(plan)
        await db.save_wave(conn, wave.wave_id, state_json, status="planned", plan_id=plan_id)
        details = planned.model_dump(mode="json") | {"solver": plan.solver, "notes": plan.notes}
        await db.save_plan(conn, plan_id, msg.hub_id, wave.wave_id, details, kpis, elapsed)
        _record_kpis(msg.hub_id, kpis)
        log.info(
            "wave.planned",
            routes=len(plan.routes),
            deferred=len(plan.deferred),
            unserved=len(plan.unserved),
            cost=plan.cost,
            solve_s=round(elapsed, 2),
        )
        events: list[Event] = [planned]
        later = next_wave(hub, cutoff_of(hub, wave, waves), waves)
        left = {p: "deferred to the next wave" for p in plan.deferred} | {
            p: "no vehicle left in this wave" for p in plan.unserved
        }
        for row in rows:
            reason = left.get(row["producer_id"])
            if reason is None:
                continue
            await db.update_shipment(
                conn,
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
                    hub_id=msg.hub_id,
                    wave_id=later.wave_id,
                    shipment_id=row["shipment_id"],
                    announce=False,
                )
            )
        return events

    # --- cancellations --------------------------------------------------------------------------
    async def withdraw(
        self, conn: asyncpg.Connection, env: Envelope, msg: ParcelWithdrawn
    ) -> list[Event]:
        row = await db.shipment(conn, msg.shipment_id)
        if row is not None:
            structlog.contextvars.bind_contextvars(
                order_id=row["order_id"], shipment_id=msg.shipment_id
            )
        config = await db.hub(conn, msg.hub_id)
        if config is None:
            return []
        hub, waves = config.hub(), config.wave_specs()
        wave = _known_wave(config, msg.wave_id)
        if wave is None:
            return []
        state = await db.lock_wave(conn, wave, cutoff_of(hub, wave, waves))
        rows = await db.wave_shipments(conn, wave.wave_id)
        problem = wave_problem(config, wave, rows)
        matrix = await self.provider(config).matrix(problem.points())
        kept = rebuild(problem, matrix, plan_from_json(db.as_json(state["plan"])))
        await db.save_wave(conn, wave.wave_id, plan_to_json(kept))
        return []


def _known_wave(config: HubConfig, wave_id: str) -> ScheduledWave | None:
    try:
        return wave_by_id(config.hub(), wave_id, config.wave_specs())
    except ValueError:
        log.warning("wave.unknown", wave_id=wave_id)
        return None


def _record_kpis(hub_id: str, kpis: dict) -> None:
    for kind in ("plan", "one_trip_per_order", "one_trip_per_village"):
        figures = kpis[kind]
        for kpi in ("cost", "km", "routes", "stops_per_route", "parcels_per_stop", "weight_fill",
                    "volume_fill", "on_time_pct", "deferred", "cost_per_parcel"):
            WAVE_KPI.labels(hub_id, kind, kpi).set(figures[kpi])
        for measure in ("cost", "km", "parcels", "late", "deferred"):  # late: stops
            PLANNED_TOTAL.labels(hub_id, kind, measure).inc(figures[measure])


def scheduled(row, hub_id: str, wave: ScheduledWave) -> PickupScheduled:
    lines = [ReservedLine.model_validate(line) for line in db.as_json(row["lines"])]
    return PickupScheduled(
        shipment_id=row["shipment_id"],
        order_id=row["order_id"],
        order_ref=row["order_ref"] or row["order_id"],
        producer_id=row["producer_id"],
        hub_id=hub_id,
        wave_id=wave.wave_id,
        window_start=wave.window_start,
        window_end=wave.window_end,
        pickup_contact=Contact.model_validate(db.as_json(row["contact"])),
        location=Location.model_validate(db.as_json(row["location"])),
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
        pickup_contact=Contact.model_validate(db.as_json(row["contact"])),
        window_start=wave.window_start,
        window_end=wave.window_end,
        reason=reason,
    )

