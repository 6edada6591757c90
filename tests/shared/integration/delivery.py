"""One delivery handled as the shared consumer handles it, without a broker: the inbox claim, the
handler and the outbox rows in one transaction (Consumer._apply itself). For tests that feed a
service's handlers events in a chosen order, with redeliveries."""

from __future__ import annotations

import asyncpg

from shared.contracts.envelope import Envelope, Event
from shared.messaging.consumer import Consumer, Handler, Subscription
from tests.shared.integration.harness import settings_for


def wrap(event: Event) -> Envelope:
    return Envelope.wrap(event, producer="test", correlation_id=getattr(event, "order_id", "c"))


async def deliver(
    pool: asyncpg.Pool, service: str, handler: Handler, event: Event, env: Envelope | None = None
) -> bool:
    """Handle `event` (in `env`, or a new envelope) as `service`'s consumer; False when the inbox
    already had it (a redelivery)."""
    settings = settings_for(service, "127.0.0.1:9", "postgresql://unused/unused")
    subscription = Subscription(event.topic, {type(event): handler})
    consumer = Consumer(None, pool, settings, subscription)  # type: ignore[arg-type]
    return await consumer._apply(env or wrap(event), event, handler, event.topic)


async def outbox(pool: asyncpg.Pool) -> list[tuple[str, dict]]:
    """(event type, payload) of every event the handlers wrote, in order."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT event_type, body FROM outbox ORDER BY id")
    return [(r["event_type"], Envelope.model_validate_json(r["body"]).payload) for r in rows]
