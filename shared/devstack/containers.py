"""Kafka / PostgreSQL through testcontainers, used only when a Docker engine answers."""

from __future__ import annotations

import os
from typing import Any

KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"  # testcontainers' KafkaContainer expects a cp image
PG_IMAGE = "postgres:17"


def docker_available(timeout: float = 2.0) -> bool:
    """Ping the engine before any container object is built (their constructors raise
    without one). DEVSTACK_DOCKER=0 skips Docker even when it is there."""
    if os.environ.get("DEVSTACK_DOCKER") == "0":
        return False
    if not os.environ.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        return False  # the common case here: no engine, answer without importing docker
    try:
        import docker

        client = docker.from_env(timeout=int(max(1, timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def start_kafka() -> tuple[Any, str]:
    from testcontainers.community.kafka import KafkaContainer

    container = KafkaContainer(KAFKA_IMAGE).with_kraft()
    container.with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
    container.with_env("KAFKA_NUM_PARTITIONS", "3")
    container.start(timeout=120)
    return container, container.get_bootstrap_server()


def start_postgres(durable: bool = False) -> tuple[Any, str]:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        PG_IMAGE, username="ovop", password="ovop", dbname="postgres", driver=None
    )
    flushes = "" if durable else " -c fsync=off"
    container.with_command(f"postgres -c max_connections=300{flushes}")
    container.start()
    return container, container.get_connection_url()
