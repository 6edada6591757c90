"""The message bus and the unit of work with an in-memory unit of work: raised events reach the
outbox on commit only, commands have one handler, events any number, a batch shares one
transaction with each message claimed in the inbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import pytest

from shared.contracts.envelope import Envelope, Event
from shared.db.uow import UnitOfWork
from shared.messaging.bus import Delivery, MessageBus, NoHandler
from shared.messaging.outbox import Raised


class Counted(Event):
    event_type: ClassVar[str] = "Counted"
    topic: ClassVar[str] = "test.counted.v1"

    item: str
    total: int

    def key(self) -> str:
        return self.item


class Noticed(Event):
    event_type: ClassVar[str] = "Noticed"
    topic: ClassVar[str] = "test.counted.v1"

    item: str

    def key(self) -> str:
        return self.item


@dataclass(frozen=True)
class Count:
    item: str
    fail: bool = False


class FakeUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        super().__init__("test")
        self.counts: dict[str, int] = {}
        self.outbox: list[Envelope] = []
        self.inbox: set[tuple[str, uuid.UUID]] = set()
        self._claimed: set[tuple[str, uuid.UUID]] = set()
        self.commits = self.rollbacks = 0

    async def _begin(self) -> None:
        self._claimed = set()

    async def _claim(self, consumer: str, event_id: uuid.UUID, topic: str) -> bool:
        key = (consumer, event_id)
        fresh = key not in self.inbox and key not in self._claimed
        self._claimed.add(key)
        return fresh

    async def _enqueue(self, raised: Sequence[Raised]) -> None:
        self.outbox += [item.wrap(self.producer) for item in raised]

    async def _commit(self) -> None:
        self.inbox |= self._claimed
        self.commits += 1

    async def _rollback(self) -> None:
        self.rollbacks += 1


async def count(cmd: Count, uow: FakeUnitOfWork) -> int:
    uow.counts[cmd.item] = uow.counts.get(cmd.item, 0) + 1
    uow.raise_event(Counted(item=cmd.item, total=uow.counts[cmd.item]), correlation_id="c-1")
    if cmd.fail:
        raise RuntimeError("the handler failed after raising")
    return uow.counts[cmd.item]


def bus_on(uow: FakeUnitOfWork) -> MessageBus[FakeUnitOfWork]:
    return MessageBus(lambda: uow, commands={Count: count})


def received(message: object, correlation_id: str = "order-1") -> Delivery:
    event = Noticed(item="x")
    envelope = Envelope.wrap(event, producer="elsewhere", correlation_id=correlation_id)
    return Delivery("test.in.v1", envelope, message)


async def test_a_raised_event_reaches_the_outbox_when_the_unit_of_work_commits() -> None:
    uow = FakeUnitOfWork()

    assert await bus_on(uow).handle(Count("honey")) == 1

    [envelope] = uow.outbox
    assert (envelope.event_type, envelope.payload) == ("Counted", {"item": "honey", "total": 1})
    assert (envelope.producer, envelope.correlation_id, envelope.causation_id) == (
        "test",
        "c-1",
        None,
    )
    assert uow.commits == 1


async def test_a_handler_that_fails_after_raising_leaves_nothing_in_the_outbox() -> None:
    uow = FakeUnitOfWork()

    with pytest.raises(RuntimeError, match="failed after raising"):
        await bus_on(uow).handle(Count("honey", fail=True))

    assert uow.outbox == [] and uow.commits == 0 and uow.rollbacks == 1


async def test_an_unused_unit_of_work_left_without_commit_rolls_back_its_events() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        await bus_on(uow).handle(Count("honey"), uow)
    assert uow.outbox == [] and uow.rollbacks == 1

    async with uow:
        await bus_on(uow).handle(Count("honey"), uow)
        await uow.commit()
    assert [e.payload["total"] for e in uow.outbox] == [2]


async def test_raised_events_go_to_every_listed_event_handler_in_the_same_unit_of_work() -> None:
    uow = FakeUnitOfWork()
    heard: list[tuple[str, int]] = []

    async def first(event: Counted, uow: FakeUnitOfWork) -> None:
        heard.append(("first", event.total))
        uow.raise_event(Noticed(item=event.item), correlation_id="c-2")

    async def second(event: Counted, _: FakeUnitOfWork) -> None:
        heard.append(("second", event.total))

    await bus_on(uow).handle(Count("honey"))  # no event handler listed: the outbox only
    bus = MessageBus(lambda: uow, commands={Count: count}, events={Counted: [first, second]})
    await bus.handle(Count("honey"))

    assert heard == [("first", 2), ("second", 2)]
    assert [e.event_type for e in uow.outbox] == ["Counted", "Counted", "Noticed"]
    assert uow.commits == 2


async def test_a_message_without_a_handler_is_refused_and_a_double_listing_at_once() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(NoHandler, match="str"):
        await bus_on(uow).handle("count honey")
    assert await bus_on(uow).handle(Noticed(item="x")) is None  # an event may have none
    with pytest.raises(ValueError, match="Counted"):
        MessageBus(lambda: uow, commands={Counted: count}, events={Counted: [count]})


async def test_an_event_raised_outside_a_message_must_name_its_journey() -> None:
    uow = FakeUnitOfWork()
    async with uow:
        with pytest.raises(ValueError, match="correlation id"):
            uow.raise_event(Noticed(item="x"))


async def test_a_batch_commits_once_skips_redeliveries_and_each_event_names_its_cause() -> None:
    uow = FakeUnitOfWork()

    async def noticed(cmd: Count, uow: FakeUnitOfWork) -> None:
        uow.raise_event(Noticed(item=cmd.item))  # the journey comes from the message

    bus = MessageBus(lambda: uow, commands={Count: noticed})
    first, second = received(Count("a"), "order-1"), received(Count("b"), "order-2")

    assert await bus.handle_batch("test", [first, second, first]) == [True, True, False]
    assert await bus.handle_batch("test", [second]) == [False]

    assert uow.commits == 2
    assert [(e.payload["item"], e.correlation_id, e.causation_id) for e in uow.outbox] == [
        ("a", "order-1", str(first.envelope.event_id)),
        ("b", "order-2", str(second.envelope.event_id)),
    ]


async def test_a_failing_message_rolls_back_its_whole_batch_and_its_inbox_claims() -> None:
    uow = FakeUnitOfWork()
    good, bad = received(Count("a")), received(Count("b", fail=True))

    with pytest.raises(RuntimeError):
        await bus_on(uow).handle_batch("test", [good, bad])

    assert uow.outbox == [] and uow.inbox == set() and uow.commits == 0
    assert await bus_on(uow).handle_batch("test", [good]) == [True]
