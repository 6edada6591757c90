"""Each service on the real broker and database, with its real handlers: a redelivered event is
applied once, and a poison message is dead-lettered with its reason without blocking the
partition. Services run in-process on this test's own topics, without their outbox relay (the
outbox rows are inspected instead)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.catalog import bootstrap as catalog
from services.catalog.adapters.postgres import load_demo
from services.catalog.settings import CatalogSettings
from services.logistics import bootstrap as logistics
from services.notifications import bootstrap as notifications
from services.orders import bootstrap as orders
from services.orders.adapters.platforms.shopify.parse import parse_shopify_order
from services.orders.adapters.postgres import add_channel_account
from services.orders.handlers import accept_known_order
from services.orders.simulator import build_shopify_order
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    RESERVATIONS,
    Contact,
    Location,
    OrderLine,
    OrderPlaced,
    PickupScheduled,
    ProducerAllocation,
    ReservedLine,
    StockReserved,
)
from shared.contracts.topics import dead_letter_topic
from shared.db.pool import connect
from shared.messaging.dlq import list_dead_letters
from shared.metrics import MESSAGES_CONSUMED
from tests.shared.integration.harness import eventually, send, settings_for

pytestmark = pytest.mark.integration

ORDER = parse_shopify_order(
    build_shopify_order(
        order_number=77, sku="SHOP-HG-HONEY-500", quantity=2, unit_price_vnd=450_000
    ),
    account="demo-shop",
)
LOCATION = Location(
    village="Pả Vi", province="Tuyên Quang", country="VN", lat=23.1635, lon=105.4083
)
CONTACT = Contact(name="HTX Mật ong Mèo Vạc", phone="+84912000101")
LINES = [ReservedLine(sku="HG-HONEY-500", name="Mat ong bac ha", quantity=2, weight_g=750)]
ALLOCATION = ProducerAllocation(
    producer_id="PRD-HG-001", contact=CONTACT, location=LOCATION, lines=LINES
)
WINDOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


async def _seed_catalog(conn: asyncpg.Connection) -> None:
    await load_demo(conn)


async def _seed_orders(conn: asyncpg.Connection) -> None:
    await add_channel_account(conn, "shopify", "demo-shop", "secret")
    await accept_known_order(
        conn, ORDER, delivery_id="d1", topic="orders/create", raw_body=b"{}"
    )


def _catalog_orders_consumer(settings=None):
    """The catalog's OrderPlaced consumer alone (its other subscription would share the test's
    topic), without its periodic jobs, so the outbox holds only what the handler produced."""
    service = catalog.build(settings, catalog=CatalogSettings(jobs=False))
    service.subscriptions = [s for s in service.subscriptions if OrderPlaced in s.handlers]
    return service


async def _no_seed(conn: asyncpg.Connection) -> None:
    return None


def _logistics_reservations(settings=None):
    """Logistics' StockReserved consumer alone (its other consumers read other topics)."""
    service = logistics.build(settings)
    service.subscriptions = [s for s in service.subscriptions if s.topic == RESERVATIONS]
    return service


def _notifications_pickups_only(*args: Any, **kwargs: Any) -> Any:
    """Notifications subscribes to four topics; this test moves one subscription to its topic."""
    service = notifications.build(*args, **kwargs)
    service.subscriptions = [s for s in service.subscriptions if PickupScheduled in s.handlers]
    return service


@dataclass(frozen=True)
class Case:
    service: str
    build: Callable[..., Any]
    seed: Callable[[asyncpg.Connection], Awaitable[None]]
    event: Event
    effect_sql: str  # how many times the event's effect was applied
    produced: list[str]  # the events the outbox must hold, once each


