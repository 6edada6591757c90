"""Canonical order statuses and the transitions the fulfilment saga may make between them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from services.orders.domain.errors import InvalidTransition

__all__ = [
    "AFTER_PICKUP",
    "TERMINAL_STATUSES",
    "InvalidTransition",
    "OrderStatus",
    "can_transition",
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

# The whole saga on one screen. PENDING_STOCK is the reservation saga's pending state (it times
# out into CANCELLED). Cancellation is allowed until the parcel leaves; after that the way back is
# a return (RETURNING). A delivered order can still come back (Shopee's return after completion).
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
