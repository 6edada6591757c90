"""Consumers that commit only after the work is done, apply each event once, and never let a bad
message block a partition.

For every record:
1. parse the envelope and the payload; a record that does not parse is poison and goes straight
   to `<topic>.dlq` (retrying cannot fix it);
2. in one PostgreSQL transaction, claim `(consumer, event_id)` in the inbox, run the handler, and
   write the events it returns to the outbox; a claimed event is a redelivery: skip it. A handler
   with a slow step that must hold no transaction (`OwnTransactions`) reads in short transactions
   of its own and hands its writes to `commit`, which is that same transaction;
3. retry a failing handler with exponential backoff and jitter, a bounded number of times, then
   dead-letter the record with the reason;
4. acknowledge (commit the offset). Only an infrastructure failure that even dead-lettering could
   not survive leaves the record uncommitted, and it is consumed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from shared.contracts.envelope import Envelope, Event
from shared.messaging import inbox, outbox
from shared.messaging.dlq import DeadLetter, publish_dead_letter
from shared.metrics import HANDLER_FAILURES, HANDLER_SECONDS, MESSAGES_CONSUMED
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)
AGGREGATE_IDS = ("order_id", "shipment_id", "hub_id", "sku")

Handler = Callable[[asyncpg.Connection, Envelope, Event], Awaitable[Sequence[Event]]]
# A step of writes: its events, or None when what it was computed from has changed (rolled back).
Step = Callable[[asyncpg.Connection], Awaitable[Sequence[Event] | None]]
# Runs a step in the consumer's transaction; False when the step found its basis changed.
Commit = Callable[[Step], Awaitable[bool]]


@dataclass(frozen=True)
class OwnTransactions:
    """A handler whose slow step (a wave solve) must hold no transaction: it reads on the pool in
    short transactions of its own, then calls `commit` with its writes, which run with the inbox
    claim and the outbox rows in one transaction, as any handler's do."""

    handle: Callable[[asyncpg.Pool, Envelope, Event, Commit], Awaitable[None]]


class PermanentError(Exception):
    """A handler error that retrying cannot fix: dead-letter at once."""


class PoisonMessage(PermanentError):
    """The record is not a message we can read."""


class _Changed(Exception):
    """A step found its basis changed: its transaction rolls back."""


@dataclass(frozen=True)
class Subscription:
    """The events of one topic a service handles; other event types on it are skipped."""

    topic: str
    handlers: Mapping[type[Event], Handler | OwnTransactions]

    def handler_for(self, event_type: str) -> tuple[type[Event], Handler | OwnTransactions] | None:
        for model, handler in self.handlers.items():
            if model.event_type == event_type:
                return model, handler
        return None


def parse(body: bytes, sub: Subscription) -> tuple[Envelope, Event | None]:
    try:
        envelope = Envelope.model_validate_json(body)
    except ValidationError as exc:
        raise PoisonMessage(f"invalid envelope: {_first_error(exc)}") from exc
    found = sub.handler_for(envelope.event_type)
    if found is None:
        return envelope, None
    model = found[0]
    try:
        return envelope, model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise PoisonMessage(f"invalid {envelope.event_type} payload: {_first_error(exc)}") from exc


def is_infrastructure_failure(exc: BaseException) -> bool:
    return isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError,
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "body"
    return f"{where}: {err.get('msg')}"


