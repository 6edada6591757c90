"""The notifications service as a process, for the kill test: built by its own bootstrap from the
environment, with its subscriptions moved to the test's topics (TEST_TOPICS, a JSON map). With
KILL_AFTER_ACCEPT=1 the process SIGKILLs itself the moment a provider has accepted a message,
before the sender can record that: the worst moment for exactly-once."""

from __future__ import annotations

import dataclasses
import json
import os
import signal

from services.notifications import bootstrap
from services.notifications.adapters.providers import SendResult, SmsRequest
from services.notifications.settings import NotificationSettings
from shared.runtime import serve


class KillAfterAccept:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.idempotent = inner.name, inner.idempotent

    async def send(self, request: SmsRequest) -> SendResult:
        result = await self.inner.send(request)
        if result.outcome == "accepted":
            os.kill(os.getpid(), signal.SIGKILL)
        return result


def main() -> None:
    n = NotificationSettings()
    providers = bootstrap.sms_providers(n)
    if os.environ.get("KILL_AFTER_ACCEPT") == "1":
        providers = [KillAfterAccept(p) for p in providers]
    service = bootstrap.build(notification_settings=n, providers=providers)
    topics = json.loads(os.environ["TEST_TOPICS"])
    service.subscriptions = [
        dataclasses.replace(s, topic=topics[s.topic]) for s in service.subscriptions
    ]
    service.run_relay = False
    serve(service)


if __name__ == "__main__":
    main()
