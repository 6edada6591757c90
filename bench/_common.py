"""What both benchmarks share: figures, topics, and the bare aiokafka pipeline used as a baseline.

Run the benchmarks as scripts (`python bench/<name>.py`): this module is imported by file name.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

PARTITIONS = 6  # what the platform's topics have (shared/contracts/topics.py)


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def pct(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: with 30 samples p95 is the 29th, a value actually measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def figures(values_s: Sequence[float]) -> tuple[float, float, float]:
    """(p50, p95, max) in milliseconds."""
    return pct(values_s, 50) * 1e3, pct(values_s, 95) * 1e3, max(values_s) * 1e3


def line(label: str, values_s: Sequence[float]) -> str:
    p50, p95, top = figures(values_s)
    n = len(values_s)
    return f"{label:<50} n={n:<4} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  max {top:7.1f} ms"


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int = PARTITIONS) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


def producer(bootstrap: str) -> AIOKafkaProducer:
    # The settings the services' FastStream broker uses (shared/messaging/broker.py).
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)


class Pipeline:
    """`hops` topics in a row: the bench produces to the first, a consumer per topic forwards to
    the next (each with its own acks=all producer, like a service), the last one records arrival.
    No database, no envelope, auto-commit: the floor the Kafka transport alone sets."""

    def __init__(self, bootstrap: str, hops: int) -> None:
        self._bootstrap = bootstrap
        self._topics = [f"bench.{unique('hop')}_{k}.v1" for k in range(hops)]
        self._consumers: list[AIOKafkaConsumer] = []
        self._producers: list[AIOKafkaProducer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._arrived: dict[bytes, asyncio.Future[float]] = {}

    async def start(self) -> None:
        await create_topics(self._bootstrap, self._topics)
        for k, topic in enumerate(self._topics):
            consumer = AIOKafkaConsumer(
                topic,
                bootstrap_servers=self._bootstrap,
                group_id=unique("bench"),
                auto_offset_reset="earliest",
            )
            out = producer(self._bootstrap)
            await consumer.start()
            await out.start()
            self._consumers.append(consumer)
            self._producers.append(out)
            nxt = self._topics[k + 1] if k + 1 < len(self._topics) else None
            self._tasks.append(asyncio.create_task(self._forward(consumer, out, nxt)))
        deadline = time.monotonic() + 30
        while not all(c.assignment() for c in self._consumers):  # joined their groups
            if time.monotonic() > deadline:
                raise TimeoutError("baseline consumers got no partitions")
            await asyncio.sleep(0.05)

    async def _forward(
        self, consumer: AIOKafkaConsumer, out: AIOKafkaProducer, nxt: str | None
    ) -> None:
        async for msg in consumer:
            if nxt is not None:
                await out.send_and_wait(nxt, msg.value, key=msg.key)
            elif (fut := self._arrived.get(msg.value or b"")) and not fut.done():
                fut.set_result(time.perf_counter())

    async def one(self, timeout: float = 30.0) -> float:
        """Seconds from the start of the first produce to the last consumer's receipt."""
        mid = uuid.uuid4().hex.encode()
        self._arrived[mid] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await self._producers[0].send_and_wait(self._topics[0], mid, key=mid)
        try:
            return await asyncio.wait_for(self._arrived[mid], timeout) - started
        finally:
            del self._arrived[mid]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for client in [*self._consumers, *self._producers]:
            await client.stop()
