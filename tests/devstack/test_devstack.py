"""shared.devstack starts a real Kafka and PostgreSQL, they work, and stop() leaves nothing behind.

These tests start their own local servers (ignoring KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL and
Docker), so they never pass vacuously against a weaker broker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.devstack import KAFKA_VERSION, DevStack
from shared.devstack.postgres import LocalPostgres

pytestmark = pytest.mark.integration


@pytest.fixture
def local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DEVSTACK_DOCKER", "0")


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def _assert_all_gone(pgids: dict[str, int], root: Path) -> None:
    for pgid in pgids.values():
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)  # nothing left in the server's process group
    assert _processes_mentioning(str(root)) == []


async def _create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, partitions, 1)])
    finally:
        await admin.close()


async def _consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    """Read exactly `count` records one by one, then commit them (manual commit)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        while len(got) < count:
            batch = await consumer.getmany(timeout_ms=10_000, max_records=1)
            assert batch, f"no record within 10s after {len(got)}"
            got += [m.value for msgs in batch.values() for m in msgs]
        await consumer.commit()
    finally:
        await consumer.stop()
    return got


@pytest.mark.durability
async def test_start_roundtrip_restart_resume_stop(tmp_path: Path, local_only: None) -> None:
    root = tmp_path / "stack"
    topic, group = f"t.{uuid.uuid4().hex[:8]}", f"g.{uuid.uuid4().hex[:8]}"
    stack = DevStack(root, fresh=True)
    env = stack.start()
    assert env["DEVSTACK_KAFKA_KIND"] == f"apache-kafka-{KAFKA_VERSION}"
    pgids = stack.pids()
    assert set(pgids) == {"kafka", "postgres"} and os.getpgid(0) not in pgids.values()
    try:
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        conn = await asyncpg.connect(env["DATABASE_URL"])
        assert int(await conn.fetchval("show max_connections")) >= 200
        await conn.execute("create table kept (v text); insert into kept values ('hello')")
        await conn.close()

        await _create_topic(bootstrap, topic, partitions=4)
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for i in range(20):
                await producer.send_and_wait(topic, f"m{i}".encode(), key=str(i % 5).encode())
        finally:
            await producer.stop()
        first = await _consume(bootstrap, topic, group, 10)
    finally:
        stack.stop()
    _assert_all_gone(pgids, root)
    stack.stop()  # idempotent

    # Restart on the same data: committed offsets, records and tables survive.
    with DevStack(root) as again:
        env = again.start()
        rest = await _consume(env["KAFKA_BOOTSTRAP_SERVERS"], topic, group, 10)
        conn = await asyncpg.connect(env["DATABASE_URL"])
        assert await conn.fetchval("select v from kept") == "hello"
        await conn.close()
        pgids = again.pids()
    _assert_all_gone(pgids, root)
    assert sorted(first + rest) == sorted(f"m{i}".encode() for i in range(20))


@pytest.fixture(scope="module")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with pytest.MonkeyPatch.context() as mp:
        for key in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL"):
            mp.delenv(key, raising=False)
        mp.setenv("DEVSTACK_DOCKER", "0")
        with DevStack(tmp_path_factory.mktemp("shared") / "stack", fresh=True) as stack:
            yield stack.start()


def test_environment_wins_and_nothing_starts(
    shared_stack: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", shared_stack["KAFKA_BOOTSTRAP_SERVERS"])
    monkeypatch.setenv("DATABASE_URL", shared_stack["DATABASE_URL"])
    root = tmp_path / "unused"
    with DevStack(root) as stack:
        env = stack.start()
        assert stack.pids() == {}
    assert env == {**shared_stack, "DEVSTACK_KAFKA_KIND": "external"}
    assert not root.exists()


async def test_faststream_publish_subscribe(shared_stack: dict[str, str]) -> None:
    import asyncio

    from faststream.kafka import KafkaBroker

    bootstrap = shared_stack["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"fs.{uuid.uuid4().hex[:8]}"
    await _create_topic(bootstrap, topic, partitions=3)
    received: asyncio.Queue[dict[str, int]] = asyncio.Queue()
    broker = KafkaBroker(bootstrap)

    @broker.subscriber(topic, group_id=f"g.{topic}", auto_offset_reset="earliest")
    async def handle(msg: dict[str, int]) -> None:
        await received.put(msg)

    async with broker:
        await broker.start()
        await broker.publish({"n": 1}, topic)
        assert await asyncio.wait_for(received.get(), 20) == {"n": 1}


def test_busy_port_fails_loudly(tmp_path: Path, local_only: None) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        stack = DevStack(tmp_path / "stack", kafka_port=busy.getsockname()[1])
        with pytest.raises(RuntimeError, match="Kafka port .* in use"):
            stack.start()
    assert stack.pids() == {}


@pytest.mark.parametrize(
    ("durable", "expected"),
    [
        (False, {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}),
        (True, {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}),
    ],
)
async def test_a_fresh_postgres_flushes_to_disk_only_when_asked_to_be_durable(
    tmp_path: Path, durable: bool, expected: dict[str, str]
) -> None:
    (tmp_path / "stack").mkdir()
    pg = LocalPostgres(tmp_path / "stack", fresh=True, durable=durable)
    pg.start()
    try:
        pg.wait_ready()
        conn = await asyncpg.connect(pg.url)
        try:
            shown = {name: await conn.fetchval(f"show {name}") for name in expected}
        finally:
            await conn.close()
    finally:
        pg.stop()
    assert shown == expected
