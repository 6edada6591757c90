"""What happens to stock after an order reserved it: release, confirm, adjust, and low stock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .stock import StockLevel


class Held(BaseModel):
    """One order line's reservation (one per SKU of the order) and how much of it is released."""

    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int = Field(gt=0)
    released: int = Field(default=0, ge=0)

    @property
    def remaining(self) -> int:
        return self.quantity - self.released


def plan_release(
    held: Sequence[Held], cancelled: Sequence[tuple[str, int]] | None = None
) -> tuple[tuple[str, int], ...]:
    """The (sku, quantity) to release, sorted by SKU.

    No `cancelled` lines means the whole order: everything still held. Otherwise each SKU's
    cancelled quantity, summed over its lines, capped at what is still held, so a cancellation
    never releases more than its order reserved. SKUs the order does not hold are ignored.
    """
    if not cancelled:
        return tuple(sorted((h.sku, h.remaining) for h in held if h.remaining > 0))
    wanted: dict[str, int] = defaultdict(int)
    for sku, quantity in cancelled:
        if quantity > 0:
            wanted[sku] += quantity
    plan = [
        (h.sku, min(h.remaining, wanted[h.sku]))
        for h in held
        if h.sku in wanted and h.remaining > 0
    ]
    return tuple(sorted(plan))


def plan_pickup(
    parcel: Sequence[tuple[Held, bool]], released_after_pickup: Mapping[str, int]
) -> tuple[tuple[str, int, int], ...]:
    """What a parcel's pickup takes off the shelf, per line: (sku, units, of which still held).

    `parcel` is each of the producer's lines with whether it is still held. Units leave for what
    the order still holds, and for units a cancellation released that happened after the pickup:
    they were in the parcel (their reservation is gone already). Lines that move nothing are left
    out, sorted by SKU."""
    plan = []
    for line, still_held in parcel:
        held = line.remaining if still_held else 0
        late = min(released_after_pickup.get(line.sku, 0), line.released)
        if held + late > 0:
            plan.append((line.sku, held + late, held))
    return tuple(sorted(plan))


class AdjustmentError(ValueError):
    """A stock adjustment that would break the ledger's invariants; `field` names the culprit."""

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict  # valid on its own, but not with the stock as it is now


def adjustment_delta(level: StockLevel, *, delta: int | None, on_hand: int | None) -> int:
    """The on-hand delta of an adjustment given either as a `delta` or as a counted `on_hand`.

    Refuses a change that would leave less on hand than is reserved for orders: those units
    are promised, so the operator must cancel orders first.
    """
    if (delta is None) == (on_hand is None):
        raise AdjustmentError("delta", "give exactly one of delta or on_hand")
    if on_hand is not None and on_hand < 0:
        raise AdjustmentError("on_hand", f"on_hand must be >= 0, got {on_hand}")
    change = delta if delta is not None else (on_hand or 0) - level.on_hand
    if change == 0:
        raise AdjustmentError("delta", "the adjustment changes nothing")
    if level.on_hand + change < level.reserved:
        field = "delta" if delta is not None else "on_hand"
        raise AdjustmentError(
            field,
            f"on hand would be {level.on_hand + change}, below the {level.reserved} "
            "reserved for orders",
            conflict=True,
        )
    return change


class LowStock(StrEnum):
    ALERT = "ALERT"  # crossed to at or below the threshold: tell the producer once
    CLEAR = "CLEAR"  # back above it: the next crossing alerts again


def low_stock_transition(available: int, threshold: int, alerted: bool) -> LowStock | None:
    if available <= threshold and not alerted:
        return LowStock.ALERT
    if available > threshold and alerted:
        return LowStock.CLEAR
    return None


def thresholds(skus: Sequence[str], own: Mapping[str, int | None], default: int) -> dict[str, int]:
    """Each SKU's low-stock threshold: its product's own, else the catalog's default."""
    result: dict[str, int] = {}
    for sku in skus:
        value = own.get(sku)
        result[sku] = default if value is None else value
    return result
