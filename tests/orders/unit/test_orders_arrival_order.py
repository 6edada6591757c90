"""An order's outcome does not depend on the order its events arrive in.

The generator simulates one order's world step by step, so that every history it builds could
have happened; the in-order history is what the world did. The test then feeds the lifecycle a
hypothesis permutation of the same events, with some of them twice, and asserts the same final
status and unit statuses, and that the effects a consumer acts on are published once.

Rules the generator assumes (a history breaking one could not happen):
- the order exists before anything is about it: its first channel view is applied first;
- channel views are cumulative and ordered by the platform's `updated_at`: cancelled units only
  grow, a cancellation stays, an address once given stays, and at least one unit is left
  uncancelled by line cancellations (cancelling them all is a whole cancellation);
- the catalog answers only once the order was sent to it (at once, or when a view released its
  hold), and only one answer: reserved (1-3 producers), rejected, or unknown SKU (a hold);
- the reservation timeout fires only while the order waits for that answer, so at least one copy
  of it arrives before the answer does (ours is the only clock that decides it);
- a unit's shipment events happen after the reservation (at logistics: they may reach us before
  it), in the order pickup scheduled, picked up, delivered, returned (or returned without
  delivery); once the order is cancelled, a unit not yet picked up is only ever cancelled, never
  picked up; one already picked up can still be delivered and returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders.domain import lifecycle
from services.orders.domain.lifecycle import Cancelled, Confirmed, Placed, Rejected, Result
from services.orders.domain.model import CanonicalOrder, order_id_for
from services.orders.domain.status import OrderStatus as S

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
SKUS = ("HONEY", "TEA", "FISH-SAUCE")
QUANTITY = 2


def view(at: int, cancelled: tuple[int, ...], whole: bool, address: bool) -> CanonicalOrder:
    """The platform's view of the order at minute `at`."""
    lines = [
        {
            "sku": sku,
            "channel_sku": sku,
            "name": sku.title(),
            "quantity": QUANTITY,
            "unit_price": 100000,
            "cancelled_quantity": gone,
        }
        for sku, gone in zip(SKUS, cancelled, strict=True)
    ]
    subtotal = 100000 * QUANTITY * len(SKUS)
    return CanonicalOrder(
        order_id=order_id_for("shopify", "shop", "1001"),
        channel="shopify",
        account="shop",
        external_id="1001",
        status=S.CANCELLED if whole else S.PENDING_STOCK,
        channel_status=f"{'cancelled' if whole else 'open'} {sum(cancelled)}",
        placed_at=T0,
        updated_at=T0 + timedelta(minutes=at),
        currency="VND",
        lines=lines,
        subtotal=subtotal,
        total=subtotal,
        payment={"method": "cod", "cod": True, "cod_amount": subtotal, "paid": False},
        buyer={"name": "Bà Lan", "phone": "+84912345678"},
        shipping_address={
            "recipient": "Bà Lan",
            "line1": "Số 1 Tràng Tiền",
            "ward": "Phường Hoàn Kiếm",
            "province": "Hà Nội",
            "country": "VN",
        }
        if address
        else None,
    )


@dataclass(frozen=True)
class Event:
    id: int  # its place in the in-order history; a duplicate has the same
    kind: str  # view, cancel, reserved, rejected, unknown_sku, timeout, shipment
    order: CanonicalOrder | None = None
    producers: int = 0
    producer: str = ""
    status: str = ""
    at: int = 0
    requires: frozenset[int] = frozenset()

    def apply(self, current: CanonicalOrder | None) -> Result:
        if current is None:
            assert self.kind == "view" and self.order is not None
            return lifecycle.new_order(self.order)
        match self.kind:
            case "view":
                assert self.order is not None
                return lifecycle.apply_channel_update(current, self.order)
            case "cancel":
                return lifecycle.cancel(current, "the buyer called")
            case "reserved":
                producers = [f"P{i}" for i in range(1, self.producers + 1)]
                allocations = [(p, [(SKUS[i], SKUS[i], QUANTITY)]) for i, p in enumerate(producers)]
                return lifecycle.on_reserved(current, lifecycle.units_from_allocations(allocations))
            case "rejected":
                return lifecycle.on_rejected(current, "insufficient_stock: HONEY", [])
            case "unknown_sku":
                return lifecycle.on_rejected(current, "unknown_sku: TEA", ["TEA"])
            case "timeout":
                return lifecycle.on_reservation_timeout(current, "900s")
            case _:
                at = T0 + timedelta(minutes=self.at)
                shipment = f"S-{self.producer}"
                return lifecycle.on_shipment(
                    current, self.producer, shipment, self.status, at, "test"
                )


