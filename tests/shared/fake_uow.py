"""The in-memory half of every service's fake unit of work (cosmicpython's FakeUnitOfWork): an
inbox and an outbox that keep only what a commit wrote, as the database does. Each service's
fake adds its own in-memory repositories."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from shared.contracts.envelope import Envelope
from shared.db.uow import UnitOfWork
from shared.messaging.outbox import Raised


class FakeOutbox(list[Envelope]):
    """The envelopes committed units of work wrote, in order."""

    def events(self) -> list[tuple[str, dict]]:
        return [(env.event_type, env.payload) for env in self]

    def types(self) -> list[str]:
        return [env.event_type for env in self]

    def of(self, event_type: str) -> list[dict]:
        return [env.payload for env in self if env.event_type == event_type]


class InMemoryUnitOfWork(UnitOfWork):
    """Repositories are not rolled back: a test that needs that uses the database."""

    def __init__(self, producer: str) -> None:
        super().__init__(producer)
        self.outbox = FakeOutbox()
        self.inbox: set[tuple[str, uuid.UUID]] = set()
        self.commits = 0
        self._claimed: set[tuple[str, uuid.UUID]] = set()

    async def _begin(self) -> None:
        self._claimed = set()

    async def _claim(self, consumer: str, event_id: uuid.UUID, topic: str) -> bool:
        key = (consumer, event_id)
        if key in self.inbox or key in self._claimed:
            return False
        self._claimed.add(key)
        return True

    async def _enqueue(self, raised: Sequence[Raised]) -> None:
        self.outbox.extend(item.wrap(self.producer) for item in raised)

    async def _commit(self) -> None:
        self.inbox |= self._claimed
        self.commits += 1

    async def _rollback(self) -> None:
        self._claimed = set()
