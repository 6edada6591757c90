"""The order's lifecycle. Pure: each function records one fact about the order (a channel view,
the catalog's answer, a shipment's move, an operator's action, the saga's timeout), then
`_settle` recomputes what follows from the facts: the status (`status_of`), the units' shipment
view, the effects to publish and the history to record. Handlers do the I/O.

Events arrive in any order and any number of times, so the facts decide, never their arrival:
- the status is a function of the facts alone; a duplicate records nothing new;
- an effect is published when the fact calling for it is first recorded: OrderPlaced when the
  order is placed or leaves its hold, OrderConfirmed or OrderRejected for the catalog's answer
  while the order waits for it, OrderCancelled for a new cancellation of a live order, and for
  a reservation arriving once the order no longer wants it (so that the catalog releases it);
- a channel update older than (or as old as) the one applied never wins: the platform's own
  `updated_at` orders them; cancelled quantities only grow and a cancellation is final;
- a unit's shipment events are ordered by the carrier's `occurred_at` (ties by
  status.UNIT_STATUSES); a scheduled pickup, timed by our clock rather than the carrier's, never
  overrides what the carrier reported; a unit's events wait for the reservation that creates it;
- a cancellation once a unit has left with the courier becomes a return (RETURNING);
- an order that cannot be fulfilled as it stands waits ON_HOLD with its reason, never dropped.

When facts compete: a cancellation beats a hold or a rejection (nothing was reserved for those,
so it publishes nothing), a hold beats the catalog's answer, a rejection beats a reservation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.orders.domain import addresses
from services.orders.domain.model import (
    Cancellation,
    CanonicalOrder,
    FulfilmentUnit,
    OrderFacts,
    OrderLine,
    ShipmentFact,
    UnitLine,
)
from services.orders.domain.money import amount_problems
from services.orders.domain.status import AFTER_PICKUP, OrderStatus, shipment_order, status_of

S = OrderStatus
# Statuses in which a cancellation has something to stop (stock held, a parcel planned or sent).
_CANCELLABLE = frozenset({S.PENDING_STOCK, S.CONFIRMED, S.PICKUP_SCHEDULED, *AFTER_PICKUP})
_RESERVED_STATUSES = frozenset(
    {S.CONFIRMED, S.PICKUP_SCHEDULED, S.SHIPPED, S.DELIVERED, S.RETURNING, S.RETURNED}
)


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
    problems += addresses.problems(order.shipping_address)
    if not (order.facts and order.facts.amounts_accepted):
        problems += amount_problems(order)
    return problems


# --- the facts, and what follows from them -------------------------------------------------


def facts_of(order: CanonicalOrder) -> OrderFacts:
    """The order's facts; an order stored before it kept them gets them from its status."""
    if order.facts is not None:
        return order.facts
    status, reason = order.status, order.hold_reason or order.status.value
    intake = bool(intake_problems(order))
    return OrderFacts(
        intake_hold=reason if status is S.ON_HOLD and intake else None,
        catalog_hold=reason if status is S.ON_HOLD and not intake else None,
        reserved=status in _RESERVED_STATUSES
        or (status is S.CANCELLED and bool(order.fulfilment_units)),
        rejected="rejected by the catalog" if status is S.REJECTED else None,
        cancellation=Cancellation(by="unknown", reason="read from the stored status")
        if status in (S.CANCELLED, S.RETURNING)
        else None,
        shipments=[
            ShipmentFact(
                producer_id=u.producer_id,
                shipment_id=u.shipment_id,
                status=u.status,
                occurred_at=u.updated_at or order.updated_at,
            )
            for u in order.fulfilment_units
            if u.shipment_id is not None and u.status != "reserved"
        ],
    )


def _unit_view(unit: FulfilmentUnit, fact: ShipmentFact | None) -> FulfilmentUnit:
    if fact is None:
        return unit.model_copy(
            update={"status": "reserved", "shipment_id": None, "updated_at": None}
        )
    return unit.model_copy(
        update={
            "status": fact.status,
            "shipment_id": fact.shipment_id,
            "updated_at": fact.occurred_at,
        }
    )


