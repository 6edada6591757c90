"""Logistics use cases keyed by order or shipment:

- StockReserved: one shipment per producer, on hold with a reason when it cannot be planned,
  else queued for its hub (the hub-keyed planner gives the pickup window: see planner.py);
- OrderCancelled: stops leave their wave (or a picked-up shipment turns into a return);
- carrier status updates (HTTP or logistics.tracking.v1): deduplicated, never regressing;
- our own pickup and shipment events fanned out to partners' webhooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import structlog

from services.logistics.adapters import postgres as db
from services.logistics.domain.config import HubConfig, hub_for
from services.logistics.domain.matrix import has_coordinates
from services.logistics.domain.messages import ParcelQueued, ParcelWithdrawn
from services.logistics.domain.network import next_wave, shipment_id_for
from services.logistics.domain.tracking import EVENT_FOR, TrackingUpdate, internal_status
from services.logistics.metrics import PARCELS_ON_HOLD
from services.logistics.settings import LogisticsSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import OrderCancelled, ProducerAllocation, StockReserved
from shared.contracts.logistics import CarrierStatusReported, PickupCancelled, ShipmentCancelled
from shared.contracts.parts import Contact

log = structlog.get_logger(__name__)
PAST_PICKUP = ("PICKED_UP", "AT_HUB", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERY_FAILED")


class UnknownShipment(LookupError):
    pass


def default_volume_ml(line) -> int:
    """A line without a volume counts a litre per kilogram (honey, sauces, packed tea)."""
    return line.volume_ml if line.volume_ml is not None else line.weight_g


def hold_reason(alloc: ProducerAllocation, config: HubConfig | None, grams: int, ml: int):
    loc = alloc.location
    if not has_coordinates(loc.lat, loc.lon):
        return "no_coordinates"
    if config is None:
        return "no_hub"
    if not config.vehicles():
        return "no_fleet"
    if not any(v.fits(grams, ml) for v in config.vehicles()):
        return "too_heavy"
    return None


@dataclass
class Handlers:
    settings: LogisticsSettings
    default_network: list[HubConfig]

    async def _network(self, conn: asyncpg.Connection) -> list[HubConfig]:
        configs = await db.network(conn)
        if not configs:
            await db.seed_network(conn, self.default_network)
            configs = await db.network(conn)
        return configs

    async def reserve_parcels(
        self, conn: asyncpg.Connection, env: Envelope, event: StockReserved
    ) -> list[Event]:
        structlog.contextvars.bind_contextvars(order_id=event.order_id)
        configs = await self._network(conn)
        queued: list[Event] = []
        for n, alloc in enumerate(event.allocations):
            loc = alloc.location
            shipment_id = shipment_id_for(event.order_id, alloc.producer_id)
            grams = sum(line.weight_g * line.quantity for line in alloc.lines)
            ml = sum(default_volume_ml(line) * line.quantity for line in alloc.lines)
            config = (
                hub_for(configs, loc.province, loc.village, loc.lat, loc.lon)
                if configs and has_coordinates(loc.lat, loc.lon)
                else None
            )
            reason = hold_reason(alloc, config, grams, ml)
            wave = None
            if config is not None and reason is None:
                # The event's own time, not the clock: a redelivery lands in the same wave.
                wave = next_wave(config.hub(), env.occurred_at, config.wave_specs())
            inserted = await db.insert_shipment(
                conn,
                shipment_id=shipment_id,
                order_id=event.order_id,
                order_ref=event.order_ref,
                producer_id=alloc.producer_id,
                hub_id=config.hub_id if config else None,
                run_id=wave.wave_id if wave else None,
                status="QUEUED" if wave else "ON_HOLD",
                hold_reason=reason,
                weight_g=grams,
                volume_ml=ml,
                parcels=1,
                perishable=any(line.perishable for line in alloc.lines),
                # The order's COD is collected once, with its first producer's parcel.
                cod_amount=event.cod_amount if n == 0 else 0,
                currency=event.currency,
                lines=[line.model_dump(mode="json") for line in alloc.lines],
                contact=alloc.contact.model_dump(mode="json"),
                location=loc.model_dump(mode="json"),
                shipping_address=(
                    event.shipping_address.model_dump(mode="json")
                    if event.shipping_address
                    else None
                ),
            )
            if not inserted:
                continue
            if wave is None or config is None:
                PARCELS_ON_HOLD.labels(reason).inc()
                log.warning("shipment.on_hold", shipment_id=shipment_id, reason=reason)
                continue
            log.info("shipment.queued", shipment_id=shipment_id, wave_id=wave.wave_id)
            queued.append(
                ParcelQueued(hub_id=config.hub_id, wave_id=wave.wave_id, shipment_id=shipment_id)
            )
        return queued

    async def cancel_order(
        self, conn: asyncpg.Connection, env: Envelope, event: OrderCancelled
    ) -> list[Event]:
        structlog.contextvars.bind_contextvars(order_id=event.order_id)
        cancelled = {line.sku: line.quantity for line in event.lines}
        out: list[Event] = []
        for row in await db.order_shipments(conn, event.order_id):
            sid = row["shipment_id"]
            if row["status"] in PAST_PICKUP or (event.after_pickup and row["status"] != "ON_HOLD"):
                if row["status"] not in ("DELIVERED", "RETURNED", "CANCELLED"):
                    await db.update_shipment(conn, sid, status="RETURN_REQUESTED")
                continue
            if row["status"] not in ("QUEUED", "PICKUP_SCHEDULED", "ON_HOLD"):
                continue
            # No lines named: the whole order is cancelled.
            lines = _without(db.as_json(row["lines"]), cancelled) if cancelled else []
            if lines:  # a partial cancellation: a lighter stop, placed again quietly
                grams = sum(li["weight_g"] * li["quantity"] for li in lines)
                ml = sum((li.get("volume_ml") or li["weight_g"]) * li["quantity"] for li in lines)
                await db.update_shipment(conn, sid, lines=lines, weight_g=grams, volume_ml=ml)
                if row["run_id"]:
                    out.append(ParcelQueued(hub_id=row["hub_id"], wave_id=row["run_id"],
                                            shipment_id=sid, announce=False))
                continue
            await db.update_shipment(
                conn, sid, status="CANCELLED", hold_reason=None, run_id=None
            )
            contact = Contact.model_validate(db.as_json(row["contact"]))
            if row["status"] == "PICKUP_SCHEDULED" or row["deferrals"] > 0:  # the producer knew
                out.append(
                    PickupCancelled(
                        shipment_id=sid,
                        order_id=row["order_id"],
                        order_ref=row["order_ref"] or row["order_id"],
                        producer_id=row["producer_id"],
                        pickup_contact=contact,
                        reason=event.reason,
                    )
                )
            out.append(
                ShipmentCancelled(
                    shipment_id=sid,
                    order_id=row["order_id"],
                    producer_id=row["producer_id"],
                    occurred_at=env.occurred_at,
                    cod_amount=row["cod_amount"] or None,
                    currency=row["currency"],
                    reason=event.reason,
                )
            )
            if row["run_id"]:
                out.append(ParcelWithdrawn(hub_id=row["hub_id"], wave_id=row["run_id"],
                                           shipment_id=sid))
        return out

    async def carrier_status(
        self, conn: asyncpg.Connection, env: Envelope, event: CarrierStatusReported
    ) -> list[Event]:
        update = TrackingUpdate(
            carrier=event.carrier,
            code=event.code,
            status=internal_status(event.carrier, event.code),
            occurred_at=event.occurred_at,
            shipment_id=event.shipment_id,
            tracking_number=event.tracking_number,
            reason=event.reason,
        )
        try:
            _, events = await apply_tracking(conn, update)
        except UnknownShipment:
            log.warning("tracking.unknown_shipment", carrier=event.carrier)
            raise
        return events

    async def fan_out(self, conn: asyncpg.Connection, env: Envelope, event: Event) -> list[Event]:
        """Our own events, queued for each partner that takes webhooks instead of Kafka."""
        for partner, url in sorted(self.settings.partner_webhooks.items()):
            await db.enqueue_delivery(
                conn,
                partner=partner,
                url=url,
                event_id=env.event_id,
                event_type=env.event_type,
                topic=event.topic,
                event_key=event.key(),
                body=env.to_bytes(),
            )
        return []


def _without(lines: list[dict], cancelled: dict[str, int]) -> list[dict]:
    left = []
    for line in lines:
        quantity = line["quantity"] - cancelled.get(line["sku"], 0)
        if quantity > 0:
            left.append(line | {"quantity": quantity})
    return left


async def apply_tracking(conn: asyncpg.Connection, update: TrackingUpdate):
    """('applied' | 'duplicate' | 'stale', events). An update older than the shipment's latest
    is recorded but changes nothing: carriers retry and reorder their webhooks."""
    row = None
    if update.shipment_id:
        row = await db.shipment(conn, update.shipment_id, lock=True)
    if row is None and update.tracking_number:
        row = await db.shipment_by_tracking(conn, update.carrier, update.tracking_number)
    if row is None:
        raise UnknownShipment(update.shipment_id or update.tracking_number)
    sid = row["shipment_id"]
    structlog.contextvars.bind_contextvars(order_id=row["order_id"], shipment_id=sid)
    newer = row["status_at"] is None or update.occurred_at > row["status_at"]
    if not await db.record_tracking(conn, update, sid, applied=newer):
        return "duplicate", []
    if not newer:
        log.info("tracking.stale", shipment_id=sid, code=update.code)
        return "stale", []
    event_type = EVENT_FOR.get(update.status)
    changes: dict[str, object] = {
        "carrier": update.carrier,
        "carrier_status": update.code,
        "status_at": update.occurred_at,
    }
    if update.tracking_number:
        changes["tracking_number"] = update.tracking_number
    if event_type is not None:
        changes["status"] = event_type.status.upper()
    await db.update_shipment(conn, sid, **changes)
    if event_type is None:
        return "applied", []
    reason = update.reason
    if reason is None and update.status in ("Lost", "Damaged"):
        reason = update.status.lower()
    return "applied", [
        event_type(
            shipment_id=sid,
            order_id=row["order_id"],
            producer_id=row["producer_id"],
            occurred_at=update.occurred_at,
            cod_amount=row["cod_amount"] or None,
            currency=row["currency"],
            carrier=update.carrier,
            carrier_status=update.code,
            tracking_number=update.tracking_number or row["tracking_number"],
            reason=reason,
        )
    ]

