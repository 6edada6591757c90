"""Logistics use cases keyed by order or shipment:

- StockReserved: one shipment per producer, on hold with a reason when it cannot be planned,
  else queued for its hub (the hub-keyed planner gives the pickup window: see planner.py);
- OrderCancelled: stops leave their wave (or a picked-up shipment turns into a return);
- carrier status updates (HTTP or logistics.tracking.v1): deduplicated, never regressing;
- our own pickup and shipment events fanned out to partners' webhooks.

Each handler takes its command and the unit of work it runs in, changes state through the unit
of work's repositories and raises the events to publish on it: they reach the outbox when the
unit of work commits.

Topics keep order per key only, so a fact can come before the shipment it is about: every
OrderCancelled is kept, and a shipment created after it goes through it as if it had come
later; a carrier update about a shipment not known yet waits for it, then all of its updates
apply in the carrier's time order. The outcome is the same whichever arrives first.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from services.logistics.adapters.postgres import as_json
from services.logistics.adapters.uow import LogisticsUnitOfWork
from services.logistics.commands import (
    ApplyPartnerUpdate,
    CancelOrder,
    DayPlans,
    DeliverWebhooks,
    FanOut,
    GetPlan,
    GetShipment,
    ListHubs,
    PutHubs,
    QueueCutoffs,
    ReportCarrierStatus,
    ReserveParcels,
)
from services.logistics.domain.config import HubConfig, hub_for
from services.logistics.domain.matrix import has_coordinates
from services.logistics.domain.messages import ParcelQueued, ParcelWithdrawn, WaveCutoffReached
from services.logistics.domain.network import next_wave, shipment_id_for
from services.logistics.domain.tracking import EVENT_FOR, TrackingUpdate, internal_status
from services.logistics.metrics import PARCELS_ON_HOLD, PARTNER_EVENTS, WEBHOOK_DELIVERIES
from services.logistics.settings import LogisticsSettings
from shared.contracts.envelope import Event
from shared.contracts.events import OrderCancelled, ProducerAllocation
from shared.contracts.logistics import PickupCancelled, ShipmentCancelled
from shared.contracts.parts import Contact

log = structlog.get_logger(__name__)
Row = Any  # a shipment's row: a mapping of its columns
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

    async def _network(self, uow: LogisticsUnitOfWork) -> list[HubConfig]:
        configs = await uow.network.network()
        if not configs:
            await uow.network.seed_network(self.default_network)
            configs = await uow.network.network()
        return configs

    async def reserve_parcels(self, cmd: ReserveParcels, uow: LogisticsUnitOfWork) -> None:
        event = cmd.event
        structlog.contextvars.bind_contextvars(order_id=event.order_id)
        await uow.shipments.lock_order(event.order_id)
        configs = await self._network(uow)
        queued: list[ParcelQueued] = []
        created: list[str] = []
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
                wave = next_wave(config.hub(), cmd.occurred_at, config.wave_specs())
            inserted = await uow.shipments.insert_shipment(
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
            created.append(shipment_id)
            if wave is None or config is None:
                PARCELS_ON_HOLD.labels(reason).inc()
                log.warning("shipment.on_hold", shipment_id=shipment_id, reason=reason)
                continue
            log.info("shipment.queued", shipment_id=shipment_id, wave_id=wave.wave_id)
            queued.append(
                ParcelQueued(hub_id=config.hub_id, wave_id=wave.wave_id, shipment_id=shipment_id)
            )
        out: list[Event] = []
        for cancellation, occurred_at in await uow.shipments.order_cancellations(event.order_id):
            for sid in created:  # the order was cancelled first: as if it had come now
                row = await uow.shipments.shipment(sid, lock=True)
                out += [
                    e
                    for e in await _cancel_shipment(uow, row, cancellation, occurred_at)
                    # a shipment created here is in no plan yet: nothing to re-place or withdraw
                    if not isinstance(e, ParcelQueued | ParcelWithdrawn)
                ]
        for sid in created:
            out += await apply_waiting_tracking(uow, sid)
        still_queued = set()
        for sid in created:
            row = await uow.shipments.shipment(sid)
            if row is not None and row["status"] == "QUEUED":
                still_queued.add(sid)
        raise_all(uow, [q for q in queued if q.shipment_id in still_queued] + out)

    async def cancel_order(self, cmd: CancelOrder, uow: LogisticsUnitOfWork) -> None:
        event = cmd.event
        structlog.contextvars.bind_contextvars(order_id=event.order_id)
        await uow.shipments.lock_order(event.order_id)
        # Kept even when no shipment exists yet: its StockReserved may still be on its way.
        await uow.shipments.keep_cancellation(cmd.event_id, event, cmd.occurred_at)
        out: list[Event] = []
        for row in await uow.shipments.order_shipments(event.order_id):
            out += await _cancel_shipment(uow, row, event, cmd.occurred_at)
        raise_all(uow, out)

    async def carrier_status(self, cmd: ReportCarrierStatus, uow: LogisticsUnitOfWork) -> None:
        event = cmd.event
        update = TrackingUpdate(
            carrier=event.carrier,
            code=event.code,
            status=internal_status(event.carrier, event.code),
            occurred_at=event.occurred_at,
            shipment_id=event.shipment_id,
            tracking_number=event.tracking_number,
            reason=event.reason,
        )
        outcome, events = await apply_tracking(uow, update, wait=True)
        PARTNER_EVENTS.labels(event.carrier, outcome).inc()
        raise_all(uow, events)

    async def fan_out(self, cmd: FanOut, uow: LogisticsUnitOfWork) -> None:
        """Our own events, queued for each partner that takes webhooks instead of Kafka."""
        env, event = cmd.envelope, cmd.event
        for partner, url in sorted(self.settings.partner_webhooks.items()):
            await uow.deliveries.enqueue_delivery(
                partner=partner,
                url=url,
                event_id=env.event_id,
                event_type=env.event_type,
                topic=event.topic,
                event_key=event.key(),
                body=env.to_bytes(),
            )

    async def deliver_webhooks(self, cmd: DeliverWebhooks, uow: LogisticsUnitOfWork) -> int:
        """Partner webhooks due, each sent once per pass: retried with exponential backoff and
        jitter, dead-lettered after the last attempt. The rows stay locked (SKIP LOCKED for the
        other replicas) until the pass commits."""
        rows = await uow.deliveries.due_deliveries(cmd.limit)
        for row in rows:
            await self._deliver(cmd, uow, row)
        return len(rows)

    async def _deliver(self, cmd: DeliverWebhooks, uow: LogisticsUnitOfWork, row: Row) -> None:
        partner, settings = row["partner"], self.settings
        error = await cmd.send(row)
        if error is None:
            await uow.deliveries.delivery_outcome(row["id"], "sent")
            WEBHOOK_DELIVERIES.labels(partner, "sent").inc()
            return
        attempts = row["attempts"] + 1
        if attempts >= settings.webhook_max_attempts:
            # Dead-lettered before the row is marked dead: a crash between the two repeats the
            # letter, never loses it.
            await cmd.dead_letter(row, error, attempts)
            await uow.deliveries.delivery_outcome(row["id"], "dead", error=error)
            WEBHOOK_DELIVERIES.labels(partner, "dead").inc()
            log.error("webhook.dead_lettered", partner=partner, attempts=attempts, error=error)
            return
        backoff = min(
            settings.webhook_backoff_s * 2 ** (attempts - 1), settings.webhook_backoff_max_s
        )
        retry_in = backoff * random.uniform(0.8, 1.2)
        await uow.deliveries.delivery_outcome(
            row["id"], "pending", retry_in_s=retry_in, error=error
        )
        WEBHOOK_DELIVERIES.labels(partner, "retry").inc()
        log.warning("webhook.retrying", partner=partner, attempts=attempts, retry_in_s=retry_in)


async def partner_update(cmd: ApplyPartnerUpdate, uow: LogisticsUnitOfWork) -> str:
    """A partner's update about a known shipment (else UnknownShipment); answers the outcome."""
    outcome, events = await apply_tracking(uow, cmd.update)
    raise_all(uow, events)
    return outcome


