"""Background jobs of the logistics service (supervised by the runtime), each pass one command on
the bus:

- cut-offs: a wave whose cut-off passed is queued for planning as a hub-keyed message. Every
  replica runs this job; the message's event id derives from the wave, and the status flip is
  one UPDATE, so a wave is queued once however many replicas look. Waves whose window began
  are marked dispatched (their plan is frozen);
- partner webhooks: signed POSTs (`post`, here), retried with exponential backoff,
  dead-lettered (`dead_letter`, here) after the last attempt on `<topic>.dlq`; the handler keeps
  the books.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx

from services.logistics.adapters.partner_signing import SIGNATURE_HEADER, sign
from services.logistics.commands import DeliverWebhooks, QueueCutoffs
from services.logistics.settings import LogisticsSettings
from shared.messaging.dlq import DeadLetter, publish_dead_letter
from shared.runtime import Service


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
    """One pass of the webhook job on the service's bus: how many deliveries it tried."""
    assert service.bus is not None
    async with httpx.AsyncClient(timeout=5.0) as client:
        command = DeliverWebhooks(partial(post, settings, client), partial(dead_letter, service))
        return int(await service.bus.handle(command))


async def post(
    settings: LogisticsSettings, client: httpx.AsyncClient, row: Mapping[str, Any]
) -> str | None:
    """One signed POST of a delivery: the error, or None when the partner took it."""
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
    except httpx.HTTPError as exc:
        return repr(exc)
    return None if resp.status_code < 300 else f"HTTP {resp.status_code}"


async def dead_letter(service: Service, row: Mapping[str, Any], error: str, attempts: int) -> None:
    partner = row["partner"]
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
        body=bytes(row["body"]),
        consumer=f"{service.name}-webhook-{partner}",
        error_type="WebhookUndeliverable",
        error_message=f"{attempts} attempts, last: {error}"[:2000],
        failed_at=datetime.now(UTC),
    )
    assert service.broker is not None
    await publish_dead_letter(service.broker, letter, service=service.name)


def webhook_job(settings: LogisticsSettings):
    async def webhooks(service: Service) -> None:
        while True:
            if not await deliver_once(service, settings):
                await asyncio.sleep(settings.webhook_poll_s)

    return webhooks
