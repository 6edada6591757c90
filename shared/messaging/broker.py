"""The one way services build their Kafka broker: FastStream's defaults lose messages, so the
producer waits for all in-sync replicas and is idempotent, and consumers commit after the work."""

from __future__ import annotations

from collections.abc import Awaitable

from faststream.kafka import KafkaBroker

from shared.messaging.outbox import Publish
from shared.settings import ServiceSettings


def build_broker(settings: ServiceSettings) -> KafkaBroker:
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"ovop-{settings.service}",
        acks="all",
        enable_idempotence=True,
        allow_auto_create_topics=False,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        graceful_timeout=settings.graceful_timeout_s,
        logger=None,
    )


def relay_publish(broker: KafkaBroker) -> Publish:
    """The outbox relay's `Publish` over `broker`: hands the finished envelope over and returns
    the future of the broker's acknowledgement (`no_confirm`), which the relay awaits, so that a
    pass's records are in flight together."""

    async def publish(
        topic: str, body: bytes, key: str, headers: dict[str, str]
    ) -> Awaitable[object]:
        return await broker.publish(
            body,
            topic,
            key=key.encode(),
            headers=headers,
            correlation_id=headers.get("correlation_id"),
            no_confirm=True,
        )

    return publish
