"""Consumer lag per group and partition, as a Prometheus gauge.

Lag is how many records of a partition the group has not committed yet: the partition's end
offset minus the group's committed offset (or minus the log start, where the group has never
committed: it reads from the earliest). FastStream exports no such metric, so each service runs
`export_consumer_lag` as a background job: every pass asks the broker for the group's committed
offsets (admin client) and the partitions' end offsets (a consumer outside any group, which
never joins or disturbs the service's group).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata
from prometheus_client import Gauge
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

log = structlog.get_logger(__name__)

CONSUMER_LAG = Gauge(
    "ovop_consumer_lag",
    "Records of a partition the consumer group has not committed yet (end offset - committed).",
    ["service", "group", "topic", "partition"],
)
LAG_INTERVAL_S = 15.0  # as often as Prometheus usually scrapes


class _Subscription(Protocol):
    @property
    def topic(self) -> str: ...


class _Settings(Protocol):
    @property
    def kafka_bootstrap_servers(self) -> str: ...

    @property
    def kafka_request_timeout_ms(self) -> int: ...


class _Service(Protocol):
    """What the job needs of shared.runtime.Service (not imported: runtime imports this)."""

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> _Settings: ...

    @property
    def subscriptions(self) -> Sequence[_Subscription]: ...


class LagMonitor:
    """Measures one consumer group's lag on some topics and sets the gauge."""

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Iterable[str],
        service: str | None = None,
        request_timeout_ms: int = 15000,
    ) -> None:
        self.group = group
        self.topics = sorted(set(topics))
        self.service = service or group
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=request_timeout_ms
        )
        # No group_id: this consumer only reads offsets, it never joins the service's group.
        self._offsets = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=request_timeout_ms,
        )

    async def start(self) -> None:
        await self._admin.start()
        await self._offsets.start()

    async def stop(self) -> None:
        await self._offsets.stop()
        await self._admin.close()

    async def measure(self) -> dict[TopicPartition, int]:
        """The lag of every partition of the topics, and the gauge set to it."""
        described = await self._admin.describe_topics(self.topics)
        partitions = [
            TopicPartition(t["topic"], p["partition"])
            for t in described
            if not t["error_code"]
            for p in t["partitions"]
        ]
        if not partitions:
            return {}
        committed = await self._committed()
        ends = await self._offsets.end_offsets(partitions)
        starts = await self._offsets.beginning_offsets(partitions)
        lag: dict[TopicPartition, int] = {}
        for tp in partitions:
            meta = committed.get(tp)
            position = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
            lag[tp] = max(0, ends[tp] - position)
            CONSUMER_LAG.labels(self.service, self.group, tp.topic, str(tp.partition)).set(
                lag[tp]
            )
        return lag

    async def _committed(self) -> dict[TopicPartition, OffsetAndMetadata]:
        # A coordinator still loading (a fresh or restarting broker) answers a retriable error.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, KafkaError) and e.retriable),
            stop=stop_after_attempt(6),
            wait=wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        ):
            with attempt:
                return await self._admin.list_consumer_group_offsets(self.group)
        raise AssertionError("unreachable: tenacity reraises")


async def export_consumer_lag(service: _Service, interval_s: float | None = None) -> None:
    """Background job (shared.runtime.Service): the service's group lag on its topics, forever.

    The group is the service's name, as shared.messaging.consumer.Consumer subscribes.
    """
    topics = {sub.topic for sub in service.subscriptions}
    if not topics:
        return  # a service that consumes nothing has no lag
    monitor = LagMonitor(
        service.settings.kafka_bootstrap_servers,
        group=service.name,
        topics=topics,
        request_timeout_ms=service.settings.kafka_request_timeout_ms,
    )
    try:
        await monitor.start()
        while True:
            try:
                await monitor.measure()
            except Exception as exc:  # noqa: BLE001 - a broker hiccup: keep the last values
                log.warning("consumer_lag.unmeasured", error=repr(exc))
            await asyncio.sleep(interval_s or LAG_INTERVAL_S)
    finally:
        await monitor.stop()