async def queue_cutoffs(cmd: QueueCutoffs, uow: LogisticsUnitOfWork) -> int:
    """Every replica runs this pass: the status flip is one UPDATE and the message's event id
    derives from the wave, so a wave is queued once however many replicas look."""
    due = await uow.waves.due_cutoffs()
    for row in due:
        wave_id = row["wave_id"]
        uow.raise_event(
            WaveCutoffReached(hub_id=row["hub_id"], wave_id=wave_id),
            correlation_id=f"wave:{wave_id}",
            event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"ovop:cutoff:{wave_id}"),
        )
        log.info("wave.cutoff_queued", wave_id=wave_id)
    await uow.waves.dispatch_started_waves()
    return len(due)


async def get_plan(cmd: GetPlan, uow: LogisticsUnitOfWork) -> Row | None:
    return await uow.waves.plan(cmd.plan_id)


async def day_plans(cmd: DayPlans, uow: LogisticsUnitOfWork) -> Sequence[Row]:
    return await uow.waves.day_plans(cmd.hub_id, cmd.day)


async def get_shipment(cmd: GetShipment, uow: LogisticsUnitOfWork) -> Row | None:
    return await uow.shipments.shipment(cmd.shipment_id)


async def list_hubs(cmd: ListHubs, uow: LogisticsUnitOfWork) -> list[HubConfig]:
    return await uow.network.network()


