"""Outbox helpers shared by outbox_throughput.py and relay_wakeup.py."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from _common import unique
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from shared.contracts.envelope import Envelope
from shared.contracts.events import OrderConfirmed
from shared.db.pool import connect, create_pool, ensure_database, migrate
from shared.messaging.broker import build_broker
from shared.settings import ServiceSettings, with_database

Events = list[tuple[Envelope, OrderConfirmed]]
Publish = Callable[[str, bytes, str, dict[str, str]], Awaitable[None]]


def make_events(m: int) -> Events:
    # A real, small event (~400 bytes with its envelope): the relay's cost is per row, not per byte.
    made = [OrderConfirmed(order_id=f"bench-{uuid.uuid4().hex}") for _ in range(m)]
    return [(Envelope.wrap(e, producer="bench", correlation_id=e.order_id), e) for e in made]


async def fresh_pool(server: str, max_size: int = 4) -> asyncpg.Pool:
    """A new database with only the shared outbox/inbox tables."""
    url = with_database(server, unique("bench_outbox"))
    await ensure_database(server, url.rsplit("/", 1)[-1])
    conn = await connect(url)
    try:
        await migrate(conn, "bench", None)
    finally:
        await conn.close()
    return await create_pool(url, max_size=max_size)


async def start_broker(bootstrap: str) -> tuple[KafkaBroker, Publish]:
    broker = build_broker(ServiceSettings(service="bench", kafka_bootstrap_servers=bootstrap))
    await broker.start()

    async def publish(topic: str, body: bytes, key: str, headers: dict[str, str]) -> None:
        # Awaits the acknowledgement: the baseline a relay pass is compared with.
        await broker.publish(body, topic, key=key.encode(), headers=headers)

    return broker, publish


def publish_failures() -> dict[str, float]:
    """The relay's failed passes by error type (it logs each and retries after a backoff)."""
    failures: dict[str, float] = {}
    for metric in REGISTRY.collect():
        for s in metric.samples:
            if s.name == "ovop_outbox_publish_failures_total" and s.labels["service"] == "bench":
                failures[s.labels["reason"]] = s.value
    return failures