@dataclass
class World:
    """What really happened so far, which decides what may happen next."""

    events: list[Event] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=lambda: [0] * len(SKUS))
    whole_cancelled: bool = False  # by the channel, the operator or the timeout
    address: bool = True
    sent_to_catalog: bool = False
    answer: str | None = None
    units: dict[str, list[str]] = field(default_factory=dict)
    release: int | None = None  # the view that sent a held order to the catalog
    timeout: int | None = None

    def add(self, kind: str, **fields) -> Event:
        event = Event(id=len(self.events), kind=kind, at=len(self.events), **fields)
        self.events.append(event)
        return event

    def add_view(self) -> None:
        self.add("view", order=self.current_view())

    def current_view(self) -> CanonicalOrder:
        at = len(self.events)
        return view(at, tuple(self.cancelled), self.whole_cancelled, self.address)

    def waiting_for_catalog(self) -> bool:
        return self.sent_to_catalog and self.answer is None and not self.whole_cancelled

    def next_unit_statuses(self, producer: str) -> list[str]:
        path = self.units[producer]
        last = path[-1] if path else None
        picked = "picked_up" in path
        if last in ("returned", "cancelled"):
            return []
        if not picked and self.whole_cancelled:
            return ["cancelled"] + ([] if path else ["pickup_scheduled"])
        return {
            None: ["pickup_scheduled"],
            "pickup_scheduled": ["picked_up"],
            "picked_up": ["delivered", "returned"],
            "delivered": ["returned"],
        }[last]


@dataclass(frozen=True)
class Plan:
    """What this history may contain besides shipments: each part is optional."""

    cancel_by: str | None  # the channel (a view) or the operator cancels the whole order
    answer: str  # reserved, rejected or unknown_sku
    timeout: bool
    unit_cancellations: bool  # views cancelling single units


def _steps(world: World, plan: Plan) -> list[tuple[str, str]]:
    steps = [("view", "plain")]
    active = [QUANTITY - c for c in world.cancelled]
    if plan.unit_cancellations and sum(active) > 1:
        steps.append(("view", "cancel_a_unit"))
    if plan.cancel_by and not world.whole_cancelled:
        steps.append(("view", "cancel_all") if plan.cancel_by == "channel" else ("cancel", ""))
    if not world.address:
        steps.append(("view", "give_address"))
    if world.sent_to_catalog and world.answer is None:
        # After a cancellation too: the catalog may answer before it hears of it.
        steps.append(("answer", plan.answer))
        if plan.timeout and world.waiting_for_catalog():
            steps.append(("timeout", ""))
    for producer in world.units:
        steps += [("shipment", f"{producer}:{s}") for s in world.next_unit_statuses(producer)]
    return steps