async def put_hubs(cmd: PutHubs, uow: LogisticsUnitOfWork) -> None:
    for config in cmd.configs:
        await uow.network.put_hub(config)


# The use cases that need no configuration; bootstrap adds Handlers' and the Planner's.
COMMAND_HANDLERS: dict[type, Any] = {
    ApplyPartnerUpdate: partner_update,
    QueueCutoffs: queue_cutoffs,
    GetPlan: get_plan,
    DayPlans: day_plans,
    GetShipment: get_shipment,
    ListHubs: list_hubs,
    PutHubs: put_hubs,
}


def raise_all(uow: LogisticsUnitOfWork, events: Sequence[Event]) -> None:
    """Raise `events` in order. Inside a received message they continue its journey; outside
    one (the partner endpoint) each is its order's."""
    for event in events:
        uow.raise_event(event, correlation_id=getattr(event, "order_id", None))


async def _cancel_shipment(
    uow: LogisticsUnitOfWork, row: Row, event: OrderCancelled, occurred_at
) -> list[Event]:
    """One shipment of a cancelled order: its stop leaves the wave, a partial cancellation
    lightens it, or a picked-up one turns into a return."""
    sid = row["shipment_id"]
    if row["status"] in PAST_PICKUP or (event.after_pickup and row["status"] != "ON_HOLD"):
        if row["status"] not in ("DELIVERED", "RETURNED", "CANCELLED"):
            await uow.shipments.update_shipment(sid, status="RETURN_REQUESTED")
        return []
    if row["status"] not in ("QUEUED", "PICKUP_SCHEDULED", "ON_HOLD"):
        return []
    # No lines named: the whole order is cancelled.
    cancelled = {line.sku: line.quantity for line in event.lines}
    lines = _without(as_json(row["lines"]), cancelled) if cancelled else []
    if lines:  # a partial cancellation: a lighter stop, placed again quietly
        grams = sum(li["weight_g"] * li["quantity"] for li in lines)
        ml = sum((li.get("volume_ml") or li["weight_g"]) * li["quantity"] for li in lines)
        await uow.shipments.update_shipment(sid, lines=lines, weight_g=grams, volume_ml=ml)
        if row["run_id"]:
            return [
                ParcelQueued(
                    hub_id=row["hub_id"], wave_id=row["run_id"], shipment_id=sid, announce=False
                )
            ]
        return []
    await uow.shipments.update_shipment(sid, status="CANCELLED", hold_reason=None, run_id=None)
    out: list[Event] = []
    if row["status"] == "PICKUP_SCHEDULED" or row["deferrals"] > 0:  # the producer knew
        out.append(
            PickupCancelled(
                shipment_id=sid,
                order_id=row["order_id"],
                order_ref=row["order_ref"] or row["order_id"],
                producer_id=row["producer_id"],
                pickup_contact=Contact.model_validate(as_json(row["contact"])),
                reason=event.reason,
            )
        )
    out.append(
        ShipmentCancelled(
            shipment_id=sid,
            order_id=row["order_id"],
            producer_id=row["producer_id"],
            occurred_at=occurred_at,
            cod_amount=row["cod_amount"] or None,
            currency=row["currency"],
            reason=event.reason,
        )
    )
    if row["run_id"]:
        out.append(ParcelWithdrawn(hub_id=row["hub_id"], wave_id=row["run_id"], shipment_id=sid))
    return out


