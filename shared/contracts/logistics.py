"""The logistics partner contract: pickups on `logistics.pickup.v1` and the shipment status
stream on `logistics.shipment.v1`. Pickup plans are keyed by hub, everything else by shipment.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Event
from shared.contracts.identifiers import Identifier
from shared.contracts.parts import (
    PICKUPS,
    SHIPMENTS,
    TRACKING,
    Contact,
    Location,
    Part,
    ReservedLine,
)


class PickupScheduled(Event):
    """One producer's parcels for one order joined a pickup wave (partners consume this)."""

    event_type: ClassVar[str] = "PickupScheduled"
    topic: ClassVar[str] = PICKUPS

    shipment_id: str
    order_id: str
    order_ref: str
    producer_id: Identifier
    hub_id: str
    wave_id: str
    window_start: datetime
    window_end: datetime
    pickup_contact: Contact
    location: Location
    lines: list[ReservedLine]
    weight_g: int
    parcels: int = 1
    cod_amount: int | None = None
    currency: str | None = None

    def key(self) -> str:
        return self.shipment_id


class PlannedStop(Part):
    sequence: int
    producer_id: Identifier
    shipment_ids: list[str]
    lat: float
    lon: float
    eta: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None


class PlannedRoute(Part):
    route_id: str
    vehicle_type: str
    stops: list[PlannedStop]
    km: float
    cost: float
    load_kg: float
    load_l: float


class PickupPlanned(Event):
    """A hub's wave plan: the routes, their stop order and an ETA per stop."""

    event_type: ClassVar[str] = "PickupPlanned"
    topic: ClassVar[str] = PICKUPS

    plan_id: str
    hub_id: str
    wave_id: str
    routes: list[PlannedRoute]
    deferred_shipment_ids: list[str] = Field(default_factory=list)

    def key(self) -> str:
        return self.hub_id


class PickupRescheduled(Event):
    event_type: ClassVar[str] = "PickupRescheduled"
    topic: ClassVar[str] = PICKUPS

    shipment_id: str
    order_id: str
    order_ref: str
    producer_id: Identifier
    pickup_contact: Contact
    window_start: datetime
    window_end: datetime
    reason: str

    def key(self) -> str:
        return self.shipment_id


class PickupCancelled(Event):
    event_type: ClassVar[str] = "PickupCancelled"
    topic: ClassVar[str] = PICKUPS

    shipment_id: str
    order_id: str
    order_ref: str
    producer_id: Identifier
    pickup_contact: Contact
    reason: str

    def key(self) -> str:
        return self.shipment_id


ShipmentStatus = Literal[
    "picked_up",
    "at_hub",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "delivery_failed",
    "returned",
    "cancelled",
]


class ShipmentEvent(Event):
    """What every shipment status event carries. `status` is the partner-facing name."""

    topic: ClassVar[str] = SHIPMENTS
    status: ClassVar[str]

    shipment_id: str
    order_id: str
    producer_id: Identifier
    occurred_at: datetime  # when it happened at the carrier, not when we heard of it
    cod_amount: int | None = None
    currency: str | None = None
    carrier: str | None = None
    carrier_status: str | None = None  # the carrier's raw code, kept for audits
    tracking_number: str | None = None
    tracking_url: str | None = None
    reason: str | None = None

    def key(self) -> str:
        return self.shipment_id


class ShipmentPickedUp(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentPickedUp"
    status: ClassVar[str] = "picked_up"


class ShipmentArrivedAtHub(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentArrivedAtHub"
    status: ClassVar[str] = "at_hub"


class ShipmentDepartedHub(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentDepartedHub"
    status: ClassVar[str] = "in_transit"


class ShipmentDispatchedForDelivery(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentDispatchedForDelivery"
    status: ClassVar[str] = "out_for_delivery"


class ShipmentDelivered(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentDelivered"
    status: ClassVar[str] = "delivered"


class ShipmentDeliveryFailed(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentDeliveryFailed"
    status: ClassVar[str] = "delivery_failed"


class ShipmentReturned(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentReturned"
    status: ClassVar[str] = "returned"


class ShipmentCancelled(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentCancelled"
    status: ClassVar[str] = "cancelled"


SHIPMENT_EVENTS: tuple[type[ShipmentEvent], ...] = (
    ShipmentPickedUp,
    ShipmentArrivedAtHub,
    ShipmentDepartedHub,
    ShipmentDispatchedForDelivery,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentReturned,
    ShipmentCancelled,
)


class CarrierStatusReported(Event):
    """A carrier's status update for one of our shipments, with the carrier's raw code. Partners
    with Kafka publish it on `logistics.tracking.v1`; the others post their own webhook bodies to
    `POST /partners/{partner}/events`. Logistics deduplicates on (carrier, tracking number or
    shipment, code, time) and never lets an older update overwrite a newer status."""

    event_type: ClassVar[str] = "CarrierStatusReported"
    topic: ClassVar[str] = TRACKING

    carrier: str  # ghn, ghtk, viettelpost, or a partner reporting in our own status names
    code: str  # the carrier's raw status code
    occurred_at: datetime
    shipment_id: str | None = None
    tracking_number: str | None = None
    reason: str | None = None

    def key(self) -> str:
        return self.shipment_id or self.tracking_number or self.carrier
