"""The logistics service in-process on the real broker and database, on this test's own topics:
its consumers read them and its outbox relay publishes to them (each real topic is mapped to a
fresh one), so nothing else on the broker interferes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from services.logistics import bootstrap
from services.logistics.adapters import postgres as db
from services.logistics.domain.config import HubConfig
from services.logistics.domain.messages import PLANNING
from services.logistics.settings import LogisticsSettings
from shared.contracts.envelope import Envelope, Event
from shared.contracts.parts import ORDERS, PICKUPS, RESERVATIONS, SHIPMENTS, TRACKING
from shared.contracts.topics import dead_letter_topic
from shared.db.pool import connect
from shared.messaging.dlq import list_dead_letters
from shared.runtime import Service
from tests.shared.integration.harness import (
    eventually,
    send,
    settings_for,
    wait_until_assigned,
)

ADMIN = "test-admin-token"
HAGIANG = HubConfig(hub_id="HUB-HAGIANG", name="Ha Giang hub", lat=22.8233, lon=104.9836,
                    solve_seconds=2)


@dataclass
class Logistics:
    services: list[Service]
    topics: dict[str, str]
    url: str
    bootstrap: str
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def service(self) -> Service:
        return self.services[0]

    async def db(self) -> asyncpg.Connection:
        return await connect(self.url)

    async def publish(self, event: Event, correlation_id: str = "test") -> Envelope:
        env = Envelope.wrap(event, producer="test", correlation_id=correlation_id)
        await send(self.bootstrap, self.topics[event.topic], [(event.key(), env.to_bytes())])
        return env

    async def read(self, topic: str) -> list[Envelope]:
        entries = await list_dead_letters(self.bootstrap, [self.topics.get(topic, topic)])
        return [Envelope.model_validate_json(e.body) for e in entries]

    async def wait_for(self, topic: str, event_type: str, count: int = 1, timeout: float = 60):
        async def arrived() -> bool:
            found = [e for e in await self.read(topic) if e.event_type == event_type]
            return len(found) >= count

        await eventually(arrived, timeout=timeout)
        return [e for e in await self.read(topic) if e.event_type == event_type]

    def http(self) -> httpx.AsyncClient:
        app = Starlette(routes=self.service.routes(self.service))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://logistics",
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        self.clients.append(client)
        return client


def _remap(service: Service, topics: dict[str, str]) -> None:
    service.subscriptions = [
        dataclasses.replace(s, topic=topics[s.topic]) for s in service.subscriptions
    ]
    publish = service._publish

    async def remapped(
        topic: str, body: bytes, key: str, headers: dict[str, str]
    ) -> Awaitable[object]:
        base = topic.removesuffix(".dlq")
        if base in topics:
            topic = topics[base] + topic[len(base):]
        return await publish(topic, body, key, headers)

    service._publish = remapped  # type: ignore[method-assign]


@pytest.fixture
async def start_logistics(
    kafka_bootstrap, make_database, make_topic
) -> AsyncIterator[Callable[..., object]]:
    started: list[Logistics] = []

    async def start(replicas: int = 1, hubs=(HAGIANG,), wrap=None, **overrides) -> Logistics:
        url = await make_database("logistics", bootstrap.MIGRATIONS)
        conn = await connect(url)
        try:
            for hub in hubs:
                await db.put_hub(conn, hub)
        finally:
            await conn.close()
        topics = {}
        for real in (RESERVATIONS, ORDERS, TRACKING, PLANNING, PICKUPS, SHIPMENTS):
            name = f"test.{real.split('.')[1]}{uuid.uuid4().hex[:8]}.v1"
            topics[real] = await make_topic(name, partitions=6 if real == PLANNING else 2)
            await make_topic(dead_letter_topic(name), partitions=1)
        values = dict(solve_seconds=2.0, solve_iterations=300, cutoff_poll_s=0.3,
                      webhook_poll_s=0.2)
        settings = LogisticsSettings(**(values | overrides))
        services = []
        for replica in range(replicas):
            service = bootstrap.build(
                settings_for("logistics", kafka_bootstrap, url, admin_token=ADMIN,
                             outbox_poll_interval_s=0.2),
                settings,
            )
            if wrap:
                wrap(replica, service)
            _remap(service, topics)
            services.append(service)
        running = Logistics(services, topics, url, kafka_bootstrap)
        started.append(running)
        for service in services:
            await service.start()
        await wait_until_assigned(kafka_bootstrap, *(s.broker for s in services))
        return running

    yield start
    for running in started:
        for client in running.clients:
            await client.aclose()
        await asyncio.gather(*(s.stop() for s in running.services), return_exceptions=True)
