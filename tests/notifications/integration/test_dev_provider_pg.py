"""The `dev` provider goes the way every provider goes: the dispatcher sends a message after the
consumer's transaction committed, so a transaction that rolls back sends nothing."""

from __future__ import annotations

import pytest

from services.notifications.adapters.providers import DevProvider, SendResult, SmsRequest
from services.notifications.dispatcher import Dispatcher
from services.notifications.notifier import Notifier
from tests.notifications.conftest import OnBus, bus_on, fast_settings, pickup
from tests.shared.integration.delivery import deliver

pytestmark = pytest.mark.integration


class RememberingDev(DevProvider):
    """The dev provider, remembering what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[SmsRequest] = []

    async def send(self, request: SmsRequest) -> SendResult:
        self.sent.append(request)
        return await super().send(request)


def wired(dev: DevProvider) -> tuple[OnBus, Dispatcher]:
    n = fast_settings()
    return OnBus(Notifier(n, dev.name)), Dispatcher(n, [dev])


async def statuses(pool) -> list[str]:
    async with pool.acquire() as conn:
        return [r["status"] for r in await conn.fetch("SELECT status FROM sms_messages")]


async def test_a_rolled_back_consumer_transaction_sends_nothing_with_the_dev_provider(pool):
    dev = RememberingDev()
    h, dispatcher = wired(dev)

    async def fails_after_recording(conn, env, event) -> list:
        await h.pickup_scheduled(conn, env, event)
        raise RuntimeError("the consumer's transaction fails after the SMS was recorded")

    with pytest.raises(RuntimeError):
        await deliver(pool, "notifications", fails_after_recording, pickup(1))
    assert await dispatcher.pass_once(bus_on(pool)) == 0
    assert dev.sent == [] and await statuses(pool) == []


async def test_a_dev_message_is_sent_by_the_dispatcher_after_the_commit(pool):
    dev = RememberingDev()
    h, dispatcher = wired(dev)
    assert await deliver(pool, "notifications", h.pickup_scheduled, pickup(1))
    assert dev.sent == [] and await statuses(pool) == ["QUEUED"]
    assert await dispatcher.pass_once(bus_on(pool)) == 1
    assert len(dev.sent) == 1 and await statuses(pool) == ["ACCEPTED"]
