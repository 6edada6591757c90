"""Fixtures for the notifications tests: a database with the service's migrations, contract
events, and the service running in-process on this test's own topics."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications import bootstrap
from services.notifications.bootstrap import MIGRATIONS
from services.notifications.notifier import Notifier
from services.notifications.settings import NotificationSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    ORDERS,
    PICKUPS,
    SHIPMENTS,
    STOCK,
    Contact,
    Location,
    LowStockDetected,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PickupCancelled,
    PickupRescheduled,
    PickupScheduled,
    ReservedLine,
)
from shared.contracts.logistics import ShipmentPickedUp
from shared.db.pool import create_pool
from tests.shared.integration.harness import send, settings_for, wait_until_assigned

PHONE = "+84912000101"
HANOI = Location(village="Pả Vi", province="Tuyên Quang", country="VN", lat=23.1, lon=105.4)


def fast_settings(**over) -> NotificationSettings:
    values = dict(
        dispatch_poll_s=0.1,
        jobs_interval_s=0.1,
        send_lease_s=5,
        backoff_initial_s=0.01,
        backoff_max_s=0.05,
        round_delay_s=60,
        http_timeout_s=1.0,
        callback_token="cb-token",
        public_url="http://notifications.test",
    )
    return NotificationSettings(**(values | over))


def pickup(
    n: int = 1,
    *,
    phone: str = PHONE,
    producer: str = "PRD-HG-001",
    language: str = "vi",
    start: datetime | None = None,
    lines: list[tuple[str, int]] | None = None,
) -> PickupScheduled:
    start = start or datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
    return PickupScheduled(
        shipment_id=f"s-{n}-{uuid.uuid4().hex[:6]}",
        order_id=f"o-{n}-{uuid.uuid4().hex[:6]}",
        order_ref=f"#{1000 + n}",
        producer_id=producer,
        hub_id="HUB",
        wave_id="W",
        window_start=start,
        window_end=start + timedelta(hours=2),
        pickup_contact=Contact(name="HTX", phone=phone, sms_language=language),
        location=HANOI,
        lines=[
            ReservedLine(sku=f"SKU-{i}", name=name, quantity=q, weight_g=100)
            for i, (name, q) in enumerate(lines or [("Mật ong bạc hà", 2)])
        ],
        weight_g=200,
    )


def envelope(event: Event) -> Envelope:
    return Envelope.wrap(event, producer="test", correlation_id=getattr(event, "order_id", "c"))


class OnBus:
    """The service's consumer handlers `(conn, envelope, event)`, each handing its event's
    command to the notifications bus in the caller's transaction, by the use cases' names;
    `n` is the notifier. The bus's own units of work (the jobs') take `database`."""

    def __init__(self, notifier: Notifier, database=None) -> None:
        self.n = notifier
        self.bus = bootstrap.message_bus(lambda: database, notifier)
        on = bootstrap.consumers(self.bus)
        self.pickup_scheduled = on[PickupScheduled]
        self.pickup_rescheduled = on[PickupRescheduled]
        self.pickup_cancelled = on[PickupCancelled]
        self.low_stock = on[LowStockDetected]
        self.order_placed = on[OrderPlaced]
        self.order_confirmed = on[OrderConfirmed]
        self.order_cancelled = on[OrderCancelled]
        self.shipment = on[ShipmentPickedUp]  # every shipment event has the same handler


def bus_on(pool) -> bootstrap.Bus:
    """The service's bus on `pool`, as the dispatcher and the callbacks use it (the notifier
    is the consumers' only)."""
    return bootstrap.message_bus(lambda: pool, Notifier(fast_settings(), "dev"))


@pytest.fixture
async def notifications_db(make_database) -> str:
    return await make_database("notifications", MIGRATIONS)


@pytest.fixture
async def pool(notifications_db):
    pool = await create_pool(notifications_db, max_size=5)
    yield pool
    await pool.close()


@dataclasses.dataclass
class Running:
    service: object
    topics: dict[str, str]
    bootstrap_servers: str

    async def publish(self, *events: Event, times: int = 1) -> list[Envelope]:
        """Publish each event (`times` copies of the same record: a redelivery)."""
        envs = [envelope(e) for e in events]
        for env, event in zip(envs, events, strict=True):
            records = [(event.key(), env.to_bytes())] * times
            await send(self.bootstrap_servers, self.topics[event.topic], records)
        return envs


@pytest.fixture
def run_service(kafka_bootstrap, notifications_db, make_topic):
    @contextlib.asynccontextmanager
    async def start(n: NotificationSettings, providers=None) -> AsyncIterator[Running]:
        topics = {t: await make_topic(partitions=1) for t in (PICKUPS, STOCK, ORDERS, SHIPMENTS)}
        settings = settings_for("notifications", kafka_bootstrap, notifications_db)
        service = bootstrap.build(settings, notification_settings=n, providers=providers)
        service.subscriptions = [
            dataclasses.replace(s, topic=topics[s.topic]) for s in service.subscriptions
        ]
        service.run_relay = False
        await service.start()
        try:
            await wait_until_assigned(kafka_bootstrap, service.broker)
            yield Running(service, topics, kafka_bootstrap)
        finally:
            await service.stop()

    return start
