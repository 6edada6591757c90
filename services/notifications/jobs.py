"""Background jobs (run by shared.runtime.Service, restarted if they crash): the digest flush
and the pickup reminders. Each pass is one command to the bus, in a unit of work of its own, so
a crash leaves every held alert or reminder either turned into its message or still waiting."""

from __future__ import annotations

import asyncio

from services.notifications.adapters.uow import NotificationsUnitOfWork
from services.notifications.commands import FlushDigest, SendDueReminders
from shared.messaging.bus import MessageBus


def _job(name: str, command: object, bus: MessageBus[NotificationsUnitOfWork], interval_s: float):
    async def job(_service) -> None:
        while True:
            while await bus.handle(command):  # a pass that did something: there may be more
                pass
            await asyncio.sleep(interval_s)

    job.__name__ = job.__qualname__ = name  # how a crash is logged
    return job


def digest_job(bus: MessageBus[NotificationsUnitOfWork], interval_s: float):
    return _job("flush_digests", FlushDigest(), bus, interval_s)


def reminder_job(bus: MessageBus[NotificationsUnitOfWork], interval_s: float):
    return _job("pickup_reminders", SendDueReminders(), bus, interval_s)
