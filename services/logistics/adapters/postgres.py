"""The logistics service's tables (inside the caller's transaction)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.logistics.domain.config import HubConfig
from services.logistics.domain.network import ScheduledWave
from services.logistics.domain.tracking import TrackingUpdate
from shared.contracts.orders import OrderCancelled

ACTIVE = ("QUEUED", "PICKUP_SCHEDULED")


# --- the network -------------------------------------------------------------------------------
async def network(conn: asyncpg.Connection) -> list[HubConfig]:
    rows = await conn.fetch("SELECT config FROM hubs ORDER BY hub_id")
    return [HubConfig.model_validate(r["config"]) for r in rows]


async def seed_network(conn: asyncpg.Connection, configs: list[HubConfig]) -> None:
    """The configured (or demo) network, where none was set yet."""
    if await conn.fetchval("SELECT count(*) FROM hubs"):
        return
    for config in configs:
        await put_hub(conn, config)


async def put_hub(conn: asyncpg.Connection, config: HubConfig) -> None:
    await conn.execute(
        """INSERT INTO hubs (hub_id, config) VALUES ($1, $2)
           ON CONFLICT (hub_id) DO UPDATE SET config = $2, updated_at = now()""",
        config.hub_id,
        config.model_dump(mode="json"),
    )


async def hub(conn: asyncpg.Connection, hub_id: str) -> HubConfig | None:
    config = await conn.fetchval("SELECT config FROM hubs WHERE hub_id = $1", hub_id)
    return HubConfig.model_validate(config) if config else None


# --- shipments ---------------------------------------------------------------------------------
async def insert_shipment(conn: asyncpg.Connection, **values: Any) -> bool:
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    inserted = await conn.fetchval(
        f"INSERT INTO shipments ({columns}) VALUES ({params}) ON CONFLICT DO NOTHING RETURNING 1",
        *values.values(),
    )
    return inserted is not None


async def shipment(conn: asyncpg.Connection, shipment_id: str, *, lock: bool = False):
    sql = "SELECT * FROM shipments WHERE shipment_id = $1"
    return await conn.fetchrow(sql + (" FOR UPDATE" if lock else ""), shipment_id)


async def shipment_by_tracking(conn: asyncpg.Connection, carrier: str, number: str):
    return await conn.fetchrow(
        "SELECT * FROM shipments WHERE carrier = $1 AND tracking_number = $2 FOR UPDATE",
        carrier,
        number,
    )


async def order_shipments(conn: asyncpg.Connection, order_id: str):
    return await conn.fetch(
        "SELECT * FROM shipments WHERE order_id = $1 ORDER BY shipment_id FOR UPDATE", order_id
    )


async def wave_shipments(conn: asyncpg.Connection, wave_id: str):
    return await conn.fetch(
        """SELECT * FROM shipments WHERE run_id = $1 AND status = ANY($2::text[])
           ORDER BY producer_id, shipment_id""",
        wave_id,
        list(ACTIVE),
    )


# What a wave's plan is made of: each active shipment's stop and load. A plan solved outside any
# transaction is applied only where this is still what it was solved from.
_WAVE_CONTENT = """SELECT md5(string_agg(
        ROW(shipment_id, producer_id, location, weight_g, volume_ml, parcels, perishable,
            deferrals)::text,
        ',' ORDER BY shipment_id))
    FROM shipments WHERE run_id = $1 AND status = ANY($2::text[])"""


async def wave_content(conn: asyncpg.Connection, wave_id: str) -> str | None:
    """The wave's content (None when empty), its shipments locked until the transaction ends so
    it stays what was read."""
    await conn.execute(
        """SELECT 1 FROM shipments WHERE run_id = $1 AND status = ANY($2::text[])
           ORDER BY shipment_id FOR UPDATE""",
        wave_id,
        list(ACTIVE),
    )
    return await conn.fetchval(_WAVE_CONTENT, wave_id, list(ACTIVE))


async def update_shipment(conn: asyncpg.Connection, shipment_id: str, **values: Any) -> None:
    sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=2))
    await conn.execute(
        f"UPDATE shipments SET {sets}, updated_at = now() WHERE shipment_id = $1",
        shipment_id,
        *values.values(),
    )


# --- wave plans --------------------------------------------------------------------------------
async def lock_wave(conn: asyncpg.Connection, wave: ScheduledWave, cutoff_at: datetime):
    await conn.execute(
        """INSERT INTO wave_plans (wave_id, hub_id, window_start, window_end, cutoff_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (wave_id) DO NOTHING""",
        wave.wave_id,
        wave.hub_id,
        wave.window_start,
        wave.window_end,
        cutoff_at,
    )
    return await conn.fetchrow(
        "SELECT * FROM wave_plans WHERE wave_id = $1 FOR UPDATE", wave.wave_id
    )


async def save_wave(conn: asyncpg.Connection, wave_id: str, plan: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE wave_plans SET plan = $2, updated_at = now() WHERE wave_id = $1", wave_id, plan
    )


async def save_planned_wave(
    conn: asyncpg.Connection, wave_id: str, plan: dict[str, Any], content: str | None
) -> bool:
    """The wave's plan, only if the wave is still unplanned and holds `content`: False when it
    changed since it was read (call `wave_content` first in this transaction: its locks keep the
    shipments as they are until the commit)."""
    saved = await conn.fetchval(
        f"""UPDATE wave_plans SET plan = $3, status = 'planned', plan_id = wave_id,
                  updated_at = now()
           WHERE wave_id = $1 AND status IN ('open', 'cutoff_queued')
             AND ({_WAVE_CONTENT}) IS NOT DISTINCT FROM $4
           RETURNING 1""",
        wave_id,
        list(ACTIVE),
        plan,
        content,
    )
    return saved is not None


async def due_cutoffs(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        """UPDATE wave_plans SET status = 'cutoff_queued', updated_at = now()
           WHERE status = 'open' AND cutoff_at <= now() RETURNING wave_id, hub_id"""
    )


async def dispatch_started_waves(conn: asyncpg.Connection) -> int:
    """After dispatch a wave's plan is frozen: vehicles are on the road."""
    result = await conn.execute(
        """UPDATE wave_plans SET status = 'dispatched', updated_at = now()
           WHERE status = 'planned' AND window_start <= now()"""
    )
    return int(result.split()[-1])


async def save_plan(
    conn: asyncpg.Connection,
    plan_id: str,
    hub_id: str,
    wave_id: str,
    plan: dict[str, Any],
    kpis: dict[str, Any],
    solve_seconds: float,
) -> None:
    await conn.execute(
        """INSERT INTO plans (plan_id, hub_id, wave_id, plan, kpis, solve_seconds)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (plan_id) DO UPDATE SET plan = $4, kpis = $5, solve_seconds = $6""",
        plan_id,
        hub_id,
        wave_id,
        plan,
        kpis,
        solve_seconds,
    )


async def plan(conn: asyncpg.Connection, plan_id: str):
    return await conn.fetchrow("SELECT * FROM plans WHERE plan_id = $1", plan_id)


async def day_plans(conn: asyncpg.Connection, hub_id: str, day: str):
    return await conn.fetch(
        """SELECT p.* FROM plans p JOIN wave_plans w USING (wave_id)
           WHERE p.hub_id = $1 AND w.wave_id LIKE $2 ORDER BY p.wave_id""",
        hub_id,
        f"{hub_id}-{day}-%",
    )


# --- carrier tracking --------------------------------------------------------------------------
async def record_tracking(
    conn: asyncpg.Connection, update: TrackingUpdate, shipment_id: str, applied: bool
) -> bool:
    """False when this update was recorded before (carriers retry and reorder webhooks)."""
    inserted = await conn.fetchval(
        """INSERT INTO tracking_events (carrier, reference, code, occurred_at, shipment_id, status,
                                        applied)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1""",
        update.carrier,
        update.reference,
        update.code,
        update.occurred_at,
        shipment_id,
        update.status,
        applied,
    )
    return inserted is not None


# --- facts that can come before their shipment --------------------------------------------------
async def lock_order(conn: asyncpg.Connection, order_id: str) -> None:
    """An order's StockReserved and OrderCancelled take turns, so each sees what the other
    committed: a cancellation is either applied to the shipments or kept for them, never missed
    in between. Namespaced so other services' keys on the same text cannot collide."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('logistics.order:' || $1, 0))", order_id
    )


async def keep_cancellation(
    conn: asyncpg.Connection, event_id: uuid.UUID, event: OrderCancelled, occurred_at: datetime
) -> None:
    await conn.execute(
        """INSERT INTO order_cancellations (event_id, order_id, reason, lines, after_pickup,
                                            occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING""",
        event_id,
        event.order_id,
        event.reason,
        [line.model_dump(mode="json") for line in event.lines],
        event.after_pickup,
        occurred_at,
    )


async def order_cancellations(
    conn: asyncpg.Connection, order_id: str
) -> list[tuple[OrderCancelled, datetime]]:
    """Every cancellation of the order, oldest first, with the time it happened."""
    rows = await conn.fetch(
        """SELECT * FROM order_cancellations WHERE order_id = $1
           ORDER BY occurred_at, received_at""",
        order_id,
    )
    return [
        (
            OrderCancelled(
                order_id=r["order_id"],
                reason=r["reason"],
                lines=as_json(r["lines"]),
                after_pickup=r["after_pickup"],
            ),
            r["occurred_at"],
        )
        for r in rows
    ]


async def keep_waiting_tracking(conn: asyncpg.Connection, update: TrackingUpdate) -> bool:
    """False when this update already waits (carriers retry and reorder webhooks)."""
    inserted = await conn.fetchval(
        """INSERT INTO waiting_tracking (carrier, reference, code, occurred_at, status,
                                         shipment_id, tracking_number, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1""",
        update.carrier,
        update.reference,
        update.code,
        update.occurred_at,
        update.status,
        update.shipment_id,
        update.tracking_number,
        update.reason,
    )
    return inserted is not None


async def take_waiting_tracking(
    conn: asyncpg.Connection, shipment_id: str, numbers: Sequence[tuple[str, str]] = ()
) -> list[TrackingUpdate]:
    """The waiting updates about this shipment, by its id or by one of its carriers' (carrier,
    tracking number) pairs, removed in the caller's transaction."""
    rows = await conn.fetch(
        """DELETE FROM waiting_tracking WHERE shipment_id = $1
               OR (shipment_id IS NULL AND (carrier, tracking_number) IN (
                   SELECT * FROM unnest($2::text[], $3::text[])))
           RETURNING *""",
        shipment_id,
        [carrier for carrier, _ in numbers],
        [number for _, number in numbers],
    )
    return [
        TrackingUpdate(
            carrier=r["carrier"],
            code=r["code"],
            status=r["status"],
            occurred_at=r["occurred_at"],
            shipment_id=r["shipment_id"],
            tracking_number=r["tracking_number"],
            reason=r["reason"],
        )
        for r in rows
    ]


# --- outbound partner webhooks -----------------------------------------------------------------
async def enqueue_delivery(conn: asyncpg.Connection, **values: Any) -> None:
    columns = ", ".join(values)
    params = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    await conn.execute(
        f"INSERT INTO partner_deliveries ({columns}) VALUES ({params}) ON CONFLICT DO NOTHING",
        *values.values(),
    )


async def due_deliveries(conn: asyncpg.Connection, limit: int = 20):
    return await conn.fetch(
        """SELECT * FROM partner_deliveries WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )


async def delivery_outcome(
    conn: asyncpg.Connection,
    delivery_id: int,
    status: str,
    retry_in_s: float = 0.0,
    error: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE partner_deliveries SET status = $2, attempts = attempts + 1, last_error = $4,
                  next_attempt_at = now() + make_interval(secs => $3)
           WHERE id = $1""",
        delivery_id,
        status,
        retry_in_s,
        error,
    )


def as_json(value: Any) -> Any:
    """jsonb columns come back decoded; a few are stored as text by older rows."""
    return json.loads(value) if isinstance(value, str) else value
