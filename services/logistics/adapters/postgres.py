"""The logistics service's tables (inside the caller's transaction)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.logistics.domain.network import ScheduledWave


async def ensure_run(
    conn: asyncpg.Connection, run_id: str, wave: ScheduledWave, village: str, province: str
) -> None:
    await conn.execute(
        """INSERT INTO pickup_runs (run_id, hub_id, wave_id, village, province, window_start,
                                    window_end)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO NOTHING""",
        run_id,
        wave.hub_id,
        wave.wave_id,
        village,
        province,
        wave.window_start,
        wave.window_end,
    )


async def insert_shipment(
    conn: asyncpg.Connection,
    shipment_id: str,
    order_id: str,
    producer_id: str,
    run_id: str,
    weight_g: int,
    lines: list[dict[str, Any]],
) -> bool:
    inserted = await conn.fetchval(
        """INSERT INTO shipments (shipment_id, order_id, producer_id, run_id, weight_g, lines)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1""",
        shipment_id,
        order_id,
        producer_id,
        run_id,
        weight_g,
        lines,
    )
    return inserted is not None
