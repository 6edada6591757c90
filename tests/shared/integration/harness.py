"""A consumer under test: a real broker, a real database, and a handler that counts what it does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import ClassVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocol
from aiokafka.errors import IllegalStateError
from faststream.kafka import KafkaBroker

from shared.contracts.envelope import Envelope, Event
from shared.messaging.broker import build_broker
from shared.messaging.consumer import Consumer, Subscription
from shared.settings import ServiceSettings


class Ping(Event):
    event_type: ClassVar[str] = "Ping"
    topic: ClassVar[str] = "test.ping.v1"

    ping_id: str
    fail_times: int = 0  # the handler fails this many attempts before it succeeds
    sleep_s: float = 0.0  # the handler takes this long (after its write, before it returns)
    outage: bool = False  # fail like a lost database connection instead of a handler bug

    def key(self) -> str:
        return self.ping_id


CREATE_COUNTS = """CREATE TABLE IF NOT EXISTS ping_counts (
    ping_id text PRIMARY KEY, applied int NOT NULL)"""


class CountingHandler:
    """Applies a Ping with a non-idempotent write, so only the inbox can keep it to one."""

    def __init__(self) -> None:
        self.attempts: dict[str, int] = {}
        self.started = asyncio.Event()

    async def __call__(self, conn: asyncpg.Connection, _: Envelope, ping: Event) -> list[Event]:
        assert isinstance(ping, Ping)
        self.attempts[ping.ping_id] = self.attempts.get(ping.ping_id, 0) + 1
        await conn.execute(
            """INSERT INTO ping_counts VALUES ($1, 1)
               ON CONFLICT (ping_id) DO UPDATE SET applied = ping_counts.applied + 1""",
            ping.ping_id,
        )
        self.started.set()
        await asyncio.sleep(ping.sleep_s)
        if self.attempts[ping.ping_id] <= ping.fail_times and ping.outage:
            raise ConnectionResetError("database connection lost")
        if self.attempts[ping.ping_id] <= ping.fail_times:
            raise ValueError(f"ping {ping.ping_id} failed on purpose")
        return []


def settings_for(service: str, bootstrap: str, database_url: str, **over) -> ServiceSettings:
    values = dict(
        service=service,
        kafka_bootstrap_servers=bootstrap,
        own_database_url=database_url,
        consumer_max_attempts=3,
        consumer_backoff_initial_s=0.01,
        consumer_backoff_max_s=0.05,
        graceful_timeout_s=5.0,
    )
    return ServiceSettings(**(values | over))


async def start_consumer(settings: ServiceSettings, pool: asyncpg.Pool, topic: str, handler):
    broker = build_broker(settings)
    Consumer(broker, pool, settings, Subscription(topic, {Ping: handler})).register()
    await broker.start()
    await wait_until_assigned(settings.kafka_bootstrap_servers, broker)
    return broker


def envelope(ping: Ping, correlation_id: str = "test-journey") -> Envelope:
    return Envelope.wrap(ping, producer="test", correlation_id=correlation_id)


async def send(bootstrap: str, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, body in records:
            await producer.send_and_wait(topic, body, key=key.encode())
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def wait_until_assigned(bootstrap: str, *brokers: KafkaBroker, timeout: float = 60.0) -> None:
    """Return once the consumers of these started brokers are settled: each of their groups is
    stable on the broker, each consumer holds what the broker assigned to it, every partition of
    their topics is assigned, and each consumer knows the offset it reads next.

    Each member that joins a group starts a rebalance, during which the group hands records to
    nobody. Publishing before the group settles makes a test's wait time the rebalance instead
    of the code under test."""
    consumers: list[tuple[str, AIOKafkaConsumer]] = []
    for broker in brokers:
        for subscriber in broker.subscribers:
            assert subscriber.consumer is not None, "start the broker first"
            consumers.append((subscriber.group_id, subscriber.consumer))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with asyncio.timeout(timeout):
            while not await _settled(admin, consumers):
                await asyncio.sleep(0.1)
    except TimeoutError:
        held = {id(c): sorted(c.assignment()) for _, c in consumers}
        raise AssertionError(f"consumers not settled in {timeout}s: {held}") from None
    finally:
        await admin.close()


async def _settled(admin: AIOKafkaAdminClient, consumers) -> bool:
    granted = await _stable_assignments(admin, {group for group, _ in consumers})
    if granted is None:
        return False
    held: list[TopicPartition] = []
    for _, consumer in consumers:
        member_id = consumer._coordinator.member_id  # the name the broker knows this member by
        if consumer.assignment() != granted.get(member_id):
            return False
        held.extend(consumer.assignment())
    wanted = set()
    for _, consumer in consumers:
        for topic in consumer.subscription():
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                return False
            wanted |= {TopicPartition(topic, p) for p in partitions}
    if len(held) != len(set(held)) or set(held) != wanted:
        return False
    try:
        for _, consumer in consumers:
            for tp in consumer.assignment():
                await consumer.position(tp)  # resolves the committed offset or the reset policy
    except IllegalStateError:  # a rebalance took the partition away meanwhile
        return False
    return True


async def _stable_assignments(
    admin: AIOKafkaAdminClient, groups: set[str]
) -> dict[str, set[TopicPartition]] | None:
    """Each member's assignment, by member id, if every group is stable; None otherwise."""
    granted: dict[str, set[TopicPartition]] = {}
    for response in await admin.describe_consumer_groups(sorted(groups)):
        for group in response.groups:
            # (error_code, group, state, protocol_type, protocol, members, ...) in every version
            if group[0] != 0 or group[2] != "Stable":
                return None
            for member in group[5]:
                # member_id first and the assignment last in every version
                assignment = ConsumerProtocol.ASSIGNMENT.decode(member[-1])
                granted[member[0]] = set(assignment.partitions())
    return granted
