"""The catalog service itself on the real broker and database: orders from several channels race
for the last units, cancellations and pickups arrive as events, and its background job writes
the coalesced stock events to the outbox. The outbox relay is off: the outbox is inspected."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import asyncpg
import pytest

from services.catalog import bootstrap
from services.catalog.adapters.postgres import (
    reserve_for_order,
    upsert_listing,
    upsert_producer,
    upsert_product,
)
from services.catalog.domain import LocalizedText, Product
from services.catalog.settings import CatalogSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    CancelledLine,
    OrderCancelled,
    OrderLine,
    OrderPlaced,
)
from shared.contracts.logistics import ShipmentPickedUp
from shared.db.pool import connect
from tests.catalog.conftest import TEST_PRODUCER
from tests.shared.integration.harness import eventually, send, settings_for

pytestmark = pytest.mark.integration

CHANNELS = ("shopify", "lazada", "tiktok-shop", "tiki", "shopee")
PLACED_AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def product(sku: str) -> Product:
    return Product(
        sku=sku,
        producer_id=TEST_PRODUCER.producer_id,
        names=LocalizedText(vi="Mật ong", en="Honey"),
        price=450_000,
        currency="VND",
        weight_g=750,
        volume_ml=360,
    )


def placed(n: int, sku: str) -> OrderPlaced:
    channel = CHANNELS[n % len(CHANNELS)]
    return OrderPlaced(
        order_id=f"{channel}:acct:{n}",
        channel=channel,
        account="acct",
        external_id=str(n),
        order_ref=f"#{n}",
        currency="VND",
        total=450_000,
        cod_amount=450_000,
        lines=[
            OrderLine(
                channel_sku=f"{channel.upper()}-{sku}", name="x", quantity=1, unit_price=450_000
            )
        ],
        placed_at=PLACED_AT,
    )


async def outbox(url: str) -> list[tuple[str, dict]]:
    conn = await connect(url)
    try:
        rows = await conn.fetch("SELECT event_type, body FROM outbox ORDER BY id")
    finally:
        await conn.close()
    return [(r["event_type"], json.loads(bytes(r["body"]))["payload"]) for r in rows]


async def test_the_service_reserves_the_last_ten_units_for_exactly_ten_of_fifty_orders(
    kafka_bootstrap, make_database, make_topic
) -> None:
    url = await make_database("catalog", bootstrap.MIGRATIONS)
    sku = "TS-HONEY-500"
    conn = await connect(url)
    try:
        async with conn.transaction():
            await upsert_producer(conn, TEST_PRODUCER)
            await upsert_product(conn, product(sku), 10)
            for channel in CHANNELS:
                await upsert_listing(conn, channel, "acct", f"{channel.upper()}-{sku}", sku)
    finally:
        await conn.close()
    orders_topic = await make_topic(partitions=6)
    shipments_topic = await make_topic(partitions=1)
    options = CatalogSettings(stock_events_interval_s=0.2, low_stock_threshold=2)
    service = bootstrap.build(settings_for("catalog", kafka_bootstrap, url), options)
    topics = iter([orders_topic, shipments_topic])  # in the order build() subscribes
    service.subscriptions = [
        dataclasses.replace(s, topic=next(topics)) for s in service.subscriptions
    ]
    service.run_relay = False

    def record(event: Event) -> tuple[str, bytes]:
        env = Envelope.wrap(event, producer="orders", correlation_id=event.key())
        return event.key(), env.to_bytes()

    orders = [placed(n, sku) for n in range(50)]
    unknown = placed(99, "XX-NOT-LISTED")  # its channel SKU maps to nothing we sell
    await service.start()
    try:
        await send(kafka_bootstrap, orders_topic, [record(o) for o in [*orders, unknown]])

        async def all_decided() -> bool:
            kinds = [k for k, _ in await outbox(url)]
            return kinds.count("StockReserved") + kinds.count("StockRejected") == 51

        await eventually(all_decided, timeout=60)
        reserved = [p for k, p in await outbox(url) if k == "StockReserved"]
        rejected = {p["order_id"]: p for k, p in await outbox(url) if k == "StockRejected"}
        assert len(reserved) == 10 and len(rejected) == 41
        assert rejected[unknown.order_id]["lines"][0]["reason"] == "unknown_sku"
        assert rejected[unknown.order_id]["reason"].startswith("unknown_sku: ")
        assert {r["lines"][0]["reason"] for o, r in rejected.items() if o != unknown.order_id} == {
            "insufficient_stock"
        }
        winner = reserved[0]
        [allocation] = winner["allocations"]
        assert allocation["lines"][0]["volume_ml"] == 360 and winner["cod_amount"] == 450_000

        # One winner cancels one unit, another's parcel is picked up.
        cancel = OrderCancelled(
            order_id=winner["order_id"], reason="buyer", lines=[CancelledLine(sku=sku, quantity=1)]
        )
        pickup = ShipmentPickedUp(
            shipment_id="s-1",
            order_id=reserved[1]["order_id"],
            producer_id=TEST_PRODUCER.producer_id,
            occurred_at=datetime.now(UTC),
        )
        await send(kafka_bootstrap, orders_topic, [record(cancel)])
        await send(kafka_bootstrap, shipments_topic, [record(pickup)])

        async def settled() -> bool:
            levels = [p for k, p in await outbox(url) if k == "StockLevelChanged"]
            return bool(levels) and (levels[-1]["on_hand"], levels[-1]["reserved"]) == (9, 8)

        await eventually(settled, timeout=30)
    finally:
        await service.stop()

    events = await outbox(url)
    levels = [p for k, p in events if k == "StockLevelChanged"]
    assert len(levels) < 52  # 50 reservations, a release and a pickup: coalesced
    assert levels[-1]["available"] == 1
    assert {(r["channel"], r["channel_sku"]) for r in levels[-1]["listings"]} == {
        (c, f"{c.upper()}-{sku}") for c in CHANNELS
    }
    [low] = [p for k, p in events if k == "LowStockDetected"]
    assert low["contact"]["phone"] == TEST_PRODUCER.phone and low["available"] <= 2
    conn: asyncpg.Connection = await connect(url)
    try:
        assert await conn.fetchval(
            "SELECT count(*) FROM reservations WHERE status = 'CONFIRMED'"
        ) == 1
    finally:
        await conn.close()


async def test_the_service_releases_reservations_past_their_ttl_on_its_own(
    kafka_bootstrap, make_database
) -> None:
    url = await make_database("catalog", bootstrap.MIGRATIONS)
    sku = "TS-TTL-1"
    conn = await connect(url)
    try:
        async with conn.transaction():
            await upsert_producer(conn, TEST_PRODUCER)
            await upsert_product(conn, product(sku), 5)
            await reserve_for_order(conn, "phone:ttl-1", [(sku, 2)])
    finally:
        await conn.close()
    options = CatalogSettings(reservation_ttl_s=0.5, expiry_interval_s=0.1)
    service = bootstrap.build(settings_for("catalog", kafka_bootstrap, url), options)
    service.subscriptions, service.run_relay = [], False

    async def released() -> bool:
        conn = await connect(url)
        try:
            return await conn.fetchval("SELECT reserved FROM stock_items WHERE sku = $1", sku) == 0
        finally:
            await conn.close()

    assert not await released()
    await service.start()
    try:
        await eventually(released, timeout=20)
    finally:
        await service.stop()
    conn = await connect(url)
    try:
        assert await conn.fetchval(
            "SELECT status FROM reservations WHERE order_id = 'phone:ttl-1'"
        ) == "RELEASED"
    finally:
        await conn.close()