def _derive(order: CanonicalOrder, facts: OrderFacts) -> CanonicalOrder:
    """The order with `facts` and everything computed from them."""
    status = status_of(facts, order.fulfilment_units)
    holds = [h for h in (facts.intake_hold, facts.catalog_hold) if h]
    shipped = {f.producer_id: f for f in facts.shipments}
    return order.model_copy(
        update={
            "facts": facts,
            "status": status,
            "hold_reason": "; ".join(holds) if status is S.ON_HOLD else None,
            "fulfilment_units": [
                _unit_view(u, shipped.get(u.producer_id)) for u in _still_wanted(order)
            ],
        }
    )


def _still_wanted(order: CanonicalOrder) -> list[FulfilmentUnit]:
    """The units' lines less what was cancelled since the reservation. A unit line keeps the
    smaller of what was reserved and what the order's lines still want of its SKU: cancelled
    units only grow, so this is the same whatever order the facts came in. A SKU the order's
    lines do not name (a mapping not heard of) is left as reserved."""
    wanted: dict[str, int] = {}
    for line in order.lines:
        for name in {line.sku, line.channel_sku}:
            if name is not None:
                wanted[name] = wanted.get(name, 0) + line.active_quantity
    units = []
    for unit in order.fulfilment_units:
        lines = [
            ln.model_copy(update={"quantity": min(ln.quantity, wanted.get(ln.sku, ln.quantity))})
            for ln in unit.lines
        ]
        units.append(unit.model_copy(update={"lines": [ln for ln in lines if ln.quantity > 0]}))
    return units


def _effects(before: CanonicalOrder, after: CanonicalOrder, lines_reason: str) -> list[Effect]:
    """What the facts newly recorded in `after` call for, given where `before` stood."""
    was, now = before.status, after.status
    old, new = facts_of(before), facts_of(after)
    effects: list[Effect] = []
    if was is S.ON_HOLD and now is S.PENDING_STOCK:
        effects.append(Placed())
    if new.reserved and not old.reserved:
        if was is S.PENDING_STOCK:
            effects.append(Confirmed())
        else:  # the reservation came after we gave up on it: give it back
            effects.append(Cancelled(f"reservation arrived while {was}: released"))
    if new.rejected and not old.rejected and was is S.PENDING_STOCK:
        effects.append(Rejected(new.rejected))
    if new.cancellation is not None:
        if old.cancellation is None and was in _CANCELLABLE:
            returning = now in (S.RETURNING, S.RETURNED)
            effects.append(Cancelled(new.cancellation.reason, after_pickup=returning))
    elif was in _CANCELLABLE:
        deltas = _newly_cancelled(before.lines, after.lines)
        if deltas:
            effects.append(
                Cancelled(lines_reason, tuple(sorted(deltas.items())), now in AFTER_PICKUP)
            )
    return effects


def _settle(
    current: CanonicalOrder,
    order: CanonicalOrder,
    facts: OrderFacts,
    outcome: str,
    note: str | None,
    lines_reason: str = "",
) -> Result:
    """Recompute `order` from `facts`; unchanged when nothing new was learned. The history
    records each new fact (or cancelled line) with the status it led to; a view that only
    changes the order's content records none."""
    before = _derive(current, facts_of(current))
    after = _derive(order, facts)
    if after == before:
        return Result(current, "unchanged")
    learned = (
        after.facts != before.facts
        or after.status is not before.status
        or bool(_newly_cancelled(before.lines, after.lines))
    )
    history = [(after.status, note)] if learned else []
    return Result(after, outcome, _effects(before, after, lines_reason), history)


def _with_lines(facts: OrderFacts, lines: Sequence[OrderLine], cancel: Cancellation) -> OrderFacts:
    """Cancelling every remaining unit cancels the order."""
    if facts.cancellation is None and not any(line.active_quantity > 0 for line in lines):
        return facts.model_copy(update={"cancellation": cancel})
    return facts


# --- what happens to an order ------------------------------------------------------------


