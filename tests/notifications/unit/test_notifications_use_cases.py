"""The notifications use cases driven through its bus on in-memory repositories: each consumed
event becomes the command the service's consumers make of it (bootstrap.COMMANDS), handled in
a unit of work with the consumer's inbox claim; the jobs' passes are commands too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.adapters.providers import DevProvider
from services.notifications.bootstrap import COMMANDS
from services.notifications.commands import (
    ChangeOptOut,
    FlushDigest,
    RecordDeliveryReport,
    SendDueReminders,
)
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain import templates as t
from services.notifications.notifier import Notifier
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import PickupCancelled, PickupScheduled
from shared.contracts.logistics import ShipmentPickedUp
from shared.messaging.bus import Delivery
from tests.notifications.conftest import PHONE, envelope, fast_settings, pickup
from tests.notifications.integration.test_triggers import BUYER_PHONE, order_placed, shipment
from tests.notifications.unit.fakes import FakeUnitOfWork, Store, fake_bus

NOON = datetime(2026, 11, 29, 5, 0, tzinfo=UTC)  # the day before the pickups' window


def wired(store: Store | None = None, **over):
    uow = FakeUnitOfWork(store or Store(now=lambda: NOON))
    notifier = Notifier(fast_settings(**over), "dev", clock=uow.store.now)
    return uow, fake_bus(uow, notifier)


async def consume(bus, event: Event, env: Envelope | None = None) -> bool:
    """As the service's consumer does: claimed in the inbox, then the event's command."""
    env = env or envelope(event)
    command = COMMANDS[type(event)](env, event)
    [handled] = await bus.handle_batch("notifications", [Delivery(event.topic, env, command)])
    return handled


def sms(uow: FakeUnitOfWork) -> list:
    return list(uow.store.messages.values())


async def test_a_scheduled_pickup_gives_its_producer_one_sms_and_a_reminder():
    uow, bus = wired()
    event = pickup(1)
    assert await consume(bus, event)
    [message] = sms(uow)
    assert (message.message_type, message.recipient, message.status) == (
        t.NEW_ORDER,
        PHONE,
        "QUEUED",
    )
    assert message.text.startswith("Don moi #1001: 2 Mat ong bac ha.")
    assert message.refs["shipment_id"] == event.shipment_id
    reminder = uow.store.reminders[event.shipment_id]
    assert reminder["state"] == "scheduled"
    assert reminder["remind_at"] == event.window_start - timedelta(hours=1)
    assert uow.outbox == [] and uow.commits == 1  # notifications publishes nothing


async def test_a_redelivered_or_repeated_pickup_gives_no_second_sms():
    uow, bus = wired()
    event = pickup(1)
    env = envelope(event)
    assert await consume(bus, event, env)
    assert not await consume(bus, event, env)  # the same record again: the inbox drops it
    assert await consume(bus, event)  # the same pickup told again, under a new event id
    assert len(sms(uow)) == 1


async def test_an_opted_out_producer_gets_a_suppressed_message_never_sent():
    store = Store(now=lambda: NOON)
    store.opt_out(PHONE)  # what the STOP keyword records
    uow, bus = wired(store)
    await consume(bus, pickup(1))
    [message] = sms(uow)
    assert (message.status, message.reason) == ("SUPPRESSED", "opted_out")


async def test_a_stop_keyword_opts_the_producer_out_and_start_back_in():
    uow, bus = wired()
    await bus.handle(ChangeOptOut(PHONE, opted_out=True))  # what the inbound STOP / HUY asks
    await consume(bus, pickup(1))
    await bus.handle(ChangeOptOut(PHONE, opted_out=False))  # START
    await consume(bus, pickup(2))
    assert [m.status for m in sms(uow)] == ["SUPPRESSED", "QUEUED"]


async def test_a_delivery_report_moves_a_message_forward_only():
    uow, bus = wired()
    await consume(bus, pickup(1))
    [message_id] = uow.store.rows
    uow.store.rows[message_id]["status"] = "ACCEPTED"  # as the dispatcher leaves it
    report = RecordDeliveryReport("dev", "DELIVERED", "dev delivered", message_id, "SM1")
    assert await bus.handle(report) == "DELIVERED"
    late = RecordDeliveryReport("dev", "SENT", "dev sent", message_id)
    assert await bus.handle(late) == "DELIVERED"  # a late report joins the timeline only
    assert uow.store.rows[message_id]["provider_message_id"] == "SM1"  # an interrupted send
    assert uow.store.rows[message_id]["timeline"] == ["QUEUED", "DELIVERED", "SENT"]
    unknown = RecordDeliveryReport("dev", "DELIVERED", "?", provider_message_id="nope")
    assert await bus.handle(unknown) is None


async def test_a_cancelled_pickup_tells_the_producer_once():
    uow, bus = wired()
    scheduled = pickup(1)
    cancelled = PickupCancelled(
        shipment_id=scheduled.shipment_id,
        order_id=scheduled.order_id,
        order_ref=scheduled.order_ref,
        producer_id=scheduled.producer_id,
        pickup_contact=scheduled.pickup_contact,
        reason="order_cancelled",
    )
    await consume(bus, scheduled)
    await consume(bus, cancelled)
    await consume(bus, cancelled)  # told again under a new event id
    assert [m.message_type for m in sms(uow)] == [t.NEW_ORDER, t.PICKUP_CANCELLED]
    assert uow.store.reminders[scheduled.shipment_id]["state"] == "cancelled"


async def test_a_buyer_message_before_its_order_waits_for_it_and_is_sent_once():
    uow, bus = wired()
    picked = shipment(ShipmentPickedUp, order_id="o-early", tracking_url="https://t.example/ABC")
    await consume(bus, picked)
    assert sms(uow) == [] and len(uow.store.waiting) == 1
    await consume(bus, order_placed("o-early"))
    await consume(bus, order_placed("o-early"))  # orders replays it under a new event id
    [message] = sms(uow)
    assert (message.message_type, message.recipient) == (t.SHIPPED, BUYER_PHONE)
    assert message.text == "Don #2001 da duoc gui di. Theo doi: https://t.example/ABC"


async def test_the_digest_job_turns_held_alerts_into_one_sms_per_producer():
    now = [NOON]
    uow, bus = wired(Store(now=lambda: now[0]), digest_window_s=60)
    for i in (1, 2):
        await consume(bus, pickup(i, lines=[("Mật ong bạc hà", i)]))
    assert sms(uow) == [] and await bus.handle(FlushDigest()) == 0  # the window is open
    now[0] += timedelta(minutes=2)
    assert await bus.handle(FlushDigest()) == 2
    assert await bus.handle(FlushDigest()) == 0
    [digest] = sms(uow)
    assert digest.text.startswith("2 don moi: #1001 (1 Mat ong bac ha); #1002 (2 Mat ong bac ha).")


async def test_the_reminder_job_reminds_each_producer_once_when_the_time_comes():
    now = [NOON]
    uow, bus = wired(Store(now=lambda: now[0]))
    event: PickupScheduled = pickup(1)
    await consume(bus, event)
    assert await bus.handle(SendDueReminders()) == 0
    now[0] = event.window_start - timedelta(minutes=30)
    assert await bus.handle(SendDueReminders()) == 1
    assert await bus.handle(SendDueReminders()) == 0
    assert [m.message_type for m in sms(uow)] == [t.NEW_ORDER, t.PICKUP_REMINDER]


async def test_the_dispatcher_sends_a_committed_message_once_through_the_bus():
    uow, bus = wired()
    await consume(bus, pickup(1))
    dispatcher = Dispatcher(fast_settings(), [DevProvider()])
    assert await dispatcher.pass_once(bus) == 1
    assert await dispatcher.pass_once(bus) == 0  # nothing left to send
    [row] = uow.store.rows.values()
    assert (row["status"], row["provider_message_id"]) == ("ACCEPTED", f"dev-{row['message_id']}")
    assert row["timeline"] == ["QUEUED", "SENDING", "ACCEPTED"]