class Consumer:
    """Runs one service's handlers for one topic as a consumer group named after the service."""

    def __init__(
        self, broker: KafkaBroker, pool: asyncpg.Pool, settings: ServiceSettings, sub: Subscription
    ) -> None:
        self._broker = broker
        self._pool = pool
        self._settings = settings
        self._sub = sub
        self.name = settings.service

    def register(self) -> None:
        subscriber = self._broker.subscriber(
            self._sub.topic,
            group_id=self.name,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            max_poll_interval_ms=300_000,
        )
        subscriber(self.consume)

    async def consume(self, msg: KafkaMessage) -> None:
        record = msg.raw_message
        assert not isinstance(record, tuple), "batch subscribers are not used"
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(service=self.name, consumer=self.name)
        try:
            outcome, event_type = await self._process(record)
        except Exception as exc:
            if not isinstance(exc, PermanentError) and is_infrastructure_failure(exc):
                # The database is away: this record is fine, so keep it (nack) and pause.
                log.error("message.infrastructure_failure", error=repr(exc))
                await asyncio.sleep(self._settings.consumer_backoff_max_s)
                raise
            # Poison, a permanent error, or a handler that kept failing.
            outcome, event_type = "dead_lettered", "unknown"
            await self._dead_letter(record, exc)
        MESSAGES_CONSUMED.labels(self.name, self.name, record.topic, outcome).inc()
        HANDLER_SECONDS.labels(self.name, self.name, event_type).observe(
            time.perf_counter() - started
        )

    async def _process(self, record) -> tuple[str, str]:
        envelope, event = parse(record.value or b"", self._sub)
        structlog.contextvars.bind_contextvars(
            correlation_id=envelope.correlation_id,
            event_id=str(envelope.event_id),
            event_type=envelope.event_type,
        )
        if event is None:
            return "ignored", envelope.event_type
        # Every log line of the handling names the aggregate(s) the event is about.
        structlog.contextvars.bind_contextvars(
            **{k: getattr(event, k) for k in AGGREGATE_IDS if getattr(event, k, None)}
        )
        handler = self._sub.handlers[type(event)]
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._settings.consumer_max_attempts),
            wait=wait_exponential_jitter(
                multiplier=self._settings.consumer_backoff_initial_s,
                max=self._settings.consumer_backoff_max_s,
                jitter=self._settings.consumer_backoff_initial_s,  # the default is a whole second
            ),
            retry=retry_if_not_exception_type(PermanentError),
            before_sleep=self._on_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                handled = await self._apply(envelope, event, handler, record.topic)
        return ("handled" if handled else "duplicate"), envelope.event_type

    async def _apply(
        self, envelope: Envelope, event: Event, handler: Handler | OwnTransactions, topic: str
    ) -> bool:
        if not isinstance(handler, OwnTransactions):
            return await self._commit(envelope, topic, lambda conn: handler(conn, envelope, event))
        committed: list[bool] = []

        async def commit(step: Step) -> bool:
            try:
                committed.append(await self._commit(envelope, topic, step))
            except _Changed:
                return False
            return True

        await handler.handle(self._pool, envelope, event, commit)
        return all(committed)

    async def _commit(self, envelope: Envelope, topic: str, step: Step) -> bool:
        """False when the inbox already had the event (a redelivery)."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await inbox.claim(conn, self.name, envelope.event_id, topic):
                log.info("message.duplicate_skipped")
                return False
            events = await step(conn)
            if events is None:
                raise _Changed
            for produced in events:
                out = Envelope.wrap(
                    produced,
                    producer=self.name,
                    correlation_id=envelope.correlation_id,
                    causation_id=str(envelope.event_id),
                )
                await outbox.enqueue(conn, out, produced)
        log.info("message.handled")
        return True

    def _on_retry(self, state) -> None:
        exc = state.outcome.exception() if state.outcome else None
        HANDLER_FAILURES.labels(self.name, self.name, type(exc).__name__).inc()
        log.warning("message.retrying", attempt=state.attempt_number, error=repr(exc))

    async def _dead_letter(self, record, exc: BaseException) -> None:
        HANDLER_FAILURES.labels(self.name, self.name, type(exc).__name__).inc()
        letter = DeadLetter.from_record(record, consumer=self.name, error=exc)
        log.error(
            "message.dead_lettered", error_type=letter.error_type, reason=letter.error_message
        )
        try:
            await publish_dead_letter(self._broker, letter, service=self.name)
        except Exception:
            # Not even the dead-letter topic takes it: leave the offset uncommitted (nack) and
            # pause, so the record comes back once the broker does.
            await asyncio.sleep(1.0)
            raise