def new_order(incoming: CanonicalOrder) -> Result:
    """The first time we hear of an order."""
    problems = intake_problems(incoming)
    cancel = Cancellation(by="channel", reason="cancelled on the channel")
    facts = OrderFacts(
        intake_hold="; ".join(problems) or None,
        cancellation=cancel if incoming.status in (S.CANCELLED, S.RETURNING) else None,
    )
    facts = _with_lines(facts, incoming.lines, cancel)
    order = _derive(incoming.model_copy(update={"fulfilment_units": []}), facts)
    note = {S.CANCELLED: cancel.reason, S.ON_HOLD: order.hold_reason}.get(order.status)
    effects: list[Effect] = [Placed()] if order.status is S.PENDING_STOCK else []
    return Result(order, "created", effects, [(order.status, note)])


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
    facts = facts_of(current)
    merged = incoming.model_copy(
        update={
            "facts": facts,  # what the operator accepted still stands for intake_problems
            "fulfilment_units": current.fulfilment_units,
            "lines": _merge_lines(current.lines, incoming.lines),
        }
    )
    why = f"{incoming.channel} status {incoming.channel_status}"
    cancel = Cancellation(by="channel", reason=f"cancelled on the channel ({why})")
    if incoming.status in (S.CANCELLED, S.RETURNING) and facts.cancellation is None:
        facts = facts.model_copy(update={"cancellation": cancel})
    facts = _with_lines(facts, merged.lines, cancel)
    if facts.intake_hold:  # a live order is never put on hold by its channel
        facts = facts.model_copy(update={"intake_hold": "; ".join(intake_problems(merged)) or None})
    result = _settle(
        current, merged, facts, "updated", None, f"lines cancelled on the channel ({why})"
    )
    return _named(result, current, note_if_released="fixed on the channel")


def _named(result: Result, current: CanonicalOrder, note_if_released: str) -> Result:
    """The outcome and history note of a channel update or an operator's cancellation."""
    if not result.history:
        return result
    outcome, note = result.outcome, result.history[0][1]
    cancelled = facts_of(result.order).cancellation
    lines = [e for e in result.effects if isinstance(e, Cancelled) and e.lines]
    if cancelled is not None and facts_of(current).cancellation is None:
        outcome = "returning" if result.order.status is S.RETURNING else "cancelled"
        note = cancelled.reason
    elif lines:
        outcome, note = "lines_cancelled", lines[0].reason
    elif any(isinstance(e, Placed) for e in result.effects):
        outcome, note = "released", note_if_released
    return Result(result.order, outcome, result.effects, [(result.order.status, note)])


def _newly_cancelled(before: Iterable[OrderLine], after: Iterable[OrderLine]) -> dict[str, int]:
    was = {line.key: line.cancelled_quantity for line in before}
    deltas: dict[str, int] = {}
    for line in after:
        delta = line.cancelled_quantity - was.get(line.key, 0)
        if delta > 0:
            sku = line.sku or line.channel_sku or line.name
            deltas[sku] = deltas.get(sku, 0) + delta
    return deltas


def cancel(current: CanonicalOrder, reason: str, lines: Mapping[str, int] | None = None) -> Result:
    """The operator cancels the order, or `lines` (our SKU or the channel SKU -> units)."""
    facts = facts_of(current)
    whole = Cancellation(by="operator", reason=reason)
    new_lines = list(current.lines)
    if not lines:
        if facts.cancellation is None:
            facts = facts.model_copy(update={"cancellation": whole})
    else:
        new_lines = []
        for line in current.lines:
            wanted = lines.get(line.sku or "", 0) or lines.get(line.channel_sku or "", 0)
            take = min(wanted, line.active_quantity)
            if take > 0:
                line = line.model_copy(
                    update={"cancelled_quantity": line.cancelled_quantity + take}
                )
            new_lines.append(line)
        facts = _with_lines(facts, new_lines, whole)
    order = current.model_copy(update={"lines": new_lines})
    return _named(_settle(current, order, facts, "updated", reason, reason), current, reason)


def resolve(
    current: CanonicalOrder,
    sku_map: Mapping[str, str] | None = None,
    address: Mapping[str, str | None] | None = None,
    accept_amounts: bool = False,
) -> Result:
    """The operator fixes an ON_HOLD order: maps channel SKUs (or line names) to our SKUs,
    corrects the address, and/or accepts amounts that do not add up once checked on the
    platform (the stated total stands: it is what the buyer was charged); the order goes to the
    catalog when nothing else is missing."""
    if current.status is not S.ON_HOLD:
        return Result(current, "not_on_hold")
    known = facts_of(current)
    if accept_amounts and not known.amounts_accepted:
        known = known.model_copy(update={"amounts_accepted": True})
        current = current.model_copy(update={"facts": known})
    sku_map = sku_map or {}
    lines = [
        line.model_copy(
            update={"sku": sku_map.get(line.channel_sku or "") or sku_map.get(line.name)}
        )
        if (sku_map.get(line.channel_sku or "") or sku_map.get(line.name))
        else line
        for line in current.lines
    ]
    order = current.model_copy(update={"lines": lines})
    if address:
        order = order.model_copy(
            update={"shipping_address": addresses.corrected(current.shipping_address, address)}
        )
    # The catalog is asked again, so its earlier answer about unknown SKUs no longer stands.
    facts = facts_of(current).model_copy(
        update={"catalog_hold": None, "intake_hold": "; ".join(intake_problems(order)) or None}
    )
    after = _derive(order, facts)
    if after.status is S.ON_HOLD:
        return Result(after, "still_on_hold", [], [(S.ON_HOLD, after.hold_reason)])
    return _settle(current, order, facts, "released", "resolved by the operator")


