"""Dead letters: the record as it arrived, plus why it failed, on `<topic>.dlq`.

`list_dead_letters` reads a dead-letter topic without a consumer group (it changes nothing);
`replay` sends entries back to their original topic under a consumer group of its own, so an entry
is replayed once. Consumers deduplicate on event_id, so replaying an entry that did get applied
is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from shared.contracts.topics import dead_letter_topic
from shared.messaging.admin import partition_counts
from shared.metrics import DEAD_LETTERED

REPLAY_GROUP = "ovop-dlq-replay"


class DeadLetter(BaseModel):
    original_topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    body: bytes
    consumer: str
    error_type: str
    error_message: str
    failed_at: datetime

    @classmethod
    def from_record(cls, record, *, consumer: str, error: BaseException) -> DeadLetter:
        return cls(
            original_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=_key(record),
            headers=_headers(record),
            body=record.value or b"",
            consumer=consumer,
            error_type=type(error).__name__,
            error_message=(str(error) or repr(error))[:2000],
            failed_at=datetime.now(UTC),
        )

    def dlq_headers(self) -> dict[str, str]:
        original = {k: v for k, v in self.headers.items() if not k.startswith("dlq_")}
        return original | {
            "error_type": self.error_type,
            "error_message": self.error_message,
            "failed_at": self.failed_at.isoformat(),
            "consumer": self.consumer,
            "original_topic": self.original_topic,
            "original_partition": str(self.partition),
            "original_offset": str(self.offset),
        }


async def publish_dead_letter(broker: KafkaBroker, letter: DeadLetter, *, service: str) -> None:
    await broker.publish(
        letter.body,
        dead_letter_topic(letter.original_topic),
        key=letter.key.encode() if letter.key else None,
        headers=letter.dlq_headers(),
    )
    DEAD_LETTERED.labels(service, letter.consumer, letter.original_topic, letter.error_type).inc()


class DeadLetterEntry(BaseModel):
    dlq_topic: str
    partition: int
    offset: int
    key: str | None
    headers: dict[str, str]
    body: str


def _key(record) -> str | None:
    return record.key.decode(errors="replace") if record.key else None


def _headers(record) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (record.headers or ())}


def _entry(record) -> DeadLetterEntry:
    return DeadLetterEntry(
        dlq_topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=_key(record),
        headers=_headers(record),
        body=(record.value or b"").decode(errors="replace"),
    )


async def list_dead_letters(bootstrap: str, topics: Sequence[str]) -> list[DeadLetterEntry]:
    tps = [
        TopicPartition(t, p)
        for t, n in (await partition_counts(bootstrap, topics)).items()
        for p in range(n)
    ]
    if not tps:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        entries: list[DeadLetterEntry] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=2000)).values():
                entries.extend(_entry(r) for r in recs)
        return entries
    finally:
        await consumer.stop()


async def replay(bootstrap: str, dlq_topic: str, *, limit: int | None = None) -> int:
    """Send not-yet-replayed entries of `dlq_topic` back to their original topic."""
    consumer = AIOKafkaConsumer(
        dlq_topic,
        bootstrap_servers=bootstrap,
        group_id=REPLAY_GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        while limit is None or replayed < limit:
            batch = await consumer.getmany(timeout_ms=3000, max_records=1)
            if not batch:
                break
            for recs in batch.values():
                for record in recs:
                    await _send_back(producer, record)
                    replayed += 1
            await consumer.commit()  # only after the producer's acknowledgement
    finally:
        await producer.stop()
        await consumer.stop()
    return replayed


async def _send_back(producer: AIOKafkaProducer, record) -> None:
    headers = {k: v for k, v in (record.headers or ())}
    original = headers["original_topic"].decode()
    keep = [(k, v) for k, v in headers.items() if k not in _DLQ_ONLY]
    keep.append(("replayed_from", f"{record.topic}:{record.partition}:{record.offset}".encode()))
    await producer.send_and_wait(original, record.value, key=record.key, headers=keep)


_DLQ_ONLY = {
    "error_type",
    "error_message",
    "failed_at",
    "consumer",
    "original_topic",
    "original_partition",
    "original_offset",
}
