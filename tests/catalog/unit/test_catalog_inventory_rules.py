"""Pure inventory rules: what a cancellation releases, adjustments, low-stock crossings."""

import pytest

from services.catalog.domain import (
    AdjustmentError,
    Held,
    LowStock,
    StockLevel,
    adjustment_delta,
    low_stock_transition,
    plan_release,
    thresholds,
)

HELD = [Held(sku="A-1", quantity=3, released=1), Held(sku="B-1", quantity=2)]


def test_a_whole_order_cancellation_releases_everything_still_held() -> None:
    assert plan_release(HELD) == (("A-1", 2), ("B-1", 2))


def test_cancelled_lines_release_their_sum_capped_at_what_is_held() -> None:
    lines = [("B-1", 1), ("A-1", 1), ("A-1", 5), ("ZZ-9", 1)]
    assert plan_release(HELD, lines) == (("A-1", 2), ("B-1", 1))


def test_nothing_held_releases_nothing() -> None:
    assert plan_release([Held(sku="A-1", quantity=2, released=2)]) == ()


@pytest.mark.parametrize(
    ("delta", "on_hand", "expected"),
    [(5, None, 5), (-2, None, -2), (None, 12, 2), (None, 4, -6)],
)
def test_an_adjustment_is_a_delta_or_a_count(delta, on_hand, expected) -> None:
    assert adjustment_delta(StockLevel(on_hand=10, reserved=4), delta=delta, on_hand=on_hand) == (
        expected
    )


@pytest.mark.parametrize(
    ("delta", "on_hand", "field", "conflict"),
    [(-7, None, "delta", True), (None, 3, "on_hand", True), (None, -1, "on_hand", False),
     (None, None, "delta", False), (1, 1, "delta", False), (0, None, "delta", False)],
)  # fmt: skip
def test_an_adjustment_never_eats_reserved_units(delta, on_hand, field, conflict) -> None:
    with pytest.raises(AdjustmentError) as error:
        adjustment_delta(StockLevel(on_hand=10, reserved=4), delta=delta, on_hand=on_hand)
    assert (error.value.field, error.value.conflict) == (field, conflict)


def test_low_stock_alerts_once_per_crossing() -> None:
    assert low_stock_transition(6, 5, alerted=False) is None
    assert low_stock_transition(5, 5, alerted=False) is LowStock.ALERT
    assert low_stock_transition(2, 5, alerted=True) is None
    assert low_stock_transition(6, 5, alerted=True) is LowStock.CLEAR


def test_a_products_own_threshold_wins_over_the_default() -> None:
    assert thresholds(["A", "B"], {"A": 0, "B": None}, 5) == {"A": 0, "B": 5}