CASES = [
    Case(
        "catalog",
        _catalog_orders_consumer,
        _seed_catalog,
        OrderPlaced(
            order_id=ORDER.order_id,
            channel="shopify",
            account="demo-shop",
            external_id=ORDER.external_id,
            order_ref="#77",
            currency="VND",
            total=900_000,
            lines=[
                OrderLine(
                    channel_sku="SHOP-HG-HONEY-500", name="Honey", quantity=2, unit_price=450_000
                )
            ],
            placed_at=WINDOW,
        ),
        "SELECT count(*) FROM stock_ledger WHERE order_id = '{order_id}'",
        ["StockReserved"],
    ),
    Case(
        "orders",
        orders.build,
        _seed_orders,
        StockReserved(order_id=ORDER.order_id, order_ref="#77", allocations=[ALLOCATION]),
        "SELECT count(*) FROM order_status_history "
        "WHERE order_id = '{order_id}' AND status = 'CONFIRMED'",
        ["OrderConfirmed"],
    ),
    Case(
        "logistics",
        _logistics_reservations,
        _no_seed,
        StockReserved(order_id=ORDER.order_id, order_ref="#77", allocations=[ALLOCATION]),
        "SELECT count(*) FROM shipments WHERE order_id = '{order_id}'",
        ["ParcelQueued"],  # the hub-keyed planner answers with PickupScheduled
    ),
    Case(
        "notifications",
        _notifications_pickups_only,
        _no_seed,
        PickupScheduled(
            shipment_id="s-1",
            order_id=ORDER.order_id,
            order_ref="#77",
            producer_id="PRD-HG-001",
            hub_id="HUB-HAGIANG",
            wave_id="HUB-HAGIANG-2026-11-30-AM",
            window_start=WINDOW,
            window_end=WINDOW + timedelta(hours=2),
            pickup_contact=CONTACT,
            location=LOCATION,
            lines=LINES,
            weight_g=1500,
        ),
        "SELECT count(*) FROM sms_messages WHERE order_id = '{order_id}'",
        [],
    ),
]


def _consumed(service: str, topic: str, outcome: str) -> float:
    return MESSAGES_CONSUMED.labels(service, service, topic, outcome)._value.get()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.service)
async def test_a_redelivered_event_is_applied_once_and_poison_is_dead_lettered(
    case: Case, kafka_bootstrap, make_database, make_topic
):
    url = await make_database(case.service, case.build().migrations)
    conn = await connect(url)
    try:
        async with conn.transaction():
            await case.seed(conn)
    finally:
        await conn.close()
    topic = await make_topic(partitions=1)
    dlq = await make_topic(dead_letter_topic(topic), partitions=1)
    service = case.build(settings_for(case.service, kafka_bootstrap, url))
    # Only the subscription of the event's own topic moves to this test's topic: a service that
    # consumes several topics would otherwise register several subscribers on one topic.
    service.subscriptions = [
        dataclasses.replace(s, topic=topic)
        for s in service.subscriptions
        if s.topic == case.event.topic
    ]
    service.run_relay = False
    body = Envelope.wrap(case.event, producer="test", correlation_id=ORDER.order_id).to_bytes()
    key = case.event.key()
    await send(kafka_bootstrap, topic, [(key, b'{"event_type": 42}'), (key, body), (key, body)])

    duplicates_before = _consumed(case.service, topic, "duplicate")
    await service.start()
    try:
        await eventually(
            lambda: _true(_consumed(case.service, topic, "duplicate") > duplicates_before)
        )
    finally:
        await service.stop()

    conn = await connect(url)
    try:
        applied = await conn.fetchval(case.effect_sql.format(order_id=ORDER.order_id))
        produced = [r["event_type"] for r in await conn.fetch("SELECT event_type FROM outbox")]
    finally:
        await conn.close()
    assert applied == 1
    assert produced == case.produced
    [letter] = await list_dead_letters(kafka_bootstrap, [dlq])
    assert letter.headers["error_type"] == "PoisonMessage"
    assert letter.headers["consumer"] == case.service


async def _true(value: bool) -> bool:
    return value