def on_reserved(
    current: CanonicalOrder,
    units: Sequence[FulfilmentUnit],
    skus: Mapping[str, str] | None = None,
) -> Result:
    """The catalog reserved stock, grouped per producer: one fulfilment unit each. Shipment facts
    that came first (logistics hears of the reservation before we do) join their unit. `skus`
    (channel SKU -> our SKU, as the catalog mapped them) names each line by our SKU from now
    on, so that later cancellations name the units logistics and the catalog hold."""
    facts = facts_of(current)
    if facts.reserved:
        return Result(current, "unchanged")
    lines = [
        line.model_copy(update={"sku": skus[line.channel_sku]})
        if skus and line.sku is None and line.channel_sku is not None and line.channel_sku in skus
        else line
        for line in current.lines
    ]
    order = current.model_copy(
        update={"fulfilment_units": sorted(units, key=lambda u: u.producer_id), "lines": lines}
    )
    result = _settle(current, order, facts.model_copy(update={"reserved": True}), "confirmed", "")
    if any(isinstance(e, Cancelled) for e in result.effects):
        note = f"reservation arrived while {current.status}: released"
        return Result(result.order, "compensated", result.effects, [(result.order.status, note)])
    note = "units: " + ", ".join(u.producer_id for u in units)
    return Result(result.order, "confirmed", result.effects, [(result.order.status, note)])


def on_rejected(current: CanonicalOrder, reason: str, unknown_skus: Sequence[str]) -> Result:
    """The catalog could not reserve: an unknown SKU waits for the operator, else rejected."""
    facts = facts_of(current)
    if unknown_skus:
        why = f"unmapped_sku: {', '.join(unknown_skus)}"
        return _settle(
            current, current, facts.model_copy(update={"catalog_hold": why}), "on_hold", why
        )
    return _settle(
        current, current, facts.model_copy(update={"rejected": reason}), "rejected", reason
    )


def on_reservation_timeout(current: CanonicalOrder, waited: str) -> Result:
    """No answer from the catalog in time: give up and release whatever it may hold. Only an
    order still waiting times out; an answer recorded since keeps it."""
    if current.status is not S.PENDING_STOCK:
        return Result(current, "unchanged")
    reason = f"reservation_timeout: no answer from the catalog after {waited}"
    facts = facts_of(current).model_copy(
        update={"cancellation": Cancellation(by="timeout", reason=reason)}
    )
    return _settle(current, current, facts, "cancelled", reason)


def on_shipment(
    current: CanonicalOrder,
    producer_id: str,
    shipment_id: str,
    status: str,
    occurred_at: datetime,
    source: str,
) -> Result:
    """A fulfilment unit's shipment moved (PickupScheduled or a logistics.shipment.v1 event)."""
    facts = facts_of(current)
    fact = ShipmentFact(
        producer_id=producer_id, shipment_id=shipment_id, status=status, occurred_at=occurred_at
    )
    others = [f for f in facts.shipments if f.producer_id != producer_id]
    known = next((f for f in facts.shipments if f.producer_id == producer_id), None)
    if known is not None and shipment_order(fact) <= shipment_order(known):
        return Result(current, "unchanged" if fact == known else "stale")
    shipments = sorted([*others, fact], key=lambda f: f.producer_id)
    note = f"shipment {shipment_id} ({producer_id}): {status} via {source}"
    if not facts.reserved or all(u.producer_id != producer_id for u in current.fulfilment_units):
        note += ", kept until its unit is reserved"
    facts = facts.model_copy(update={"shipments": shipments})
    return _settle(current, current, facts, "shipment_" + status, note)


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
