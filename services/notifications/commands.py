"""What the notifications bus is asked to do. The consumers turn each event, in its envelope,
into the command it asks for (the `of` constructors); the jobs ask for a pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Self, TypeVar

from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import (
    LowStockDetected,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    PickupCancelled,
    PickupRescheduled,
    PickupScheduled,
    ShipmentEvent,
)

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Heard(Generic[E]):
    """An event received, with its envelope: its id, journey and time make the messages'."""

    envelope: Envelope
    event: E

    @classmethod
    def of(cls, envelope: Envelope, event: E) -> Self:
        return cls(envelope, event)


@dataclass(frozen=True)
class AnnouncePickup(Heard[PickupScheduled]):
    """Tell the producer of a new order to pick up (or hold it for a digest); book a reminder."""


@dataclass(frozen=True)
class AnnouncePickupChange(Heard[PickupRescheduled]):
    """Tell the producer the pickup window moved, and move its reminder."""


@dataclass(frozen=True)
class AnnouncePickupCancellation(Heard[PickupCancelled]):
    """Tell the producer a pickup it heard of is cancelled."""


@dataclass(frozen=True)
class AlertLowStock(Heard[LowStockDetected]):
    """Tell the producer a product runs low."""


@dataclass(frozen=True)
class RememberBuyer(Heard[OrderPlaced]):
    """Remember an order's buyer, and send the buyer messages that waited for it."""


@dataclass(frozen=True)
class TellBuyerConfirmed(Heard[OrderConfirmed]):
    """Tell the buyer the order is confirmed."""


@dataclass(frozen=True)
class TellBuyerCancelled(Heard[OrderCancelled]):
    """Tell the buyer the order (or some of its lines) is cancelled."""


@dataclass(frozen=True)
class TellBuyerShipment(Heard[ShipmentEvent]):
    """Tell the buyer the parcel was shipped, is out for delivery, or delivered."""


@dataclass(frozen=True)
class FlushDigest:
    """Turn one producer's held new-order alerts, whose window closed, into one SMS. Answers how
    many alerts it took (0: none due)."""


@dataclass(frozen=True)
class SendDueReminders:
    """Record the pickup reminders whose time came. Answers how many."""

    limit: int = 50
