"""What the logistics bus is asked to do. Entrypoints turn their input into one of these: the
consumers an event in its envelope (the `of` constructors), the cut-off job a pass, the partner
endpoint a parsed carrier update, the operators' API a read or a hub."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.logistics.domain.config import HubConfig
from services.logistics.domain.messages import ParcelQueued, ParcelWithdrawn, WaveCutoffReached
from services.logistics.domain.tracking import TrackingUpdate
from shared.contracts.envelope import Envelope, Event
from shared.contracts.events import OrderCancelled, StockReserved
from shared.contracts.logistics import CarrierStatusReported

if TYPE_CHECKING:
    from services.logistics.planner import Snapshot
    from services.logistics.solving import Planned


@dataclass(frozen=True)
class ReserveParcels:
    """One shipment per producer of the reserved order, queued for its hub's wave as of
    `occurred_at` (the event's time: a redelivery lands in the same wave), or on hold."""

    event: StockReserved
    occurred_at: datetime

    @classmethod
    def of(cls, envelope: Envelope, event: StockReserved) -> ReserveParcels:
        return cls(event, envelope.occurred_at)


@dataclass(frozen=True)
class CancelOrder:
    """The order's shipments leave their waves (or turn into returns); the cancellation is kept
    for shipments not created yet. `event_id` keeps it once."""

    event: OrderCancelled
    event_id: uuid.UUID
    occurred_at: datetime

    @classmethod
    def of(cls, envelope: Envelope, event: OrderCancelled) -> CancelOrder:
        return cls(event, envelope.event_id, envelope.occurred_at)


@dataclass(frozen=True)
class ReportCarrierStatus:
    """A carrier's status update read from logistics.tracking.v1: one about a shipment not
    known yet waits for it."""

    event: CarrierStatusReported

    @classmethod
    def of(cls, _: Envelope, event: CarrierStatusReported) -> ReportCarrierStatus:
        return cls(event)


@dataclass(frozen=True)
class ApplyPartnerUpdate:
    """A partner's status update posted to us; its shipment must be known (else
    UnknownShipment). Answers the outcome ('applied', 'duplicate', 'stale')."""

    update: TrackingUpdate


@dataclass(frozen=True)
class FanOut:
    """One of our own events, queued for each partner that takes webhooks instead of Kafka."""

    envelope: Envelope
    event: Event

    @classmethod
    def of(cls, envelope: Envelope, event: Event) -> FanOut:
        return cls(envelope, event)


@dataclass(frozen=True)
class DeliverWebhooks:
    """Post up to `limit` partner webhooks that are due, each through `send` (it answers the
    error, None when the partner took it); one out of attempts goes to `dead_letter` (the row,
    the error, the attempts) before it is marked dead. Answers how many were tried."""

    send: Callable[[Mapping[str, Any]], Awaitable[str | None]]
    dead_letter: Callable[[Mapping[str, Any], str, int], Awaitable[None]]
    limit: int = 20


@dataclass(frozen=True)
class PromisePickup:
    """The instant promise: the parcel into its wave's plan, or the next wave with room."""

    message: ParcelQueued

    @classmethod
    def of(cls, _: Envelope, message: ParcelQueued) -> PromisePickup:
        return cls(message)


@dataclass(frozen=True)
class WithdrawParcel:
    """A cancelled shipment leaves its wave's plan."""

    message: ParcelWithdrawn

    @classmethod
    def of(cls, _: Envelope, message: ParcelWithdrawn) -> WithdrawParcel:
        return cls(message)


@dataclass(frozen=True)
class SnapshotWave:
    """Answers the wave to solve at its cut-off as it stands (`planner.Snapshot`), or None when
    there is nothing to plan. Its own short unit of work: the solve runs after it commits."""

    hub_id: str
    wave_id: str


@dataclass(frozen=True)
class ApplyWavePlan:
    """The solved plan of `snapshot`, written with its events only if the wave still holds what
    was solved. Answers whether it was applied (False: solve again)."""

    snapshot: Snapshot
    solved: Planned
    elapsed: float


@dataclass(frozen=True)
class QueueCutoffAgain:
    """The wave's cut-off again, behind the hub's messages queued meanwhile."""

    message: WaveCutoffReached


@dataclass(frozen=True)
class QueueCutoffs:
    """Queue each wave whose cut-off passed for planning, once; mark the waves whose window began
    as dispatched. Answers how many were queued."""


@dataclass(frozen=True)
class GetPlan:
    plan_id: str


@dataclass(frozen=True)
class DayPlans:
    hub_id: str
    day: str


@dataclass(frozen=True)
class GetShipment:
    shipment_id: str


@dataclass(frozen=True)
class ListHubs:
    pass


@dataclass(frozen=True)
class PutHubs:
    """Create or replace hubs (all in one unit of work)."""

    configs: tuple[HubConfig, ...]
