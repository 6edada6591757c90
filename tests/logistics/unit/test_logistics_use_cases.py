"""Logistics' use cases through its bus, on in-memory fakes: what each entrypoint hands to
`bus.handle` and what reaches the outbox on commit. The same stories on PostgreSQL and Kafka are
in tests/logistics/integration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.logistics.commands import (
    ApplyPartnerUpdate,
    CancelOrder,
    DeliverWebhooks,
    FanOut,
    PromisePickup,
    QueueCutoffs,
    ReportCarrierStatus,
    ReserveParcels,
    SnapshotWave,
)
from services.logistics.domain.config import HubConfig
from services.logistics.domain.messages import ParcelQueued, WaveCutoffReached
from services.logistics.domain.network import shipment_id_for
from services.logistics.domain.tracking import TrackingUpdate
from services.logistics.handlers import UnknownShipment
from services.logistics.planner import Planner
from services.logistics.settings import LogisticsSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    Contact,
    Location,
    OrderCancelled,
    ProducerAllocation,
    ReservedLine,
    StockReserved,
)
from shared.contracts.logistics import CarrierStatusReported, PickupScheduled
from tests.logistics.fakes import HookedSolver
from tests.logistics.unit.fakes import FakeUnitOfWork, consume, fake_bus

HUB = HubConfig(hub_id="HUB-HAGIANG", name="Ha Giang hub", lat=22.8233, lon=104.9836)
PICKED_AT = datetime(2026, 11, 29, 3, 15, tzinfo=UTC)


def reserved(order: str, producer: str = "PRD-A", lat: float = 23.16, lon: float = 105.41):
    allocation = ProducerAllocation(
        producer_id=producer,
        contact=Contact(name="HTX Mat ong Meo Vac", phone="+84912000101"),
        location=Location(village="Pa Vi", province="Tuyen Quang", country="VN", lat=lat, lon=lon),
        lines=[ReservedLine(sku="HG-HONEY-500", name="Mat ong", quantity=2, weight_g=750)],
    )
    return StockReserved(
        order_id=order, order_ref=f"#{order}", allocations=[allocation], cod_amount=900_000,
        currency="VND",
    )  # fmt: skip


def received(event: Event) -> Envelope:
    return Envelope.wrap(event, producer="test", correlation_id=getattr(event, "order_id", "c"))


def picked(code: str, at: datetime, shipment_id: str | None = None) -> CarrierStatusReported:
    return CarrierStatusReported(
        carrier="ghn", code=code, occurred_at=at, shipment_id=shipment_id,
        tracking_number="GHN5XK2P9Q",
    )  # fmt: skip


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def bus(uow: FakeUnitOfWork):
    return fake_bus(uow, [HUB])


async def test_a_reserved_order_is_queued_for_its_wave_and_promised_a_pickup_window(bus, uow):
    stock = reserved("o-1")
    await consume(bus, uow, ReserveParcels.of, stock)

    sid = shipment_id_for("o-1", "PRD-A")
    shipment = uow.store.shipments[sid]
    assert (shipment["status"], shipment["hub_id"], shipment["weight_g"]) == (
        "QUEUED", "HUB-HAGIANG", 1500,
    )  # fmt: skip
    [queued] = uow.outbox.of("ParcelQueued")
    assert queued["shipment_id"] == sid and queued["wave_id"] == shipment["run_id"]

    # The hub-keyed planner reads it back from logistics.planning.v1: the instant promise.
    message = ParcelQueued.model_validate(queued)
    await consume(bus, uow, PromisePickup.of, message)

    shipment = uow.store.shipments[sid]
    assert shipment["status"] == "PICKUP_SCHEDULED" and shipment["window_start"] is not None
    [scheduled] = uow.outbox.of("PickupScheduled")
    assert (scheduled["shipment_id"], scheduled["wave_id"]) == (sid, shipment["run_id"])
    assert scheduled["cod_amount"] == 900_000
    wave = uow.store.waves[shipment["run_id"]]
    assert [stop for r in wave["plan"]["routes"] for stop in r["stops"]] == ["PRD-A"]
    assert uow.outbox.types() == ["ParcelQueued", "PickupScheduled"]


async def test_an_order_cancelled_before_its_stock_was_reserved_leaves_no_parcel(bus, uow):
    cancel = OrderCancelled(order_id="o-2", reason="buyer changed their mind")
    await consume(bus, uow, CancelOrder.of, cancel)
    assert uow.store.shipments == {} and uow.outbox == []  # kept for the shipment to come

    stock = reserved("o-2")
    await consume(bus, uow, ReserveParcels.of, stock)
    # Catalog answers a replayed OrderPlaced the same way, under a new event id.
    await consume(bus, uow, ReserveParcels.of, stock)

    [shipment] = uow.store.shipments.values()
    assert (shipment["status"], shipment["run_id"], shipment["hold_reason"]) == (
        "CANCELLED", None, None,
    )  # fmt: skip
    # Never queued, so never promised: the producer hears nothing, partners hear it is off.
    assert uow.outbox.types() == ["ShipmentCancelled"]


async def test_a_carrier_status_update_moves_the_shipment_on_once_and_never_back(bus, uow):
    stock = reserved("o-3")
    await consume(bus, uow, ReserveParcels.of, stock)
    sid = shipment_id_for("o-3", "PRD-A")

    update = picked("picked", PICKED_AT, shipment_id=sid)
    await consume(bus, uow, ReportCarrierStatus.of, update)
    retry = update.model_copy()  # the carrier posts it again
    await consume(bus, uow, ReportCarrierStatus.of, retry)
    older = picked("ready_to_pick", PICKED_AT - timedelta(hours=1))  # arrives late
    await consume(bus, uow, ReportCarrierStatus.of, older)

    shipment = uow.store.shipments[sid]
    assert (shipment["status"], shipment["tracking_number"]) == ("PICKED_UP", "GHN5XK2P9Q")
    [event] = uow.outbox.of("ShipmentPickedUp")
    assert (event["shipment_id"], event["carrier_status"]) == (sid, "picked")
    assert [t for t in uow.outbox.types() if t.startswith("Shipment")] == ["ShipmentPickedUp"]


async def test_a_carrier_update_before_its_shipment_waits_for_it(bus, uow):
    sid = shipment_id_for("o-4", "PRD-A")
    update = picked("picked", PICKED_AT, shipment_id=sid)
    await consume(bus, uow, ReportCarrierStatus.of, update)
    assert uow.outbox == [] and len(uow.store.waiting) == 1

    stock = reserved("o-4")
    await consume(bus, uow, ReserveParcels.of, stock)

    assert uow.store.shipments[sid]["status"] == "PICKED_UP" and uow.store.waiting == {}
    assert uow.outbox.types() == ["ShipmentPickedUp"]  # picked up already: not queued


async def test_a_partner_update_names_a_known_shipment_and_its_events_carry_the_order(bus, uow):
    update = TrackingUpdate(
        carrier="acme", code="PICKED", status="PickedUp", occurred_at=PICKED_AT,
        shipment_id="nobody",
        tracking_number=None,
    )  # fmt: skip
    with pytest.raises(UnknownShipment):
        await bus.handle(ApplyPartnerUpdate(update))
    assert uow.outbox == [] and uow.store.tracking == {}

    stock = reserved("o-5")
    await consume(bus, uow, ReserveParcels.of, stock)
    sid = shipment_id_for("o-5", "PRD-A")
    known = TrackingUpdate(
        carrier="acme", code="PICKED", status="PickedUp", occurred_at=PICKED_AT, shipment_id=sid,
        tracking_number=None,
    )  # fmt: skip
    assert await bus.handle(ApplyPartnerUpdate(known)) == "applied"
    assert await bus.handle(ApplyPartnerUpdate(known)) == "duplicate"
    [env] = [e for e in uow.outbox if e.event_type == "ShipmentPickedUp"]
    assert env.correlation_id == "o-5" and env.causation_id is None


async def test_the_cutoff_job_queues_each_due_wave_once_with_an_id_of_its_own(bus, uow):
    stock = reserved("o-6")
    await consume(bus, uow, ReserveParcels.of, stock)
    [queued] = uow.outbox.of("ParcelQueued")
    message = ParcelQueued.model_validate(queued)
    await consume(bus, uow, PromisePickup.of, message)
    uow.store.waves[message.wave_id]["cutoff_at"] = datetime.now(UTC) - timedelta(seconds=1)

    assert await bus.handle(QueueCutoffs()) == 1
    assert await bus.handle(QueueCutoffs()) == 0  # flipped once: a second replica finds none

    [env] = [e for e in uow.outbox if e.event_type == "WaveCutoffReached"]
    assert env.payload == {"hub_id": "HUB-HAGIANG", "wave_id": message.wave_id}
    assert env.event_id == uuid.uuid5(uuid.NAMESPACE_URL, f"ovop:cutoff:{message.wave_id}")
    assert env.correlation_id == f"wave:{message.wave_id}"


async def test_the_wave_solve_runs_between_two_units_of_work_and_holds_none(uow):
    """Snapshot (its own unit of work, committed), solve (none open), apply (the consumer's)."""
    open_during_solve: list[bool] = []

    async def during(_: int) -> None:
        open_during_solve.append(uow._open)

    settings = LogisticsSettings()
    bus = fake_bus(uow, [HUB], settings, Planner(settings, HookedSolver(during)))
    stock = reserved("o-7")
    await consume(bus, uow, ReserveParcels.of, stock)
    [queued] = uow.outbox.of("ParcelQueued")
    message = ParcelQueued.model_validate(queued)
    await consume(bus, uow, PromisePickup.of, message)
    commits_before = uow.commits

    cutoff = WaveCutoffReached(hub_id=HUB.hub_id, wave_id=message.wave_id)
    steps: list[bool] = []

    async def commit(step) -> bool:  # the consumer's transaction, with its inbox claim
        applied = await step(None) is not None
        steps.append(applied)
        return applied

    planner = bus._commands[SnapshotWave].__self__  # the planner the bus lists
    await planner.plan_wave(bus, lambda _: uow, received(cutoff), cutoff, commit)

    assert open_during_solve == [False]
    assert steps == [True] and uow.commits == commits_before + 2  # snapshot, then apply
    assert uow.store.waves[message.wave_id]["status"] == "planned"
    [planned] = uow.outbox.of("PickupPlanned")
    assert [s["producer_id"] for r in planned["routes"] for s in r["stops"]] == ["PRD-A"]


async def test_our_events_reach_partner_webhooks_retried_then_dead_lettered(uow):
    settings = LogisticsSettings(
        partner_webhooks={"acme": "https://acme.example/ovop"}, webhook_max_attempts=2
    )
    bus = fake_bus(uow, [HUB], settings)
    stock = reserved("o-8")
    await consume(bus, uow, ReserveParcels.of, stock)
    [queued] = uow.outbox.of("ParcelQueued")
    message = ParcelQueued.model_validate(queued)
    await consume(bus, uow, PromisePickup.of, message)
    [env] = [e for e in uow.outbox if e.event_type == "PickupScheduled"]
    scheduled = PickupScheduled.model_validate(env.payload)
    await consume(bus, uow, FanOut.of, scheduled, env)
    await consume(bus, uow, FanOut.of, scheduled, env)  # a redelivery: queued once
    assert [(d["partner"], d["event_id"]) for d in uow.store.deliveries] == [("acme", env.event_id)]

    sent: list[int] = []
    letters: list[tuple[str, int]] = []

    async def send(row) -> str:
        sent.append(row["attempts"] + 1)
        return "HTTP 503"

    async def dead_letter(row, error: str, attempts: int) -> None:
        letters.append((error, attempts))

    command = DeliverWebhooks(send, dead_letter)
    assert await bus.handle(command) == 1
    assert uow.store.deliveries[0]["status"] == "pending"
    assert await bus.handle(command) == 1
    assert await bus.handle(command) == 0  # dead: not tried again
    assert sent == [1, 2] and letters == [("HTTP 503", 2)]
    assert uow.store.deliveries[0]["status"] == "dead"
