"""Two replicas in one consumer group split the hubs through Kafka's partition assignment: every
hub's planning messages go to one replica only, with no coordination code."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import defaultdict

import pytest

from services.logistics.domain.messages import PLANNING, ParcelQueued

pytestmark = pytest.mark.integration


def planning_consumer(service, topic: str):
    assert service.broker is not None
    return next(s.consumer for s in service.broker.subscribers if topic in s.topic_names)


async def test_two_replicas_split_the_hubs_between_them(start_logistics):
    handled: dict[int, list[str]] = defaultdict(list)

    def record(replica: int, service) -> None:
        subs = []
        for sub in service.subscriptions:
            if sub.topic == PLANNING:
                wrapped = {}
                for model, handler in sub.handlers.items():

                    async def recorded(conn, env, event, handler=handler):
                        handled[replica].append(event.hub_id)
                        return await handler(conn, env, event)

                    wrapped[model] = recorded
                sub = dataclasses.replace(sub, handlers=wrapped)
            subs.append(sub)
        service.subscriptions = subs

    logistics = await start_logistics(replicas=2, wrap=record)  # returns once the group settled
    topic = logistics.topics[PLANNING]
    parts = [planning_consumer(s, topic).assignment() for s in logistics.services]
    assert all(parts), "the six partitions are split between both replicas"

    hubs = [f"HUB-{n:02d}" for n in range(12)]
    for hub in hubs * 2:
        await logistics.publish(ParcelQueued(hub_id=hub, wave_id=f"{hub}-2026-11-29-AM",
                                             shipment_id=f"s-{hub}"))
    deadline = time.monotonic() + 60
    while sum(len(v) for v in handled.values()) < len(hubs) * 2:
        assert time.monotonic() < deadline, dict(handled)
        await asyncio.sleep(0.2)

    first, second = set(handled[0]), set(handled[1])
    assert first and second  # both replicas plan some hubs
    assert not first & second  # and no hub is planned by both
    assert first | second == set(hubs)
