"""Canonical order statuses, the transitions the fulfilment saga makes between them, the
shipment statuses of a fulfilment unit, and the one function that computes an order's status
from its facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from services.orders.domain.errors import InvalidTransition

if TYPE_CHECKING:  # model.py builds on OrderStatus
    from services.orders.domain.model import FulfilmentUnit, OrderFacts, ShipmentFact

__all__ = [
    "AFTER_PICKUP",
    "LEFT_PRODUCER",
    "TERMINAL_STATUSES",
    "UNIT_STATUSES",
    "InvalidTransition",
    "OrderStatus",
    "can_transition",
    "shipment_order",
    "status_of",
    "transition",
]


class OrderStatus(StrEnum):
    """Where an order is in our saga; the platform's own status is kept apart as channel_status."""

    ON_HOLD = "ON_HOLD"  # waits for the operator: unmapped SKU or unusable address (hold_reason)
    PENDING_STOCK = "PENDING_STOCK"  # placed, waiting for the catalog to reserve stock
    CONFIRMED = "CONFIRMED"  # stock reserved
    REJECTED = "REJECTED"  # the catalog could not reserve stock
    CANCELLED = "CANCELLED"  # cancelled by the buyer, the seller or the platform
    PICKUP_SCHEDULED = "PICKUP_SCHEDULED"  # a courier pickup is booked
    SHIPPED = "SHIPPED"  # the courier has the parcel
    DELIVERED = "DELIVERED"  # handed to the buyer (and COD collected)
    RETURNING = "RETURNING"  # cancelled after pickup (or returned after delivery): on its way back
    RETURNED = "RETURNED"  # back with the producer


_S = OrderStatus

# The whole saga on one screen, as it runs when events arrive in the order they happened.
# PENDING_STOCK is the reservation saga's pending state (it times out into CANCELLED).
# Cancellation is allowed until the parcel leaves; after that the way back is a return
# (RETURNING). A delivered order can still come back (Shopee's return after completion).
# The lifecycle derives an order's status from its facts, so a fact arriving late can move it
# outside this table (a pickup that happened before a cancellation turns CANCELLED into
# RETURNING); the handlers log such a move.
_ALLOWED: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = MappingProxyType(
    {
        _S.ON_HOLD: frozenset({_S.PENDING_STOCK, _S.CANCELLED}),
        _S.PENDING_STOCK: frozenset({_S.CONFIRMED, _S.REJECTED, _S.CANCELLED, _S.ON_HOLD}),
        _S.CONFIRMED: frozenset({_S.PICKUP_SCHEDULED, _S.SHIPPED, _S.CANCELLED}),
        _S.PICKUP_SCHEDULED: frozenset({_S.SHIPPED, _S.CANCELLED}),
        _S.SHIPPED: frozenset({_S.DELIVERED, _S.RETURNING, _S.RETURNED}),
        _S.DELIVERED: frozenset({_S.RETURNING}),
        _S.RETURNING: frozenset({_S.RETURNED}),
        _S.REJECTED: frozenset(),
        _S.CANCELLED: frozenset(),
        _S.RETURNED: frozenset(),
    }
)
# Statuses after the courier took the parcel: a cancellation then becomes a return.
AFTER_PICKUP: Final[frozenset[OrderStatus]] = frozenset({_S.SHIPPED, _S.DELIVERED})

TERMINAL_STATUSES: Final[frozenset[OrderStatus]] = frozenset(
    s for s, t in _ALLOWED.items() if not t
)


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether `transition(current, target)` would succeed (a same-status move always does)."""
    return current == target or target in _ALLOWED[current]


def transition(current: OrderStatus, target: OrderStatus) -> OrderStatus:
    """Return `target` if the saga may move from `current` to it, else raise `InvalidTransition`.

    Moving to the status the order already has is an idempotent no-op, because events arrive at
    least once and a redelivered "stock reserved" must not fail the handler.
    """
    if not can_transition(current, target):
        raise InvalidTransition(current, target)
    return target


# A fulfilment unit's shipment statuses along its journey (`FulfilmentUnit.status`). Two events
# of one unit carrying the same time are ordered by this list, so that a tie does not depend on
# which arrived first.
UNIT_STATUSES: Final[tuple[str, ...]] = (
    "reserved",
    "pickup_scheduled",
    "cancelled",
    "picked_up",
    "at_hub",
    "in_transit",
    "out_for_delivery",
    "delivery_failed",
    "delivered",
    "returned",
)
# The unit's parcel is with the courier or beyond: a cancellation now means a return.
LEFT_PRODUCER: Final[frozenset[str]] = frozenset(UNIT_STATUSES[UNIT_STATUSES.index("picked_up") :])


def shipment_order(fact: ShipmentFact) -> tuple[bool, datetime, int, str, str]:
    """Sorts one unit's shipment facts, the latest last: whatever the carrier reported comes
    after a scheduled pickup (timed by our clock, not the carrier's), then the carrier's time
    decides, then the journey's order, so that no tie depends on arrival."""
    rank = UNIT_STATUSES.index(fact.status) if fact.status in UNIT_STATUSES else 0
    return (
        fact.status != "pickup_scheduled",
        fact.occurred_at,
        rank,
        fact.status,
        fact.shipment_id,
    )


def status_of(facts: OrderFacts, units: Sequence[FulfilmentUnit]) -> OrderStatus:
    """The order's status from its facts alone (what happened, never in which order we heard of
    it). `units` are the reservation's; a shipment fact counts once its unit is reserved. A
    cancellation beats a hold or a rejection, which beat the reservation."""
    shipped = {f.producer_id: f.status for f in facts.shipments}
    journeys = [shipped.get(u.producer_id, "reserved") for u in units] if facts.reserved else []
    journeys = [j for j in journeys if j != "cancelled"]
    left = [j for j in journeys if j in LEFT_PRODUCER]
    back = bool(journeys) and all(j == "returned" for j in journeys)
    if facts.cancellation is not None:
        if not left:
            return _S.CANCELLED
        # Logistics turns every shipment of an order cancelled after pickup into a return.
        return _S.RETURNED if back else _S.RETURNING
    if facts.intake_hold or facts.catalog_hold:
        return _S.ON_HOLD
    if facts.rejected:
        return _S.REJECTED
    if not facts.reserved:
        return _S.PENDING_STOCK
    if back:
        return _S.RETURNED
    if journeys and all(j in ("delivered", "returned") for j in journeys):
        return _S.DELIVERED
    if left:
        return _S.SHIPPED
    return _S.PICKUP_SCHEDULED if "pickup_scheduled" in journeys else _S.CONFIRMED
