"""The message bus: every entrypoint (HTTP, CLI, jobs, Kafka consumers) turns its input into a
command or an event and calls `bus.handle`; nothing else reaches a service's handlers.

Each service lists its handlers in one place (its bootstrap): a command has exactly one handler,
and may answer (what its handler returns); an event has zero or more, which answer nothing.
Events a handler raises on the unit of work go to this service's own event handlers in the same
unit of work, and to the outbox when it commits.

Unlike cosmicpython's bus, an event handler's error is not swallowed: it rolls back the whole
unit of work, so a consumed message is retried, then dead-lettered, and never half applied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg

from shared.contracts.envelope import Envelope, Event
from shared.db.uow import UnitOfWork
from shared.messaging.consumer import Handler as ConsumerHandler

U = TypeVar("U", bound=UnitOfWork)
Handler = Callable[[Any, U], Awaitable[Any]]


class NoHandler(LookupError):
    """A message no handler is listed for: a command, or something neither command nor event."""


@dataclass(frozen=True)
class Delivery:
    """A message received from `topic` in `envelope`, as the bus handles it (often a command
    the entrypoint made of the event)."""

    topic: str
    envelope: Envelope
    message: object


class MessageBus(Generic[U]):
    def __init__(
        self,
        uow: Callable[[], U],
        *,
        commands: Mapping[type, Handler[U]],
        events: Mapping[type[Event], Sequence[Handler[U]]] | None = None,
    ) -> None:
        events = events or {}
        both = sorted(t.__name__ for t in set(commands) & set(events))
        if both:
            raise ValueError(f"listed both as a command and as an event: {', '.join(both)}")
        self.uow = uow  # a new unit of work on each call
        self._commands = dict(commands)
        self._events = {t: tuple(handlers) for t, handlers in events.items()}

    async def handle(self, message: object, uow: U | None = None) -> Any:
        """Handle `message` and the events it raises. Without `uow`, in a unit of work of its
        own, committed once the handling ends; with one, in the caller's, which commits (the
        consumer, with its inbox claim, or a batch). Returns a command's answer."""
        if uow is not None:
            return await self._handle(message, uow)
        async with self.uow() as own:
            answer = await self._handle(message, own)
            await own.commit()
        return answer

    async def handle_batch(self, consumer: str, deliveries: Sequence[Delivery]) -> list[bool]:
        """Several received messages in one unit of work, so one transaction: each claimed in
        the inbox first and skipped when `consumer` already handled it. One failure rolls back
        the whole batch; its caller retries the messages one by one. Returns, per delivery,
        whether it was handled (False: a redelivery)."""
        handled: list[bool] = []
        async with self.uow() as uow:
            for delivery in deliveries:
                with uow.caused_by(delivery.envelope):
                    claimed = await uow.claim(consumer, delivery.envelope, delivery.topic)
                    if claimed:
                        await self._handle(delivery.message, uow)
                handled.append(claimed)
            await uow.commit()
        return handled

    async def _handle(self, message: object, uow: U) -> Any:
        answer = await self._dispatch(message, uow)
        queue = uow.collect_new_events()
        while queue:
            await self._dispatch(queue.pop(0), uow)
            queue += uow.collect_new_events()
        return answer

    async def _dispatch(self, message: object, uow: U) -> Any:
        command = self._commands.get(type(message))
        if command is not None:
            return await command(message, uow)
        if not isinstance(message, Event):
            raise NoHandler(f"no handler for {type(message).__name__}")
        for handler in self._events.get(type(message), ()):
            await handler(message, uow)
        return None


def consumer_handler(
    bus: MessageBus[U],
    join: Callable[[asyncpg.Connection], U],
    translate: Callable[[Envelope, Any], object],
) -> ConsumerHandler:
    """A `Subscription` handler that hands the event to `bus`, made into a message by
    `translate`, in a unit of work joined to the consumer's transaction: the consumer keeps its
    inbox claim, commit after the work, retries and dead letters, and the unit of work writes
    the raised events to the outbox."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: Event) -> Sequence[Event]:
        async with join(conn) as uow:
            with uow.caused_by(envelope):
                await bus.handle(translate(envelope, event), uow)
            await uow.commit()
        return []  # already in the outbox

    return handle