@st.composite
def histories(draw) -> list[Event]:
    plan = Plan(
        cancel_by=draw(st.sampled_from([None, None, "channel", "operator"])),
        answer=draw(st.sampled_from(["reserved", "reserved", "rejected", "unknown_sku"])),
        timeout=draw(st.sampled_from([False, False, True])),
        unit_cancellations=draw(st.booleans()),
    )
    world = World(address=draw(st.sampled_from([True, True, False])))
    world.add_view()
    world.sent_to_catalog = world.address
    for _ in range(draw(st.integers(0, 20))):
        kind, detail = draw(st.sampled_from(_steps(world, plan)))
        if kind == "view":
            if detail == "cancel_a_unit":
                lines = [i for i, c in enumerate(world.cancelled) if c < QUANTITY]
                world.cancelled[draw(st.sampled_from(lines))] += 1
            elif detail == "cancel_all":
                world.whole_cancelled = True
            elif detail == "give_address":
                world.address = True
            if world.address and not world.sent_to_catalog and not world.whole_cancelled:
                world.sent_to_catalog, world.release = True, len(world.events)
            world.add_view()
        elif kind == "cancel":
            world.whole_cancelled = True
            world.add("cancel")
        elif kind == "timeout":
            world.whole_cancelled, world.timeout = True, len(world.events)
            world.add("timeout", requires=_ids(world.release))
        elif kind == "answer":
            world.answer = detail
            producers = draw(st.integers(1, 3)) if detail == "reserved" else 0
            world.units = {f"P{i}": [] for i in range(1, producers + 1)}
            world.add(detail, producers=producers, requires=_ids(world.release, world.timeout))
        else:
            producer, status = detail.split(":")
            world.units[producer].append(status)
            world.add("shipment", producer=producer, status=status)
    return world.events


def _ids(*ids: int | None) -> frozenset[int]:
    return frozenset(i for i in ids if i is not None)


def in_causal_order(arrivals: list[Event]) -> list[Event]:
    """`arrivals`, except that an event waits for what it requires (the placement first)."""
    pending, seen, out = list(arrivals), set(), []
    while pending:
        ready = next(e for e in pending if e.id == 0 or (0 in seen and e.requires <= seen))
        pending.remove(ready)
        seen.add(ready.id)
        out.append(ready)
    return out


def run(events: list[Event]) -> tuple[CanonicalOrder, list[list]]:
    order, effects = None, []
    for event in events:
        result = event.apply(order)
        order = result.order
        effects.append(result.effects)
    assert order is not None
    return order, effects


def final_state(order: CanonicalOrder) -> tuple[S, dict[str, str]]:
    return order.status, {u.producer_id: u.status for u in order.fulfilment_units}


@st.composite
def arrivals(draw) -> tuple[list[Event], list[Event]]:
    history = draw(histories())
    again = draw(st.lists(st.sampled_from(history), max_size=4))
    shuffled = draw(st.permutations(history + again))
    return history, in_causal_order(shuffled)


@settings(max_examples=400, deadline=None)
@given(arrivals())
def test_any_arrival_order_with_duplicates_ends_in_the_in_order_state(case):
    history, arrived = case
    expected, _ = run(history)
    order, effects = run(arrived)
    assert final_state(order) == final_state(expected)
    published = [e for step in effects for e in step]
    assert sum(isinstance(e, Confirmed) for e in published) <= 1
    assert sum(isinstance(e, Rejected) for e in published) <= 1
    assert sum(isinstance(e, Placed) for e in published) <= 1
    if order.status in (S.CONFIRMED, S.PICKUP_SCHEDULED, S.SHIPPED, S.DELIVERED):
        assert sum(isinstance(e, Confirmed) for e in published) == 1
    reserved_at = next(
        (i for i, step in enumerate(effects) if any(_answers_a_reservation(e) for e in step)),
        None,
    )
    cancelled = any(_cancels_the_order(e) for e in history)
    if reserved_at is not None and cancelled and order.status in (S.CANCELLED, S.RETURNING):
        # What the catalog holds is released and what the courier has comes back: a whole-order
        # OrderCancelled follows the reservation (nothing is left to stop once all returned).
        later = [e for step in effects[reserved_at:] for e in step]
        assert any(isinstance(e, Cancelled) and not e.lines for e in later), effects


def _cancels_the_order(event: Event) -> bool:
    whole_view = event.order is not None and event.order.status is S.CANCELLED
    return event.kind in ("cancel", "timeout") or whole_view


def _answers_a_reservation(effect) -> bool:
    return isinstance(effect, Confirmed) or (
        isinstance(effect, Cancelled) and effect.reason.startswith("reservation arrived")
    )
