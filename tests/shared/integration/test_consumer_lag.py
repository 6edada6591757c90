"""Consumer lag per group and partition, measured on the real broker: the gauge shows what a
group has not committed yet, and every service exports its own without being asked."""

from __future__ import annotations

import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import REGISTRY

from shared.messaging import lag as lag_module
from shared.messaging.consumer import Subscription
from shared.messaging.lag import LagMonitor
from shared.runtime import Service
from tests.shared.integration.harness import (
    CREATE_COUNTS,
    CountingHandler,
    Ping,
    envelope,
    eventually,
    send,
    settings_for,
)


def gauge(service: str, group: str, topic: str, partition: int) -> float | None:
    labels = {"service": service, "group": group, "topic": topic, "partition": str(partition)}
    return REGISTRY.get_sample_value("ovop_consumer_lag", labels)


async def produce(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition, count in per_partition.items():
            for i in range(count):
                await producer.send_and_wait(topic, f"m{i}".encode(), partition=partition)
    finally:
        await producer.stop()


async def consume(bootstrap: str, group: str, counts: dict[TopicPartition, int]) -> None:
    """A member of `group` reads `counts[tp]` records of each partition, then commits them."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(counts))
        await consumer.seek_to_beginning(*counts)
        read = dict.fromkeys(counts, 0)
        while any(read[tp] < n for tp, n in counts.items()):
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                read[tp] += len(records)
        # What the service's consumer does after its handler: commit where it got to.
        await consumer.commit({tp: OffsetAndMetadata(n, "") for tp, n in counts.items()})
    finally:
        await consumer.stop()


async def test_lag_is_the_end_offset_minus_the_groups_committed_offset_per_partition(
    kafka_bootstrap, make_topic
):
    topic = await make_topic(partitions=3)
    group = f"lag-{uuid.uuid4().hex[:8]}"
    await produce(kafka_bootstrap, topic, {0: 10, 1: 4, 2: 0})
    monitor = LagMonitor(kafka_bootstrap, group, [topic], service="lagtest")
    await monitor.start()
    try:
        # Nothing committed yet: the group would read everything from the earliest.
        assert await monitor.measure() == {
            TopicPartition(topic, 0): 10,
            TopicPartition(topic, 1): 4,
            TopicPartition(topic, 2): 0,
        }
        await consume(
            kafka_bootstrap, group, {TopicPartition(topic, 0): 7, TopicPartition(topic, 1): 4}
        )
        measured = await monitor.measure()
    finally:
        await monitor.stop()
    assert measured == {
        TopicPartition(topic, 0): 3,
        TopicPartition(topic, 1): 0,
        TopicPartition(topic, 2): 0,
    }
    assert [gauge("lagtest", group, topic, p) for p in range(3)] == [3.0, 0.0, 0.0]


async def test_every_service_exports_its_groups_lag_until_it_has_consumed_everything(
    kafka_bootstrap, make_database, make_topic, monkeypatch
):
    monkeypatch.setattr(lag_module, "LAG_INTERVAL_S", 0.2)
    topic = await make_topic(partitions=2)
    name = f"lagsvc{uuid.uuid4().hex[:6]}"
    pings = [Ping(ping_id=f"p{i}") for i in range(6)]
    await send(kafka_bootstrap, topic, [(p.key(), envelope(p).to_bytes()) for p in pings])

    url = await make_database(name, None)
    conn = await asyncpg.connect(url)
    await conn.execute(CREATE_COUNTS)
    await conn.close()
    handler = CountingHandler()
    service = Service(
        settings_for(name, kafka_bootstrap, url, http_port=1),
        None,
        subscriptions=[Subscription(topic, {Ping: handler})],
    )
    service.run_relay = False
    await service.start()
    try:

        async def caught_up() -> bool:
            values = [gauge(name, name, topic, p) for p in range(2)]
            return values == [0.0, 0.0]

        await eventually(caught_up, timeout=60)
    finally:
        await service.stop()
    assert len(handler.attempts) == len(pings), "the lag reached 0 because the work was done"
