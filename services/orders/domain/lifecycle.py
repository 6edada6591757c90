"""The order's lifecycle: what a channel update, a reservation outcome, a shipment event or an
operator's action does to an order. Pure: each function takes the current order and returns the
new one, the effects to publish and the history to record; handlers do the I/O.

Rules:
- a channel update older than (or as old as) the one applied never wins: the platform's own
  `updated_at` orders them, not their arrival;
- a cancellation is never undone by a later update (cancelled quantities only grow);
- cancelling after pickup turns into a return (RETURNING, `after_pickup`);
- an order that cannot be fulfilled as it stands waits ON_HOLD with its reason, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.orders.domain import addresses
from services.orders.domain.model import (
    CanonicalOrder,
    FulfilmentUnit,
    OrderLine,
    UnitLine,
)
from services.orders.domain.money import amount_problems
from services.orders.domain.status import (
    AFTER_PICKUP,
    TERMINAL_STATUSES,
    OrderStatus,
    can_transition,
)

S = OrderStatus
_BEFORE_PICKUP = frozenset({S.PENDING_STOCK, S.CONFIRMED, S.PICKUP_SCHEDULED})


@dataclass(frozen=True)
class Placed:
    """Ask the catalog to reserve stock (OrderPlaced)."""


@dataclass(frozen=True)
class Confirmed:
    pass


@dataclass(frozen=True)
class Rejected:
    reason: str


@dataclass(frozen=True)
class Cancelled:
    """Release stock and stops: the whole order when `lines` is empty, else those units."""

    reason: str
    lines: tuple[tuple[str, int], ...] = ()
    after_pickup: bool = False


Effect = Placed | Confirmed | Rejected | Cancelled


@dataclass(frozen=True)
class Result:
    order: CanonicalOrder
    outcome: str  # created, updated, stale, unchanged, ...
    effects: list[Effect] = field(default_factory=list)
    history: list[tuple[OrderStatus, str | None]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.outcome not in ("stale", "unchanged")


def intake_problems(order: CanonicalOrder) -> list[str]:
    """Why the order cannot go to the catalog as it stands (empty when it can)."""
    problems = [
        f"unmapped_sku: {line.name or '?'} has no SKU"
        for line in order.lines
        if line.sku is None and line.channel_sku is None
    ]
    return problems + addresses.problems(order.shipping_address) + amount_problems(order)


def _with(order: CanonicalOrder, **update: object) -> CanonicalOrder:
    return order.model_copy(update=update)


def new_order(incoming: CanonicalOrder) -> Result:
    """The first time we hear of an order."""
    if incoming.status in (S.CANCELLED, S.RETURNING) or not _active_lines(incoming):
        order = _with(incoming, status=S.CANCELLED)
        return Result(order, "created", [], [(S.CANCELLED, "cancelled on the channel")])
    problems = intake_problems(incoming)
    if problems:
        reason = "; ".join(problems)
        order = _with(incoming, status=S.ON_HOLD, hold_reason=reason)
        return Result(order, "created", [], [(S.ON_HOLD, reason)])
    order = _with(incoming, status=S.PENDING_STOCK, hold_reason=None)
    return Result(order, "created", [Placed()], [(S.PENDING_STOCK, None)])


def _active_lines(order: CanonicalOrder) -> list[OrderLine]:
    return [line for line in order.lines if line.active_quantity > 0]


def _merge_lines(current: Sequence[OrderLine], incoming: Sequence[OrderLine]) -> list[OrderLine]:
    known = {line.key: line for line in current}
    merged = []
    for line in incoming:
        before = known.get(line.key)
        if before is not None:
            line = line.model_copy(
                update={
                    "sku": line.sku or before.sku,
                    "cancelled_quantity": min(
                        line.quantity, max(line.cancelled_quantity, before.cancelled_quantity)
                    ),
                }
            )
        merged.append(line)
    return merged


def apply_channel_update(current: CanonicalOrder, incoming: CanonicalOrder) -> Result:
    """A later view of the order from its platform (a webhook, a fetched detail)."""
    if incoming.updated_at < current.updated_at:
        return Result(current, "stale")
    if incoming.updated_at == current.updated_at and incoming.channel_status == (
        current.channel_status
    ):
        return Result(current, "unchanged")
    merged = _with(
        incoming,
        status=current.status,
        hold_reason=current.hold_reason,
        fulfilment_units=current.fulfilment_units,
        lines=_merge_lines(current.lines, incoming.lines),
    )
    if current.status in TERMINAL_STATUSES:
        return Result(merged, "updated")
    why = f"{incoming.channel} status {incoming.channel_status}"
    if incoming.status in (S.CANCELLED, S.RETURNING) or not _active_lines(merged):
        return _cancel_whole(merged, current.status, f"cancelled on the channel ({why})")
    deltas = _newly_cancelled(current.lines, merged.lines)
    if deltas:
        return _cancel_lines(merged, deltas, f"lines cancelled on the channel ({why})")
    if current.status is S.ON_HOLD and (current.hold_reason or "").startswith("address"):
        if not intake_problems(merged):
            return _release(merged, "address fixed on the channel")
    return Result(merged, "updated")


def _newly_cancelled(before: Iterable[OrderLine], after: Iterable[OrderLine]) -> dict[str, int]:
    was = {line.key: line.cancelled_quantity for line in before}
    deltas: dict[str, int] = {}
    for line in after:
        delta = line.cancelled_quantity - was.get(line.key, 0)
        if delta > 0:
            sku = line.sku or line.channel_sku or line.name
            deltas[sku] = deltas.get(sku, 0) + delta
    return deltas


def _cancel_whole(order: CanonicalOrder, status: OrderStatus, reason: str) -> Result:
    if status is S.ON_HOLD:  # nothing was reserved
        return Result(_with(order, status=S.CANCELLED), "cancelled", [], [(S.CANCELLED, reason)])
    if status in _BEFORE_PICKUP:
        return Result(
            _with(order, status=S.CANCELLED),
            "cancelled",
            [Cancelled(reason)],
            [(S.CANCELLED, reason)],
        )
    if status in AFTER_PICKUP:
        return Result(
            _with(order, status=S.RETURNING),
            "returning",
            [Cancelled(reason, after_pickup=True)],
            [(S.RETURNING, reason)],
        )
    return Result(order, "updated")


def _cancel_lines(order: CanonicalOrder, deltas: Mapping[str, int], reason: str) -> Result:
    if order.status is S.ON_HOLD:
        return Result(order, "updated", [], [(order.status, reason)])
    effect = Cancelled(
        reason, tuple(sorted(deltas.items())), after_pickup=order.status in AFTER_PICKUP
    )
    return Result(order, "lines_cancelled", [effect], [(order.status, reason)])


def cancel(current: CanonicalOrder, reason: str, lines: Mapping[str, int] | None = None) -> Result:
    """The operator cancels the order, or `lines` (our SKU or the channel SKU -> units)."""
    if current.status in TERMINAL_STATUSES or current.status is S.RETURNING:
        return Result(current, "unchanged")
    if not lines:
        return _cancel_whole(current, current.status, reason)
    new_lines: list[OrderLine] = []
    deltas: dict[str, int] = {}
    for line in current.lines:
        wanted = lines.get(line.sku or "", 0) or lines.get(line.channel_sku or "", 0)
        take = min(wanted, line.active_quantity)
        if take > 0:
            line = line.model_copy(update={"cancelled_quantity": line.cancelled_quantity + take})
            sku = line.sku or line.channel_sku or line.name
            deltas[sku] = deltas.get(sku, 0) + take
        new_lines.append(line)
    updated = _with(current, lines=new_lines)
    if not deltas:
        return Result(current, "unchanged")
    if not _active_lines(updated):
        return _cancel_whole(updated, current.status, reason)
    return _cancel_lines(updated, deltas, reason)


def _release(order: CanonicalOrder, reason: str) -> Result:
    released = _with(order, status=S.PENDING_STOCK, hold_reason=None)
    return Result(released, "released", [Placed()], [(S.PENDING_STOCK, reason)])


def resolve(
    current: CanonicalOrder,
    sku_map: Mapping[str, str] | None = None,
    address: Mapping[str, str | None] | None = None,
) -> Result:
    """The operator fixes an ON_HOLD order: maps channel SKUs (or line names) to our SKUs and/or
    corrects the address; the order goes to the catalog when nothing else is missing."""
    if current.status is not S.ON_HOLD:
        return Result(current, "not_on_hold")
    sku_map = sku_map or {}
    lines = [
        line.model_copy(
            update={"sku": sku_map.get(line.channel_sku or "") or sku_map.get(line.name)}
        )
        if (sku_map.get(line.channel_sku or "") or sku_map.get(line.name))
        else line
        for line in current.lines
    ]
    order = _with(current, lines=lines)
    if address:
        order = _with(
            order, shipping_address=addresses.corrected(current.shipping_address, address)
        )
    problems = [
        p
        for p in intake_problems(order)
        if not (p.startswith("unmapped_sku") and all(ln.sku for ln in order.lines))
    ]
    if problems:
        reason = "; ".join(problems)
        return Result(_with(order, hold_reason=reason), "still_on_hold", [], [(S.ON_HOLD, reason)])
    return _release(order, "resolved by the operator")


def on_reserved(current: CanonicalOrder, units: Sequence[FulfilmentUnit]) -> Result:
    """The catalog reserved stock, grouped per producer: one fulfilment unit each."""
    if current.status is S.PENDING_STOCK:
        order = _with(current, status=S.CONFIRMED, fulfilment_units=list(units))
        producers = ", ".join(u.producer_id for u in units)
        return Result(order, "confirmed", [Confirmed()], [(S.CONFIRMED, f"units: {producers}")])
    if current.status in (S.CANCELLED, S.ON_HOLD, S.REJECTED):
        # Compensation: the reservation came after we gave up on it (timeout, cancellation).
        reason = f"reservation arrived while {current.status}: released"
        return Result(current, "compensated", [Cancelled(reason)], [(current.status, reason)])
    return Result(current, "unchanged")


def on_rejected(current: CanonicalOrder, reason: str, unknown_skus: Sequence[str]) -> Result:
    """The catalog could not reserve: an unknown SKU waits for the operator, else rejected."""
    if current.status is not S.PENDING_STOCK:
        return Result(current, "unchanged")
    if unknown_skus:
        why = f"unmapped_sku: {', '.join(unknown_skus)}"
        return Result(
            _with(current, status=S.ON_HOLD, hold_reason=why), "on_hold", [], [(S.ON_HOLD, why)]
        )
    return Result(
        _with(current, status=S.REJECTED), "rejected", [Rejected(reason)], [(S.REJECTED, reason)]
    )


def on_reservation_timeout(current: CanonicalOrder, waited: str) -> Result:
    """No answer from the catalog in time: give up and release whatever it may hold."""
    if current.status is not S.PENDING_STOCK:
        return Result(current, "unchanged")
    reason = f"reservation_timeout: no answer from the catalog after {waited}"
    return Result(
        _with(current, status=S.CANCELLED),
        "cancelled",
        [Cancelled(reason)],
        [(S.CANCELLED, reason)],
    )


def _unit_for(order: CanonicalOrder, producer_id: str) -> FulfilmentUnit:
    for unit in order.fulfilment_units:
        if unit.producer_id == producer_id:
            return unit
    return FulfilmentUnit(producer_id=producer_id, lines=[])


def _replace_unit(order: CanonicalOrder, unit: FulfilmentUnit) -> list[FulfilmentUnit]:
    others = [u for u in order.fulfilment_units if u.producer_id != unit.producer_id]
    return sorted([*others, unit], key=lambda u: u.producer_id)


# Shipment status -> the order status it leads to once every unit has reached it.
_SHIPMENT_TARGETS: Mapping[str, tuple[OrderStatus, ...]] = {
    "pickup_scheduled": (S.PICKUP_SCHEDULED,),
    "picked_up": (S.SHIPPED,),
    "delivered": (S.DELIVERED,),
    "returned": (S.RETURNING, S.RETURNED),
}
_ALL_UNITS = frozenset({"delivered", "returned"})  # the order follows once all units got there


def on_shipment(
    current: CanonicalOrder,
    producer_id: str,
    shipment_id: str,
    status: str,
    occurred_at: datetime,
    source: str,
) -> Result:
    """A fulfilment unit's shipment moved (PickupScheduled or a logistics.shipment.v1 event)."""
    unit = _unit_for(current, producer_id)
    if unit.updated_at is not None and occurred_at < unit.updated_at:
        return Result(current, "stale")
    if unit.status == status and unit.shipment_id == shipment_id:
        return Result(current, "unchanged")
    unit = unit.model_copy(
        update={"status": status, "shipment_id": shipment_id, "updated_at": occurred_at}
    )
    order = _with(current, fulfilment_units=_replace_unit(current, unit))
    note = f"shipment {shipment_id} ({producer_id}): {status} via {source}"
    targets = _SHIPMENT_TARGETS.get(status, ())
    live = [u for u in order.fulfilment_units if u.status != "cancelled"]
    if status in _ALL_UNITS and any(u.status != status for u in live):
        targets = ()
    history: list[tuple[OrderStatus, str | None]] = []
    moved = order
    for target in targets:
        if moved.status != target and can_transition(moved.status, target):
            moved = _with(moved, status=target)
            history.append((target, note))
    if not history:
        history.append((moved.status, note))
    return Result(moved, "shipment_" + status, [], history)


def units_from_allocations(
    allocations: Iterable[tuple[str, Iterable[tuple[str, str, int]]]],
) -> list[FulfilmentUnit]:
    return [
        FulfilmentUnit(
            producer_id=producer,
            lines=[UnitLine(sku=s, name=n, quantity=q) for s, n, q in lines],
        )
        for producer, lines in allocations
    ]
