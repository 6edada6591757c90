"""The consumer runtime on the real broker and database: once-only, poison, retries, replay."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from shared.contracts.topics import dead_letter_topic
from shared.messaging.dlq import list_dead_letters, replay
from tests.conftest import unique
from tests.shared.integration.harness import (
    CREATE_COUNTS,
    CountingHandler,
    Ping,
    envelope,
    eventually,
    send,
    settings_for,
    start_consumer,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def counts_pool(db_pool: asyncpg.Pool) -> asyncpg.Pool:
    await db_pool.execute(CREATE_COUNTS)
    return db_pool


async def applied(pool: asyncpg.Pool, ping_id: str) -> int | None:
    return await pool.fetchval("SELECT applied FROM ping_counts WHERE ping_id = $1", ping_id)


async def test_a_redelivered_event_is_applied_once(kafka_bootstrap, counts_pool, make_topic):
    topic = await make_topic()
    handler = CountingHandler()
    dup = envelope(Ping(ping_id="p1")).to_bytes()
    sentinel = envelope(Ping(ping_id="p2")).to_bytes()
    await send(kafka_bootstrap, topic, [("k", dup), ("k", dup), ("k", sentinel)])

    settings = settings_for(unique("svc"), kafka_bootstrap, "unused")
    await consume_until_applied(settings, counts_pool, topic, handler, "p2")
    assert await applied(counts_pool, "p1") == 1
    assert handler.attempts["p1"] == 1  # the second delivery never reached the handler


async def _is_applied(pool, ping_id) -> bool:
    return (await applied(pool, ping_id)) is not None


async def consume_until_applied(settings, pool, topic, handler, ping_id: str) -> None:
    """Run the consumer until the ping's effect is in the database, then stop it."""
    broker = await start_consumer(settings, pool, topic, handler)
    try:
        await eventually(lambda: _is_applied(pool, ping_id))
    finally:
        await broker.stop()


async def test_a_poison_message_is_dead_lettered_with_its_reason_and_does_not_block(
    kafka_bootstrap, counts_pool, make_topic
):
    topic = await make_topic(partitions=1)
    dlq = await make_topic(dead_letter_topic(topic), partitions=1)
    after = envelope(Ping(ping_id="after")).to_bytes()
    await send(kafka_bootstrap, topic, [("k", b"{not json"), ("k", after)])

    settings = settings_for(unique("svc"), kafka_bootstrap, "unused")
    await consume_until_applied(settings, counts_pool, topic, CountingHandler(), "after")
    [letter] = await list_dead_letters(kafka_bootstrap, [dlq])
    assert letter.body == "{not json"
    assert letter.headers["error_type"] == "PoisonMessage"
    assert letter.headers["error_message"].startswith("invalid envelope")
    assert letter.headers["consumer"] == settings.service
    assert letter.headers["original_topic"] == topic
    assert letter.headers["original_offset"] == "0"
    assert "failed_at" in letter.headers


async def test_a_failing_handler_is_retried_a_bounded_number_of_times_then_dead_lettered(
    kafka_bootstrap, counts_pool, make_topic
):
    topic = await make_topic(partitions=1)
    dlq = await make_topic(dead_letter_topic(topic), partitions=1)
    handler = CountingHandler()
    doomed = envelope(Ping(ping_id="doomed", fail_times=99)).to_bytes()
    flaky = envelope(Ping(ping_id="flaky", fail_times=2)).to_bytes()
    await send(kafka_bootstrap, topic, [("k", doomed), ("k", flaky)])

    settings = settings_for(unique("svc"), kafka_bootstrap, "unused", consumer_max_attempts=3)
    await consume_until_applied(settings, counts_pool, topic, handler, "flaky")
    assert handler.attempts == {"doomed": 3, "flaky": 3}
    assert await applied(counts_pool, "doomed") is None  # every failed attempt rolled back
    assert await applied(counts_pool, "flaky") == 1
    [letter] = await list_dead_letters(kafka_bootstrap, [dlq])
    assert letter.headers["error_type"] == "ValueError"
    assert "doomed failed on purpose" in letter.headers["error_message"]


async def test_replaying_the_dead_letter_topic_applies_the_message_once_it_can_succeed(
    kafka_bootstrap, counts_pool, make_topic
):
    topic = await make_topic(partitions=1)
    dlq = await make_topic(dead_letter_topic(topic), partitions=1)
    handler = CountingHandler()
    # Fails 3 attempts (dead-lettered), succeeds on the 4th: the replay.
    await send(
        kafka_bootstrap, topic, [("k", envelope(Ping(ping_id="r", fail_times=3)).to_bytes())]
    )
    settings = settings_for(unique("svc"), kafka_bootstrap, "unused", consumer_max_attempts=3)
    broker = await start_consumer(settings, counts_pool, topic, handler)
    try:
        await eventually(lambda: _dlq_size(kafka_bootstrap, dlq, 1))
        assert await replay(kafka_bootstrap, dlq) == 1
        await eventually(lambda: _is_applied(counts_pool, "r"))
        assert await replay(kafka_bootstrap, dlq) == 0  # an entry is replayed once
    finally:
        await broker.stop()
    assert await applied(counts_pool, "r") == 1


async def _dlq_size(bootstrap, dlq, n) -> bool:
    return len(await list_dead_letters(bootstrap, [dlq])) >= n


async def test_a_handler_cut_off_by_shutdown_is_not_committed_and_runs_again_after_restart(
    kafka_bootstrap, counts_pool, make_topic
):
    topic = await make_topic(partitions=1)
    await send(
        kafka_bootstrap, topic, [("k", envelope(Ping(ping_id="slow", sleep_s=3)).to_bytes())]
    )
    service = unique("svc")
    # Shutdown waits 0.5 s for the handler, then cancels it: its transaction must roll back and
    # its offset stay uncommitted (older FastStream releases acked such a message).
    settings = settings_for(service, kafka_bootstrap, "unused", graceful_timeout_s=0.5)
    handler = CountingHandler()
    broker = await start_consumer(settings, counts_pool, topic, handler)
    await asyncio.wait_for(handler.started.wait(), 30)
    await broker.stop()
    assert await applied(counts_pool, "slow") is None

    await consume_until_applied(
        settings_for(service, kafka_bootstrap, "unused"), counts_pool, topic, handler, "slow"
    )
    assert await applied(counts_pool, "slow") == 1
    assert handler.attempts["slow"] == 2


async def test_an_infrastructure_outage_pauses_the_partition_instead_of_dead_lettering(
    kafka_bootstrap, counts_pool, make_topic
):
    topic = await make_topic(partitions=1)
    dlq = await make_topic(dead_letter_topic(topic), partitions=1)
    handler = CountingHandler()
    # Five failed attempts outlast one round of three retries: the record must come back.
    ping = Ping(ping_id="outage", fail_times=5, outage=True)
    await send(kafka_bootstrap, topic, [("k", envelope(ping).to_bytes())])
    settings = settings_for(unique("svc"), kafka_bootstrap, "unused", consumer_max_attempts=3)
    await consume_until_applied(settings, counts_pool, topic, handler, "outage")
    assert handler.attempts["outage"] == 6
    assert await applied(counts_pool, "outage") == 1
    assert await list_dead_letters(kafka_bootstrap, [dlq]) == []
