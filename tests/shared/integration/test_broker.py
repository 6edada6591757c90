"""FastStream's Kafka defaults lose messages (acks=1, no idempotence): the broker every service
builds must not have them. This reads the connected aiokafka producer, so a FastStream or
aiokafka upgrade that moves these attributes fails here loudly rather than silently."""

import pytest

from shared.messaging.broker import build_broker
from tests.shared.integration.harness import settings_for

pytestmark = [pytest.mark.integration, pytest.mark.durability]


async def test_the_services_producer_waits_for_all_replicas_and_is_idempotent(kafka_bootstrap):
    broker = build_broker(settings_for("orders", kafka_bootstrap, "unused"))
    await broker.start()
    try:
        # What broker.publish, and so the outbox relay, sends with: a look inside FastStream.
        producer = broker.config.producer._producer.producer
        assert producer._sender._acks == -1  # acks=all
        assert producer._txn_manager is not None  # enable_idempotence=True
        assert producer._txn_manager.producer_id >= 0  # the broker granted a producer id
    finally:
        await broker.stop()
