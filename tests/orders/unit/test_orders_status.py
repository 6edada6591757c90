from datetime import UTC, datetime

import pytest

from services.orders.domain.errors import OrderError
from services.orders.domain.model import Cancellation, FulfilmentUnit, OrderFacts, ShipmentFact
from services.orders.domain.status import (
    TERMINAL_STATUSES,
    InvalidTransition,
    OrderStatus,
    can_transition,
    status_of,
    transition,
)

S = OrderStatus


def test_the_happy_path_saga_runs_from_pending_stock_to_delivered() -> None:
    status = S.PENDING_STOCK
    for target in (S.CONFIRMED, S.PICKUP_SCHEDULED, S.SHIPPED, S.DELIVERED):
        status = transition(status, target)
    assert status is S.DELIVERED


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.PENDING_STOCK, S.REJECTED),
        (S.PENDING_STOCK, S.CANCELLED),
        (S.CONFIRMED, S.CANCELLED),
        (S.PICKUP_SCHEDULED, S.CANCELLED),
    ],
)
def test_rejection_and_cancellation_are_allowed_before_shipping(
    current: OrderStatus, target: OrderStatus
) -> None:
    assert transition(current, target) is target


@pytest.mark.parametrize("status", list(OrderStatus))
def test_moving_to_the_current_status_is_an_idempotent_no_op(status: OrderStatus) -> None:
    assert transition(status, status) is status


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CONFIRMED, S.PENDING_STOCK),
        (S.PENDING_STOCK, S.SHIPPED),
        (S.REJECTED, S.CONFIRMED),
        (S.CANCELLED, S.CONFIRMED),
        (S.SHIPPED, S.CANCELLED),
        (S.DELIVERED, S.CANCELLED),
        (S.CONFIRMED, S.REJECTED),
    ],
)
def test_forbidden_transition_raises_invalid_transition(
    current: OrderStatus, target: OrderStatus
) -> None:
    assert can_transition(current, target) is False
    with pytest.raises(InvalidTransition) as caught:
        transition(current, target)
    assert (caught.value.current, caught.value.target) == (current, target)
    assert current in str(caught.value) and target in str(caught.value)
    assert isinstance(caught.value, OrderError)


def test_terminal_statuses_are_rejected_cancelled_and_returned() -> None:
    assert TERMINAL_STATUSES == {S.REJECTED, S.CANCELLED, S.RETURNED}


def test_after_pickup_the_way_back_is_a_return_not_a_cancellation() -> None:
    assert not can_transition(S.SHIPPED, S.CANCELLED)
    assert transition(S.SHIPPED, S.RETURNING) is S.RETURNING
    assert transition(S.DELIVERED, S.RETURNING) is S.RETURNING
    assert transition(S.RETURNING, S.RETURNED) is S.RETURNED


def test_an_order_on_hold_is_released_to_the_reservation_saga_or_cancelled() -> None:
    assert transition(S.ON_HOLD, S.PENDING_STOCK) is S.PENDING_STOCK
    assert transition(S.PENDING_STOCK, S.ON_HOLD) is S.ON_HOLD
    assert not can_transition(S.ON_HOLD, S.CONFIRMED)


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_a_terminal_status_has_no_way_out(terminal: OrderStatus) -> None:
    assert [s for s in OrderStatus if s != terminal and can_transition(terminal, s)] == []


def test_status_serialises_as_its_name() -> None:
    assert str(S.PENDING_STOCK) == "PENDING_STOCK"
    assert OrderStatus("PICKUP_SCHEDULED") is S.PICKUP_SCHEDULED


AT = datetime(2026, 11, 30, tzinfo=UTC)


def _units(*producers: str) -> list[FulfilmentUnit]:
    return [FulfilmentUnit(producer_id=p, lines=[]) for p in producers]


def _shipped(**statuses: str) -> list[ShipmentFact]:
    return [
        ShipmentFact(producer_id=p, shipment_id=f"S-{p}", status=s, occurred_at=AT)
        for p, s in statuses.items()
    ]


def test_a_units_shipment_facts_count_only_once_the_reservation_is_known() -> None:
    early = OrderFacts(shipments=_shipped(P1="pickup_scheduled"))
    assert status_of(early, []) is S.PENDING_STOCK
    reserved = early.model_copy(update={"reserved": True})
    assert status_of(reserved, _units("P1")) is S.PICKUP_SCHEDULED


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ({"P1": "picked_up"}, S.SHIPPED),
        ({"P1": "delivered"}, S.SHIPPED),
        ({"P1": "delivered", "P2": "delivered"}, S.DELIVERED),
        ({"P1": "returned", "P2": "returned"}, S.RETURNED),
        ({"P1": "delivered", "P2": "cancelled"}, S.DELIVERED),
    ],
)
def test_the_order_follows_its_units(statuses: dict[str, str], expected: OrderStatus) -> None:
    facts = OrderFacts(reserved=True, shipments=_shipped(**statuses))
    assert status_of(facts, _units("P1", "P2")) is expected


def test_a_cancellation_is_a_return_once_a_unit_has_left_and_beats_a_rejection() -> None:
    cancelled = Cancellation(by="operator", reason="buyer")
    facts = OrderFacts(reserved=True, cancellation=cancelled)
    assert status_of(facts, _units("P1")) is S.CANCELLED
    left = facts.model_copy(update={"shipments": _shipped(P1="picked_up")})
    assert status_of(left, _units("P1", "P2")) is S.RETURNING
    half = facts.model_copy(update={"shipments": _shipped(P1="returned", P2="pickup_scheduled")})
    assert status_of(half, _units("P1", "P2")) is S.RETURNING
    back = facts.model_copy(update={"shipments": _shipped(P1="returned", P2="cancelled")})
    assert status_of(back, _units("P1", "P2")) is S.RETURNED
    rejected = OrderFacts(rejected="insufficient_stock", cancellation=cancelled)
    assert status_of(rejected, []) is S.CANCELLED
    assert status_of(rejected.model_copy(update={"cancellation": None}), []) is S.REJECTED
