"""The transactional outbox and its relay, on the real database and broker."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from shared.contracts.envelope import Envelope
from shared.messaging.admin import ensure_topics
from shared.messaging.broker import build_broker, relay_publish
from shared.messaging.outbox import OutboxRelay, enqueue
from tests.conftest import unique
from tests.shared.integration.harness import Ping, eventually, settings_for

pytestmark = pytest.mark.integration


async def enqueue_pings(pool: asyncpg.Pool, topic: str, ids: list[str]) -> list[Envelope]:
    envelopes = []
    async with pool.acquire() as conn, conn.transaction():
        for ping_id in ids:
            ping = Ping(ping_id=ping_id)
            env = Envelope.wrap(ping, producer="test", correlation_id=f"journey-{ping_id}")
            await enqueue(conn, env, ping, topic=topic)
            envelopes.append(env)
    return envelopes


async def unsent(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")


async def read_all(bootstrap: str, topic: str, expected: int) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=unique("read")
    )
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(30):
            while len(records) < expected:
                for recs in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(recs)
        await asyncio.sleep(0.5)  # anything beyond `expected` would be a duplicate
        for recs in (await consumer.getmany(timeout_ms=500)).values():
            records.extend(recs)
    finally:
        await consumer.stop()
    return records


def acked() -> asyncio.Future[None]:
    """The acknowledgement of a publish the broker took at once."""
    ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    ack.set_result(None)
    return ack


async def test_a_failed_publish_leaves_the_row_unsent_and_records_the_error(db_pool):
    async def broker_down(*_):
        raise ConnectionError("broker unreachable")

    await enqueue_pings(db_pool, "test.down.v1", ["a", "b"])
    relay = OutboxRelay(db_pool, broker_down, service="test")
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert await unsent(db_pool) == 2
    row = await db_pool.fetchrow("SELECT attempts, last_error FROM outbox ORDER BY id LIMIT 1")
    assert row["attempts"] == 1 and "broker unreachable" in row["last_error"]


async def test_the_relay_publishes_in_order_with_envelope_headers_and_marks_rows_sent(
    kafka_bootstrap, db_pool, make_topic
):
    topic = await make_topic(partitions=1)
    envelopes = await enqueue_pings(db_pool, topic, ["1", "2", "3"])
    settings = settings_for("test", kafka_bootstrap, "unused")
    broker = build_broker(settings)
    await broker.start()
    relay = OutboxRelay(db_pool, relay_publish(broker), service="test", poll_interval_s=0.1)
    await relay.start()
    try:
        await eventually(lambda: _none_unsent(db_pool))
    finally:
        await relay.stop()
        await broker.stop()
    records = await read_all(kafka_bootstrap, topic, 3)
    assert [Envelope.model_validate_json(r.value).event_id for r in records] == [
        e.event_id for e in envelopes
    ]
    headers = dict(records[0].headers)
    assert headers["event_type"] == b"Ping"
    assert headers["correlation_id"] == b"journey-1"
    assert headers["traceparent"].startswith(b"00-")
    assert records[0].key == b"1"


async def _none_unsent(pool) -> bool:
    return await unsent(pool) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.durability
async def test_the_relay_survives_a_broker_outage_and_publishes_everything_afterwards(
    tmp_path, db_pool
):
    from shared.devstack.kafka import LocalKafka

    # A broker of this test's own, so stopping it disturbs no other test.
    kafka = LocalKafka(tmp_path / "kafka", free_port())
    kafka.start()
    kafka.wait_ready()
    bootstrap = kafka.bootstrap
    topic = "test.outage.v1"
    await ensure_topics(bootstrap, [(topic, 1, 3_600_000)])
    settings = settings_for("test", bootstrap, "unused", kafka_request_timeout_ms=3000)
    broker = build_broker(settings)
    await broker.start()
    publish = relay_publish(broker)
    relay = OutboxRelay(db_pool, publish, service="test", poll_interval_s=0.1, max_backoff_s=0.5)
    await relay.start()
    try:
        before = await enqueue_pings(db_pool, topic, ["before"])
        await eventually(lambda: _none_unsent(db_pool))
        kafka.stop()
        during = await enqueue_pings(db_pool, topic, ["d1", "d2", "d3"])
        await asyncio.sleep(5)
        assert await unsent(db_pool) == 3, "nothing can be marked sent while the broker is down"
        kafka.start()
        kafka.wait_ready()
        await eventually(lambda: _none_unsent(db_pool), timeout=90)
        records = await read_all(bootstrap, topic, 4)
    finally:
        await relay.stop()
        await broker.stop()
        kafka.stop()
    ids = [Envelope.model_validate_json(r.value).event_id for r in records]
    assert ids == [e.event_id for e in before + during]  # all of them, once each, in order


async def test_a_row_committed_while_the_relay_publishes_is_sent_without_waiting_for_the_poll(
    db_pool,
):
    """A notification that arrives during a relay pass must wake the next pass."""
    first_published = asyncio.Event()
    release_first = asyncio.Event()
    sent: list[str] = []

    async def publish(topic, body, key, headers):
        async def ack():
            if key == "first":
                first_published.set()
                await release_first.wait()
            sent.append(key)

        return asyncio.ensure_future(ack())

    # A poll so long that only the notification can explain a prompt second send.
    relay = OutboxRelay(db_pool, publish, service="test", poll_interval_s=60)
    await relay.start()
    try:
        await enqueue_pings(db_pool, "test.wake.v1", ["first"])
        await asyncio.wait_for(first_published.wait(), 10)
        await enqueue_pings(db_pool, "test.wake.v1", ["second"])  # notified mid-pass
        release_first.set()
        await eventually(lambda: _sent(sent, ["first", "second"]), timeout=10)
    finally:
        await relay.stop()


async def _sent(sent: list[str], expected: list[str]) -> bool:
    return sent == expected


async def test_two_relays_on_one_database_publish_one_pass_at_a_time_in_outbox_order(db_pool):
    """Replicas of a service share its outbox: a second relay must not overtake the first."""
    first_in_flight = asyncio.Event()
    release = asyncio.Event()
    published: list[str] = []

    async def slow(topic, body, key, headers):
        async def ack():
            first_in_flight.set()
            await release.wait()
            published.append(key)

        return asyncio.ensure_future(ack())

    async def fast(topic, body, key, headers):
        published.append(key)
        return acked()

    await enqueue_pings(db_pool, "test.replicas.v1", ["1", "2", "3"])
    a = OutboxRelay(db_pool, slow, service="a", batch_size=1)
    b = OutboxRelay(db_pool, fast, service="b", batch_size=1)
    pass_a = asyncio.create_task(a.relay_once())
    try:
        await asyncio.wait_for(first_in_flight.wait(), 10)
        assert await b.relay_once() == 0  # "1" is in flight in a: "2" must wait
    finally:
        release.set()
    assert await pass_a == 1
    while await b.relay_once():
        pass
    assert published == ["1", "2", "3"]


async def test_a_failed_row_holds_back_only_its_own_key_and_goes_first_in_the_next_pass(
    kafka_bootstrap, db_pool, make_topic
):
    topic = await make_topic(partitions=1)
    a1, b1, a2, b2, c1 = await enqueue_pings(db_pool, topic, ["A", "B", "A", "B", "C"])
    broker = build_broker(settings_for("test", kafka_bootstrap, "unused"))
    await broker.start()
    real = relay_publish(broker)
    handed: list = []  # event ids, as handed to the producer
    b1_fails = True

    async def publish(topic, body, key, headers):
        event_id = Envelope.model_validate_json(body).event_id
        handed.append(event_id)
        if event_id == b1.event_id and b1_fails:

            async def rejected():
                await asyncio.sleep(0.05)  # the other keys are in flight meanwhile
                raise RuntimeError("B1 rejected")

            return asyncio.ensure_future(rejected())
        return await real(topic, body, key, headers)

    relay = OutboxRelay(db_pool, publish, service="test")
    try:
        with pytest.raises(RuntimeError, match="B1 rejected"):
            await relay.relay_once()
        outbox = "SELECT event_id, sent_at, attempts, last_error FROM outbox"
        rows = {r["event_id"]: r for r in await db_pool.fetch(outbox)}
        sent = {i for i, r in rows.items() if r["sent_at"]}
        assert sent == {a1.event_id, a2.event_id, c1.event_id}
        assert rows[b1.event_id]["attempts"] == 1
        assert "B1 rejected" in rows[b1.event_id]["last_error"]
        assert rows[b2.event_id]["attempts"] == 0
        assert b2.event_id not in handed, "B2 must wait for B1: it was never handed over"
        first = await read_all(kafka_bootstrap, topic, 3)
        first_ids = [Envelope.model_validate_json(r.value).event_id for r in first]
        assert sorted(first_ids) == sorted([a1.event_id, a2.event_id, c1.event_id])
        a_ids = [a1.event_id, a2.event_id]
        assert [i for i in first_ids if i in a_ids] == a_ids

        handed.clear()
        b1_fails = False
        assert await relay.relay_once() == 2  # publishing fixed: B1 first, then B2
        assert handed == [b1.event_id, b2.event_id]
        assert await unsent(db_pool) == 0
        records = await read_all(kafka_bootstrap, topic, 5)
    finally:
        await broker.stop()
    ids = [Envelope.model_validate_json(r.value).event_id for r in records]
    assert ids[3:] == [b1.event_id, b2.event_id]


async def test_a_pass_has_many_keys_in_flight_but_never_two_rows_of_one_key(db_pool):
    """Pipelining: a pass does not wait for one acknowledgement before the next key's send."""
    keys = [f"k{n}" for n in range(20)] + ["k0", "k0", "k1"]
    envelopes = await enqueue_pings(db_pool, "test.pipeline.v1", keys)
    loop = asyncio.get_running_loop()
    in_flight: Counter[str] = Counter()
    most = most_of_one_key = 0
    acked: list = []  # event ids, in the order the broker acknowledged them

    async def slow_acks(topic, body, key, headers):
        nonlocal most, most_of_one_key
        in_flight[key] += 1
        most = max(most, in_flight.total())
        most_of_one_key = max(most_of_one_key, in_flight[key])
        ack: asyncio.Future[None] = loop.create_future()

        def acknowledge():
            in_flight[key] -= 1
            acked.append(Envelope.model_validate_json(body).event_id)
            ack.set_result(None)

        loop.call_later(0.05, acknowledge)
        return ack

    assert await OutboxRelay(db_pool, slow_acks, service="test").relay_once() == 23
    assert len(acked) == 23, "a row is marked sent only once the broker acknowledged it"
    assert most > 1, "the keys' sends must be in flight together"
    assert most_of_one_key == 1, "a key's next row waits for the acknowledgement of its previous"
    k0 = {envelopes[i].event_id for i in (0, 20, 21)}
    assert [i for i in acked if i in k0] == [envelopes[i].event_id for i in (0, 20, 21)]
    assert await unsent(db_pool) == 0
