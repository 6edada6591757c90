"""The one way services build their Kafka broker: FastStream's defaults lose messages, so the
producer waits for all in-sync replicas and is idempotent, and consumers commit after the work."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

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