def _without(lines: list[dict], cancelled: dict[str, int]) -> list[dict]:
    """The lines left once `cancelled` (our SKU, or a channel SKU the catalog reserved it for,
    -> units) is taken off."""
    left = []
    for line in lines:
        names = [line["sku"], *line.get("channel_skus", ())]
        quantity = line["quantity"] - sum(cancelled.get(name, 0) for name in names)
        if quantity > 0:
            left.append(line | {"quantity": quantity})
    return left


async def apply_tracking(
    uow: LogisticsUnitOfWork, update: TrackingUpdate, *, wait: bool = False
) -> tuple[str, list[Event]]:
    """('applied' | 'duplicate' | 'stale' | 'waiting', events). An update older than the
    shipment's latest is recorded but changes nothing: carriers retry and reorder their webhooks.

    An update about a shipment not known yet raises UnknownShipment, or with `wait` waits for
    it. Once the shipment is known (this update names it, or gives the tracking number the
    waiting ones use), they all apply in the carrier's time order, as if none had come early."""
    row = None
    if update.shipment_id:
        row = await uow.shipments.shipment(update.shipment_id, lock=True)
    if row is None and update.tracking_number:
        row = await uow.shipments.shipment_by_tracking(update.carrier, update.tracking_number)
    if row is None:
        if not wait:
            raise UnknownShipment(update.shipment_id or update.tracking_number)
        if not await uow.shipments.keep_waiting_tracking(update):
            return "duplicate", []
        log.warning(
            "tracking.waiting_for_shipment",
            carrier=update.carrier,
            reference=update.reference,
            code=update.code,
        )
        return "waiting", []
    sid = row["shipment_id"]
    numbers = [(update.carrier, update.tracking_number)] if update.tracking_number else []
    if row["carrier"] and row["tracking_number"]:
        numbers.append((row["carrier"], row["tracking_number"]))
    waiting = await uow.shipments.take_waiting_tracking(sid, numbers)
    outcome, events = "applied", []
    for each in sorted([update, *waiting], key=lambda u: u.occurred_at):
        applied, produced = await _apply_one(uow, sid, each)
        if each is update:
            outcome = applied
        events += produced
    return outcome, events


async def apply_waiting_tracking(uow: LogisticsUnitOfWork, shipment_id: str) -> list[Event]:
    """The updates that waited for a shipment just created, in the carrier's time order."""
    events: list[Event] = []
    waiting = await uow.shipments.take_waiting_tracking(shipment_id)
    for update in sorted(waiting, key=lambda u: u.occurred_at):
        events += (await _apply_one(uow, shipment_id, update))[1]
    return events


async def _apply_one(
    uow: LogisticsUnitOfWork, sid: str, update: TrackingUpdate
) -> tuple[str, list[Event]]:
    row = await uow.shipments.shipment(sid, lock=True)
    assert row is not None
    structlog.contextvars.bind_contextvars(order_id=row["order_id"], shipment_id=sid)
    newer = row["status_at"] is None or update.occurred_at > row["status_at"]
    if not await uow.shipments.record_tracking(update, sid, applied=newer):
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
        cancelled_order = row["status"] == "CANCELLED" and bool(
            await uow.shipments.order_cancellations(row["order_id"])
        )
        if cancelled_order and changes["status"] in PAST_PICKUP:
            # Picked up after all: a return, as when the pickup is heard of before the order's
            # cancellation.
            changes["status"] = "RETURN_REQUESTED"
    await uow.shipments.update_shipment(sid, **changes)
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
