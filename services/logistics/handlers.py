"""Logistics use cases: a reserved order becomes one shipment per producer, each joined to the
next pickup run of the producer's village."""

from __future__ import annotations

import asyncpg
import structlog

from services.logistics.adapters import postgres as db
from services.logistics.domain.network import (
    Hub,
    nearest_hub,
    next_wave,
    run_id_for,
    shipment_id_for,
)
from shared.contracts.envelope import Envelope
from shared.contracts.events import PickupScheduled, StockReserved


def schedule_pickups(hubs: tuple[Hub, ...]):
    async def handle(conn: asyncpg.Connection, env: Envelope, event: StockReserved):
        structlog.contextvars.bind_contextvars(order_id=event.order_id)
        scheduled: list[PickupScheduled] = []
        for alloc in event.allocations:
            loc = alloc.location
            hub = nearest_hub(loc.lat, loc.lon, hubs)
            # The event's own time, not the clock: a redelivery lands in the same wave.
            wave = next_wave(hub, env.occurred_at)
            run_id = run_id_for(wave.wave_id, loc.village, loc.province)
            shipment_id = shipment_id_for(event.order_id, alloc.producer_id)
            weight = sum(line.weight_g * line.quantity for line in alloc.lines)
            await db.ensure_run(conn, run_id, wave, loc.village, loc.province)
            lines = [line.model_dump(mode="json") for line in alloc.lines]
            if not await db.insert_shipment(
                conn, shipment_id, event.order_id, alloc.producer_id, run_id, weight, lines
            ):
                continue
            structlog.get_logger(__name__).info(
                "shipment.scheduled", shipment_id=shipment_id, run_id=run_id
            )
            scheduled.append(
                PickupScheduled(
                    shipment_id=shipment_id,
                    order_id=event.order_id,
                    order_ref=event.order_ref,
                    producer_id=alloc.producer_id,
                    hub_id=hub.hub_id,
                    wave_id=wave.wave_id,
                    window_start=wave.window_start,
                    window_end=wave.window_end,
                    pickup_contact=alloc.contact,
                    location=loc,
                    lines=alloc.lines,
                    weight_g=weight,
                )
            )
        return scheduled

    return handle
