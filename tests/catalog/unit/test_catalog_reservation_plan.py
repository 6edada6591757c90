import random

import pytest
from pydantic import ValidationError

from services.catalog.domain import (
    LineProblem,
    Problem,
    Rejected,
    Reserved,
    StockLevel,
    plan_reservation,
)

LEVELS = {
    "HG-HONEY-500": StockLevel(on_hand=10, reserved=7),  # 3 available
    "PQ-FISHSAUCE-500": StockLevel(on_hand=50, reserved=0),
}
KNOWN = {*LEVELS, "LS-GARLIC-500"}  # garlic is known but has no stock row


def test_available_is_on_hand_minus_reserved() -> None:
    assert StockLevel(on_hand=10, reserved=7).available == 3


@pytest.mark.parametrize(("on_hand", "reserved"), [(-1, 0), (0, -1), (3, 4)])
def test_stock_level_refuses_negative_or_over_reserved(on_hand: int, reserved: int) -> None:
    with pytest.raises(ValidationError):
        StockLevel(on_hand=on_hand, reserved=reserved)


def test_reserves_every_line_when_all_are_available() -> None:
    decision = plan_reservation([("PQ-FISHSAUCE-500", 2), ("HG-HONEY-500", 3)], LEVELS, KNOWN)
    assert decision == Reserved(lines=(("HG-HONEY-500", 3), ("PQ-FISHSAUCE-500", 2)))


def test_adds_up_lines_of_the_same_sku() -> None:
    decision = plan_reservation([("HG-HONEY-500", 1), ("HG-HONEY-500", 2)], LEVELS, KNOWN)
    assert decision == Reserved(lines=(("HG-HONEY-500", 3),))


def test_one_short_line_rejects_the_whole_order() -> None:
    decision = plan_reservation([("PQ-FISHSAUCE-500", 1), ("HG-HONEY-500", 4)], LEVELS, KNOWN)
    assert decision == Rejected(
        problems=(
            LineProblem(
                line=1,
                sku="HG-HONEY-500",
                quantity=4,
                problem=Problem.INSUFFICIENT_STOCK,
                requested_total=4,
                available=3,
            ),
        )
    )


def test_lines_of_one_sku_that_together_exceed_stock_are_all_reported() -> None:
    decision = plan_reservation([("HG-HONEY-500", 2), ("HG-HONEY-500", 2)], LEVELS, KNOWN)
    assert isinstance(decision, Rejected)
    assert [(p.line, p.problem, p.requested_total, p.available) for p in decision.problems] == [
        (0, Problem.INSUFFICIENT_STOCK, 4, 3),
        (1, Problem.INSUFFICIENT_STOCK, 4, 3),
    ]


def test_unknown_sku_is_rejected_with_its_line() -> None:
    decision = plan_reservation([("HG-HONEY-500", 1), ("XX-NOPE-1", 1)], LEVELS, KNOWN)
    assert decision == Rejected(
        problems=(LineProblem(line=1, sku="XX-NOPE-1", quantity=1, problem=Problem.UNKNOWN_SKU),)
    )


@pytest.mark.parametrize("quantity", [0, -2])
def test_non_positive_quantity_is_rejected(quantity: int) -> None:
    decision = plan_reservation([("HG-HONEY-500", quantity)], LEVELS, KNOWN)
    assert decision == Rejected(
        problems=(
            LineProblem(
                line=0, sku="HG-HONEY-500", quantity=quantity, problem=Problem.NON_POSITIVE_QUANTITY
            ),
        )
    )


def test_known_sku_without_stock_row_has_nothing_available() -> None:
    decision = plan_reservation([("LS-GARLIC-500", 1)], LEVELS, KNOWN)
    assert isinstance(decision, Rejected)
    assert decision.problems[0].problem is Problem.INSUFFICIENT_STOCK
    assert decision.problems[0].available == 0


def test_an_order_without_lines_is_rejected() -> None:
    decision = plan_reservation([], LEVELS, KNOWN)
    assert decision == Rejected(problems=(LineProblem(line=None, problem=Problem.NO_LINES),))


def test_every_problem_is_reported_in_line_order() -> None:
    requested = [("XX-NOPE-1", 1), ("HG-HONEY-500", 9), ("PQ-FISHSAUCE-500", 0)]
    decision = plan_reservation(requested, LEVELS, KNOWN)
    assert isinstance(decision, Rejected)
    assert [(p.line, p.problem) for p in decision.problems] == [
        (0, Problem.UNKNOWN_SKU),
        (1, Problem.INSUFFICIENT_STOCK),
        (2, Problem.NON_POSITIVE_QUANTITY),
    ]


def test_a_reservation_never_exceeds_what_is_available() -> None:
    rng = random.Random(2024)
    skus = ["A-1", "B-2", "C-3"]
    for _ in range(500):
        levels = {}
        for sku in skus:
            on_hand = rng.randint(0, 5)
            levels[sku] = StockLevel(on_hand=on_hand, reserved=rng.randint(0, on_hand))
        requested = [(rng.choice(skus), rng.randint(-1, 4)) for _ in range(rng.randint(1, 4))]
        decision = plan_reservation(requested, levels, set(skus))
        if isinstance(decision, Reserved):
            assert all(0 < qty <= levels[sku].available for sku, qty in decision.lines)
            assert sum(q for _, q in decision.lines) == sum(q for _, q in requested)
        else:
            assert decision.problems
