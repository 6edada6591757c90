"""Background jobs (run by shared.runtime.Service, restarted if they crash): the digest flush
and the pickup reminders. Each pass works in short transactions, so a crash leaves every held
alert or reminder either turned into its message or still waiting."""

from __future__ import annotations

import asyncio

from services.notifications.handlers import Notifier, flush_digest, send_due_reminders


def digest_job(notifier: Notifier):
    async def flush_digests(service) -> None:
        while True:
            async with service.pool.acquire() as conn:
                while True:
                    async with conn.transaction():
                        if not await flush_digest(conn, notifier):
                            break
            await asyncio.sleep(notifier.settings.jobs_interval_s)

    return flush_digests


def reminder_job(notifier: Notifier):
    async def pickup_reminders(service) -> None:
        while True:
            async with service.pool.acquire() as conn:
                while True:
                    async with conn.transaction():
                        if not await send_due_reminders(conn, notifier):
                            break
            await asyncio.sleep(notifier.settings.jobs_interval_s)

    return pickup_reminders
