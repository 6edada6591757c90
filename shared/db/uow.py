"""The unit of work: one transaction of a service, with its repositories, the inbox and the outbox.

Handlers change state through the repositories and raise events on the unit of work. `commit`
writes the raised events to the outbox, then commits, in one transaction: an event is published
if and only if the change it announces is committed. Leaving the block without a commit rolls
back and drops the events.

Several messages can share one unit of work (a batch): each is claimed in the inbox first, and
the events it raises name it as their cause.
"""

from __future__ import annotations

import contextlib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import ClassVar, Self

import asyncpg

from shared.contracts.envelope import Envelope, Event
from shared.messaging import inbox, outbox
from shared.messaging.outbox import Raised


class UnitOfWork(ABC):
    """Each service's subclass adds its repositories, created when the block is entered."""

    def __init__(self, producer: str) -> None:
        self.producer = producer  # the service: its events' envelopes name it
        self._raised: list[Raised] = []
        self._collected = 0  # raised events the bus has already taken (collect_new_events)
        self._cause: Envelope | None = None
        self._open = False

    async def __aenter__(self) -> Self:
        self._raised, self._collected = [], 0
        await self._begin()
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._open and exc is None and not self._owns_transaction():
                # Its owner would commit the changes without their events.
                raise RuntimeError("a joined unit of work was left without a commit")
            if self._open:
                await self.rollback()
        finally:
            self._open = False
            await self._close()

    def raise_event(
        self, event: Event, *, correlation_id: str | None = None, event_id: uuid.UUID | None = None
    ) -> None:
        """Publish `event` if this unit of work commits. Inside a received message it continues
        that message's journey; elsewhere (an API call, a job) `correlation_id` names one."""
        cause = self._cause
        correlation = cause.correlation_id if cause else correlation_id
        if correlation is None:
            raise ValueError(f"{event.event_type} raised outside a message needs a correlation id")
        causation = str(cause.event_id) if cause else None
        self._raised.append(Raised(event, correlation, causation, event_id))

    def collect_new_events(self) -> list[Event]:
        """The events raised since the last call, for the bus to hand to this service's own
        event handlers; they stay raised, for the outbox."""
        new = self._raised[self._collected :]
        self._collected = len(self._raised)
        return [item.event for item in new]

    @contextlib.contextmanager
    def caused_by(self, envelope: Envelope) -> Iterator[None]:
        """Events raised inside the block continue `envelope`'s journey and name it as cause."""
        previous, self._cause = self._cause, envelope
        try:
            yield
        finally:
            self._cause = previous

    async def claim(self, consumer: str, envelope: Envelope, topic: str) -> bool:
        """The inbox: True when `consumer` has not handled this message before. The claim
        commits or rolls back with the work, so a message is handled once or not at all."""
        return await self._claim(consumer, envelope.event_id, topic)

    async def commit(self) -> None:
        if not self._open:
            raise RuntimeError("commit outside the unit of work's block, or a second commit")
        raised, self._raised, self._collected = self._raised, [], 0
        await self._enqueue(raised)
        await self._commit()
        self._open = False

    async def rollback(self) -> None:
        self._raised, self._collected = [], 0
        self._open = False
        await self._rollback()

    @abstractmethod
    async def _begin(self) -> None: ...

    @abstractmethod
    async def _claim(self, consumer: str, event_id: uuid.UUID, topic: str) -> bool: ...

    @abstractmethod
    async def _enqueue(self, raised: Sequence[Raised]) -> None: ...

    @abstractmethod
    async def _commit(self) -> None: ...

    @abstractmethod
    async def _rollback(self) -> None: ...

    async def _close(self) -> None:
        """Give back what `_begin` took; runs after commit or rollback."""
        return None

    def _owns_transaction(self) -> bool:
        return True


class PostgresUnitOfWork(UnitOfWork):
    """One connection and its transaction. `database` is a pool (a connection is taken for the
    block) or a connection. With `joined`, the connection is already inside its owner's
    transaction (the consumer's, which holds the inbox claim): `commit` only writes the outbox
    rows and the owner commits; only an error reaching the owner rolls the work back."""

    service: ClassVar[str]  # each service's subclass names itself: its events' producer

    def __init__(
        self,
        database: asyncpg.Pool | asyncpg.Connection | None,
        *,
        producer: str | None = None,
        joined: bool = False,
    ) -> None:
        super().__init__(producer or self.service)
        self._database = database
        self._joined = joined
        self._pool: asyncpg.Pool | None = None
        self._transaction: asyncpg.transaction.Transaction | None = None
        self.connection: asyncpg.Connection | None = None

    async def _begin(self) -> None:
        if self._database is None:
            raise RuntimeError("no database: the service has not started")
        if isinstance(self._database, asyncpg.Pool):
            self._pool = self._database
            self.connection = await self._pool.acquire()
        else:
            self.connection = self._database
        try:
            if not self._joined:
                self._transaction = self.connection.transaction()
                await self._transaction.start()
            self._bind(self.connection)
        except BaseException:
            await self._close()
            raise

    def _owns_transaction(self) -> bool:
        return not self._joined

    def _bind(self, conn: asyncpg.Connection) -> None:
        """Each service's subclass creates its repositories on the connection here."""

    def _conn(self) -> asyncpg.Connection:
        if self.connection is None:
            raise RuntimeError("the unit of work is used outside its block")
        return self.connection

    async def _claim(self, consumer: str, event_id: uuid.UUID, topic: str) -> bool:
        return await inbox.claim(self._conn(), consumer, event_id, topic)

    async def _enqueue(self, raised: Sequence[Raised]) -> None:
        await outbox.enqueue_raised(self._conn(), self.producer, raised)

    async def _commit(self) -> None:
        # Forgotten before the COMMIT: one that fails has ended the transaction already, and a
        # ROLLBACK after it would replace its error.
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await transaction.commit()

    async def _rollback(self) -> None:
        if self._transaction is not None:
            transaction, self._transaction = self._transaction, None
            await transaction.rollback()

    async def _close(self) -> None:
        conn, self.connection = self.connection, None
        if self._pool is not None and conn is not None:
            await self._pool.release(conn)
        self._pool = None
