"""The orders service in-process on a real database and broker, its HTTP API driven through
ASGI, and the fake platforms as a real HTTP server. Background jobs and the outbox relay are
off: tests run one job pass at a time and read the outbox rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from services.orders import webhook_queue
from services.orders.adapters import postgres as db
from services.orders.adapters.intake import NewOrderWriter
from services.orders.bootstrap import MIGRATIONS, OrdersService, build
from services.orders.webhook_queue import Applied
from tests.orders.fakes import FakePlatforms
from tests.shared.integration.harness import settings_for

ADMIN = "test-admin-token"


@dataclass
class Orders:
    service: OrdersService
    http: httpx.AsyncClient
    fakes: FakePlatforms

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.service.pool is not None
        return self.service.pool

    async def add_account(self, platform: str, account: str, secret: str, **settings: str):
        async with self.pool.acquire() as conn:
            await db.add_channel_account(conn, platform, account, secret, settings)

    async def outbox(self, order_id: str | None = None) -> list[tuple[str, dict]]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT event_type, body FROM outbox ORDER BY id")
        import json

        events = [(r["event_type"], json.loads(r["body"])["payload"]) for r in rows]
        return [e for e in events if order_id is None or e[1].get("order_id") == order_id]

    async def push(self, path: str, body: bytes, headers: dict[str, str]) -> Applied:
        """POST a full-order push, which is queued, then run one pass of the apply job (off in
        these tests): what became of the push."""
        resp = await self.http.post(path, content=body, headers=headers)
        assert resp.status_code == 200 and resp.json()["outcome"] == "queued", resp.text
        applied = await self.apply_queue()
        assert len(applied) == 1, applied
        return next(iter(applied.values()))

    async def apply_queue(self) -> dict[int, Applied]:
        writer = NewOrderWriter(lambda: self.pool)
        return await webhook_queue.apply_once(self.pool, writer, self.service.state.queue_depth)

    async def order(self, order_id: str) -> dict:
        resp = await self.http.get(f"/orders/{order_id}", headers=auth())
        assert resp.status_code == 200, resp.text
        return resp.json()


def auth() -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN}"}


@pytest.fixture
async def orders(kafka_bootstrap, make_database) -> AsyncIterator[Orders]:
    url = await make_database("orders", MIGRATIONS)
    service = build(settings_for("orders", kafka_bootstrap, url, admin_token=ADMIN))
    service.subscriptions, service.background, service.run_relay = [], (), False
    await service.start()
    transport = httpx.ASGITransport(app=service.asgi())
    try:
        async with (
            FakePlatforms() as fakes,
            httpx.AsyncClient(transport=transport, base_url="http://orders") as http,
        ):
            yield Orders(service, http, fakes)
    finally:
        await service.stop()
