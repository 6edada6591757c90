"""The one way services build their Kafka broker: FastStream's defaults lose messages, so the
producer waits for all in-sync replicas and is idempotent, and consumers commit after the work."""

from __future__ import annotations

from collections.abc import Awaitable

from aiokafka import AIOKafkaProducer
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


def kafka_producer(broker: KafkaBroker) -> AIOKafkaProducer:
    """The started broker's aiokafka producer (acks=all, idempotent: tests/shared/integration/
    test_broker.py reads it here). The outbox relay sends through it directly: its records are
    finished envelopes, and FastStream's per-message command, codec and header layers cost
    about as much as aiokafka's own send."""
    producer = broker.config.producer._producer.producer  # type: ignore[attr-defined]
    assert isinstance(producer, AIOKafkaProducer), type(producer)
    return producer


def relay_publish(broker: KafkaBroker) -> Publish:
    """The outbox relay's `Publish` over `broker`'s producer: hands the record over and returns
    the future of the broker's acknowledgement, which the relay awaits."""

    async def publish(
        topic: str, body: bytes, key: str, headers: dict[str, str]
    ) -> Awaitable[object]:
        return await kafka_producer(broker).send(
            topic, body, key=key.encode(), headers=[(k, v.encode()) for k, v in headers.items()]
        )

    return publish
