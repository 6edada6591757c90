"""The topic registry: every topic, its partition count, and the events it carries."""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.parts import ORDERS, PICKUPS, RESERVATIONS, SHIPMENTS, STOCK, TRACKING


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int = 7 * 24 * 3600 * 1000

    @property
    def dlq(self) -> str:
        return dead_letter_topic(self.name)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


TOPICS: tuple[Topic, ...] = (
    Topic(ORDERS, partitions=6),
    Topic(RESERVATIONS, partitions=6),
    Topic(STOCK, partitions=6),
    Topic(PICKUPS, partitions=6),
    Topic(SHIPMENTS, partitions=6),
    # Raw partner status updates in; logistics maps them onto logistics.shipment.v1.
    Topic(TRACKING, partitions=6),
    # Logistics' own planning messages, keyed by hub: replicas split the hubs between them.
    Topic("logistics.planning.v1", partitions=6),
)
DLQ_PARTITIONS = 1
DLQ_RETENTION_MS = 30 * 24 * 3600 * 1000


def all_topic_specs() -> list[tuple[str, int, int]]:
    """(name, partitions, retention_ms) of every topic and its dead-letter topic."""
    specs = [(t.name, t.partitions, t.retention_ms) for t in TOPICS]
    specs += [(t.dlq, DLQ_PARTITIONS, DLQ_RETENTION_MS) for t in TOPICS]
    return specs
