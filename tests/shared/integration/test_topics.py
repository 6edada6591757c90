import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.contracts.topics import all_topic_specs
from shared.messaging.admin import ensure_topics, partition_counts

pytestmark = pytest.mark.integration


async def test_setup_creates_every_registered_topic_with_its_partitions_and_retention(
    kafka_bootstrap,
):
    specs = all_topic_specs()
    await ensure_topics(kafka_bootstrap, specs)
    assert await ensure_topics(kafka_bootstrap, specs) == []  # idempotent
    counts = await partition_counts(kafka_bootstrap, [name for name, _, _ in specs])
    assert counts == {name: partitions for name, partitions, _ in specs}
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name, _, _ in specs]
        described = await admin.describe_configs(resources)
    finally:
        await admin.close()
    retention = {
        name: value
        for response in described
        for _error, _message, _type, name, configs, *_ in response.resources
        for key, value, *_ in configs
        if key == "retention.ms"
    }
    assert retention == {name: str(ms) for name, _, ms in specs}
