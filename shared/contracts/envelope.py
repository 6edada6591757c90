"""The envelope every message carries, and the base class of event payloads.

Kafka headers repeat `event_type`, `correlation_id` and a W3C `traceparent`, so consumers can
route and trace without parsing the body.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.ids import uuid5_hex


class Event(BaseModel):
    """An integration event's payload. Subclasses set the three class variables."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    topic: ClassVar[str]

    def key(self) -> str:
        """The aggregate id that keys the Kafka record (keeps one aggregate in order)."""
        raise NotImplementedError


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID
    event_type: str
    event_version: int = 1
    occurred_at: AwareDatetime
    producer: str
    correlation_id: str
    causation_id: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        producer: str,
        correlation_id: str,
        causation_id: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> Self:
        # Every field is built here from a validated event and typed arguments: constructing
        # without re-validating the payload saves a deep copy on every event a service publishes.
        return cls.model_construct(
            event_id=event_id or uuid.uuid4(),
            event_type=event.event_type,
            event_version=event.event_version,
            occurred_at=datetime.now(UTC),
            producer=producer,
            correlation_id=correlation_id,
            causation_id=causation_id,
            payload=event.model_dump(mode="json"),
        )

    def headers(self) -> dict[str, str]:
        return {
            "event_type": self.event_type,
            "event_version": str(self.event_version),
            "event_id": str(self.event_id),
            "correlation_id": self.correlation_id,
            "traceparent": traceparent(self.correlation_id),
            "content-type": "application/json",
        }

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


def traceparent(correlation_id: str) -> str:
    """A W3C traceparent whose trace id derives from the correlation id: one journey, one trace."""
    return f"00-{uuid5_hex(uuid.NAMESPACE_URL, correlation_id)}-{os.urandom(8).hex()}-01"
