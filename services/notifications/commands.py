"""What the notifications bus is asked to do. The consumers turn each event, in its envelope,
into the command it asks for (the `of` constructors); the jobs ask for a pass; the providers'
callbacks (HTTP) report a delivery or a recipient's keyword; the dispatcher claims messages and
records each step of a send, every step in its own short transaction around the provider's
call."""

from __future__ import annotations

import uuid
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


@dataclass(frozen=True)
class RecordDeliveryReport:
    """A provider's delivery report of one message, named by our id (`message_id`) or, without
    it, by the provider's (`provider_message_id` at `provider`). With our id, the provider's
    settles a send interrupted before its id was recorded. A report of one `part` counts
    towards its message's status. Answers the message's status, or None: no such message."""

    provider: str
    reported: str  # the status reported (domain/reports.py)
    detail: str
    message_id: uuid.UUID | None = None
    provider_message_id: str | None = None
    part: int | None = None


@dataclass(frozen=True)
class ChangeOptOut:
    """A recipient's keyword: STOP / HUY opt out, START opts back in."""

    phone: str
    opted_out: bool


@dataclass(frozen=True)
class ClaimDue:
    """Claim up to `limit` messages due to be sent: SENDING under a lease of `lease_s`, committed
    before the provider is called. Answers the claimed rows."""

    limit: int
    lease_s: float


@dataclass(frozen=True)
class ClaimInterrupted:
    """Claim up to `limit` SENDING messages whose lease ran out (their sender died), to
    reconcile. Answers the claimed rows."""

    limit: int
    lease_s: float


@dataclass(frozen=True)
class SwitchProvider:
    """A message falls back to the chain's provider at `index`."""

    message_id: uuid.UUID
    index: int
    provider: str
    detail: str


@dataclass(frozen=True)
class RetryLater:
    """Back to the queue, for another round through the chain after `delay_s`."""

    message_id: uuid.UUID
    delay_s: float
    detail: str


@dataclass(frozen=True)
class RecordSendOutcome:
    """A send's outcome: ACCEPTED (with the provider's id), UNKNOWN or FAILED (with a reason)."""

    message_id: uuid.UUID
    status: str
    detail: str | None
    provider_message_id: str | None = None
    reason: str | None = None
