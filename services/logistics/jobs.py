"""Background jobs of the logistics service (supervised by the runtime):

- cut-offs: a wave whose cut-off passed is queued for planning as a hub-keyed message. Every
  replica runs this job; the message's event id derives from the wave, and the status flip is
  one UPDATE, so a wave is queued once however many replicas look. Waves whose window began
  are marked dispatched (their plan is frozen);
- partner webhooks: signed POSTs, retried with exponential backoff, dead-lettered after the
  last attempt on `<topic>.dlq`.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import httpx
import structlog

from services.logistics.adapters import postgres as db
from services.logistics.adapters.partner_signing import SIGNATURE_HEADER, sign
from services.logistics.commands import QueueCutoffs
from services.logistics.metrics import WEBHOOK_DELIVERIES
from services.logistics.settings import LogisticsSettings
from shared.messaging.dlq import DeadLetter, publish_dead_letter
from shared.runtime import Service

log = structlog.get_logger(__name__)


async def queue_cutoffs(service: Service) -> int:
    """One pass of the cut-off job on the service's bus: how many waves it queued."""
    assert service.bus is not None
    return int(await service.bus.handle(QueueCutoffs()))


def cutoff_job(settings: LogisticsSettings):
    async def cutoffs(service: Service) -> None:
        while True:
            await queue_cutoffs(service)
            await asyncio.sleep(settings.cutoff_poll_s)

    return cutoffs


async def deliver_once(service: Service, settings: LogisticsSettings) -> int:
    assert service.pool is not None
    done = 0
    async with service.pool.acquire() as conn, conn.transaction():
        rows = await db.due_deliveries(conn)
        async with httpx.AsyncClient(timeout=5.0) as client:
            for row in rows:
                await _deliver(service, settings, conn, client, row)
                done += 1
    return done


async def _deliver(service, settings, conn, client: httpx.AsyncClient, row) -> None:
    partner, body = row["partner"], bytes(row["body"])
    secret = settings.partner_secrets.get(partner, "")
    headers = {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret, body),
        "X-OVOP-Event-Id": str(row["event_id"]),
        "X-OVOP-Event-Type": row["event_type"],
        "X-OVOP-Delivery-Attempt": str(row["attempts"] + 1),
    }
    try:
        resp = await client.post(row["url"], content=body, headers=headers)
        error = None if resp.status_code < 300 else f"HTTP {resp.status_code}"
    except httpx.HTTPError as exc:
        error = repr(exc)
    if error is None:
        await db.delivery_outcome(conn, row["id"], "sent")
        WEBHOOK_DELIVERIES.labels(partner, "sent").inc()
        return
    attempts = row["attempts"] + 1
    if attempts >= settings.webhook_max_attempts:
        letter = DeadLetter(
            original_topic=row["topic"],
            partition=-1,
            offset=-1,
            key=row["event_key"],
            headers={
                "event_type": row["event_type"],
                "event_id": str(row["event_id"]),
                "partner": partner,
                "url": row["url"],
            },
            body=body,
            consumer=f"{service.name}-webhook-{partner}",
            error_type="WebhookUndeliverable",
            error_message=f"{attempts} attempts, last: {error}"[:2000],
            failed_at=datetime.now(UTC),
        )
        # Published before the row is marked dead: a crash between the two repeats the letter,
        # never loses it.
        assert service.broker is not None
        await publish_dead_letter(service.broker, letter, service=service.name)
        await db.delivery_outcome(conn, row["id"], "dead", error=error)
        WEBHOOK_DELIVERIES.labels(partner, "dead").inc()
        log.error("webhook.dead_lettered", partner=partner, attempts=attempts, error=error)
        return
    backoff = min(settings.webhook_backoff_s * 2 ** (attempts - 1), settings.webhook_backoff_max_s)
    retry_in = backoff * random.uniform(0.8, 1.2)
    await db.delivery_outcome(conn, row["id"], "pending", retry_in_s=retry_in, error=error)
    WEBHOOK_DELIVERIES.labels(partner, "retry").inc()
    log.warning("webhook.retrying", partner=partner, attempts=attempts, retry_in_s=retry_in)


def webhook_job(settings: LogisticsSettings):
    async def webhooks(service: Service) -> None:
        while True:
            if not await deliver_once(service, settings):
                await asyncio.sleep(settings.webhook_poll_s)

    return webhooks
