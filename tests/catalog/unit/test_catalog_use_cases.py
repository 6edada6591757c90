"""The catalog's use cases driven through its bus on in-memory repositories: what reaches the
outbox is what the rest of the platform hears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.catalog.bootstrap import expire_overdue
from services.catalog.commands import (
    AdjustStock,
    ConfirmPickup,
    PublishStockChanges,
    ReleaseStock,
    ReserveStock,
)
from services.catalog.domain import AdjustmentError, StockLevel
from shared.contracts.envelope import Envelope
from shared.contracts.events import CancelledLine, OrderCancelled, OrderLine, OrderPlaced
from tests.catalog.conftest import TEST_PRODUCER
from tests.catalog.unit.fakes import FakeUnitOfWork, Store, fake_bus, product

HONEY, TEA = "HG-HONEY-500", "SG-TEA-100"
OTHER_PRODUCER = TEST_PRODUCER.model_copy(
    update={"producer_id": "PRD-TS-002", "name": "Other household", "phone": "+84912000198"}
)


async def stocked(honey: int = 5, tea: int = 5) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(Store())
    for producer in (TEST_PRODUCER, OTHER_PRODUCER):
        await uow.catalog.upsert_producer(producer)
    await uow.catalog.upsert_product(product(HONEY), honey)
    await uow.catalog.upsert_product(product(TEA, OTHER_PRODUCER.producer_id), tea)
    await uow.catalog.upsert_listing("shopee", "vn-shop", "SP-HONEY", HONEY)
    uow.store.changes.clear()  # the initial stock's own announcement is not what is tested
    return uow


def placed(order_id: str, *lines: tuple[str, int]) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        channel="shopee",
        account="vn-shop",
        external_id=order_id,
        order_ref=f"#{order_id}",
        currency="VND",
        total=1,
        cod_amount=7,
        lines=[
            OrderLine(channel_sku=sku, name=sku, quantity=quantity, unit_price=1)
            for sku, quantity in lines
        ],
        placed_at=datetime(2026, 12, 1, tzinfo=UTC),
    )


def level(uow: FakeUnitOfWork, sku: str) -> StockLevel:
    return uow.store.levels[sku]


async def test_an_order_reserves_every_line_and_stock_reserved_names_each_producers_parcel():
    uow = await stocked()

    await fake_bus(uow).handle(ReserveStock(placed("sp-1", ("SP-HONEY", 2), (TEA, 1))))

    [(event_type, payload)] = uow.outbox.events()
    assert event_type == "StockReserved" and payload["cod_amount"] == 7
    assert {
        a["producer_id"]: [(ln["sku"], ln["quantity"], ln["channel_skus"]) for ln in a["lines"]]
        for a in payload["allocations"]
    } == {
        TEST_PRODUCER.producer_id: [(HONEY, 2, ["SP-HONEY"])],
        OTHER_PRODUCER.producer_id: [(TEA, 1, [])],
    }
    assert level(uow, HONEY) == StockLevel(on_hand=5, reserved=2)
    assert level(uow, TEA) == StockLevel(on_hand=5, reserved=1)


async def test_an_order_that_wants_more_than_is_available_is_rejected_and_reserves_nothing():
    uow = await stocked(honey=3)

    await fake_bus(uow).handle(ReserveStock(placed("sp-2", ("SP-HONEY", 4), (TEA, 1))))

    [(event_type, payload)] = uow.outbox.events()
    assert event_type == "StockRejected"
    assert payload["reason"] == f"insufficient_stock: {HONEY}"
    assert payload["lines"] == [
        {"sku": HONEY, "reason": "insufficient_stock", "requested": 4, "available": 3}
    ]
    assert level(uow, HONEY) == StockLevel(on_hand=3, reserved=0)
    assert level(uow, TEA) == StockLevel(on_hand=5, reserved=0)


async def test_the_same_order_twice_is_answered_again_and_reserved_once():
    uow = await stocked()
    bus = fake_bus(uow)

    for _ in range(2):
        await bus.handle(ReserveStock(placed("sp-3", ("SP-HONEY", 2))))

    first, second = uow.outbox.events()
    assert first == second and first[0] == "StockReserved"
    assert level(uow, HONEY) == StockLevel(on_hand=5, reserved=2)


async def test_a_cancellation_releases_its_lines_by_channel_sku_then_the_whole_order():
    uow = await stocked()
    bus = fake_bus(uow)
    await bus.handle(ReserveStock(placed("sp-4", ("SP-HONEY", 3), (TEA, 2))))
    partial = OrderCancelled(
        order_id="sp-4", reason="buyer", lines=[CancelledLine(sku="SP-HONEY", quantity=1)]
    )
    envelope = Envelope.wrap(partial, producer="orders", correlation_id="sp-4")

    await bus.handle(ReleaseStock.of(envelope, partial))
    assert level(uow, HONEY) == StockLevel(on_hand=5, reserved=2)
    assert level(uow, TEA) == StockLevel(on_hand=5, reserved=2)

    await bus.handle(ReleaseStock("sp-4"))
    await bus.handle(ReleaseStock("sp-4"))  # a replay: nothing is held any more
    assert level(uow, HONEY) == level(uow, TEA) == StockLevel(on_hand=5, reserved=0)
    assert [t for t, _ in uow.outbox.events()] == ["StockReserved"]  # releasing says nothing


async def test_a_pickup_takes_only_that_producers_units_off_the_shelf_once():
    uow = await stocked()
    bus = fake_bus(uow)
    await bus.handle(ReserveStock(placed("sp-5", ("SP-HONEY", 2), (TEA, 1))))

    for _ in range(2):
        await bus.handle(ConfirmPickup("sp-5", TEST_PRODUCER.producer_id, "s-1"))

    assert level(uow, HONEY) == StockLevel(on_hand=3, reserved=0)
    assert level(uow, TEA) == StockLevel(on_hand=5, reserved=1)


async def test_reservations_past_their_time_expire_and_younger_ones_stay():
    uow = await stocked()
    bus = fake_bus(uow)
    await bus.handle(ReserveStock(placed("sp-old", ("SP-HONEY", 3))))
    await bus.handle(ReserveStock(placed("sp-new", ("SP-HONEY", 1))))
    old = uow.store.reservations["sp-old"][HONEY]
    old.created_at -= timedelta(hours=3)

    assert await expire_overdue(bus, timedelta(hours=2)) == 1
    assert await expire_overdue(bus, timedelta(hours=2)) == 0
    assert level(uow, HONEY) == StockLevel(on_hand=5, reserved=1)


async def test_a_stock_change_is_announced_once_with_its_latest_figure_and_low_stock_once():
    uow = await stocked(honey=6)
    bus = fake_bus(uow)
    for n in range(2):
        await bus.handle(ReserveStock(placed(f"sp-6{n}", ("SP-HONEY", 1))))
    publish = PublishStockChanges(limit=100, low_stock_threshold=4)

    events = await bus.handle(publish)
    assert await bus.handle(publish) == []  # nothing moved since

    assert [type(e).__name__ for e in events] == ["StockLevelChanged", "LowStockDetected"]
    published = [(t, p) for t, p in uow.outbox.events() if t != "StockReserved"]
    assert [(t, p.get("available"), p.get("reserved")) for t, p in published] == [
        ("StockLevelChanged", 4, 2),
        ("LowStockDetected", 4, None),
    ]
    assert {e.correlation_id for e in uow.outbox[2:]} == {f"stock:{HONEY}"}

    await bus.handle(ReserveStock(placed("sp-62", ("SP-HONEY", 1))))
    await bus.handle(publish)
    assert [t for t, _ in uow.outbox.events()][-1] == "StockLevelChanged"  # alerted already


async def test_an_adjustment_cannot_take_reserved_units_and_its_new_level_is_announced():
    uow = await stocked()
    bus = fake_bus(uow)
    await bus.handle(ReserveStock(placed("sp-8", ("SP-HONEY", 4))))
    publish = PublishStockChanges(limit=100, low_stock_threshold=0)
    await bus.handle(publish)

    with pytest.raises(AdjustmentError) as refused:
        await bus.handle(AdjustStock(HONEY, delta=-2))
    assert refused.value.conflict and refused.value.field == "delta"
    assert await bus.handle(AdjustStock(HONEY, on_hand=12, note="stock take")) == StockLevel(
        on_hand=12, reserved=4
    )
    assert await bus.handle(AdjustStock("XX-NOPE-1", delta=1)) is None

    [changed] = await bus.handle(publish)
    assert (changed.sku, changed.on_hand, changed.available) == (HONEY, 12, 8)


@pytest.mark.parametrize("commits", [True, False])
async def test_a_consumed_order_continues_its_journey_in_the_events_it_causes(commits: bool):
    uow = await stocked()
    event = placed("sp-7", ("SP-HONEY", 1))
    envelope = Envelope.wrap(event, producer="orders", correlation_id="journey-7")

    async with uow:
        with uow.caused_by(envelope):
            await fake_bus(uow).handle(ReserveStock.of(envelope, event), uow)
        if commits:
            await uow.commit()

    if not commits:  # left without a commit: rolled back
        assert uow.outbox == []
    else:
        [reserved] = uow.outbox
        assert (reserved.correlation_id, reserved.causation_id, reserved.producer) == (
            "journey-7",
            str(envelope.event_id),
            "catalog",
        )
