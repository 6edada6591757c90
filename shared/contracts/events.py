"""Integration events: the public contract between services (and partners, for logistics).

Within a version only optional fields may be added; tests/contracts compares every schema with
the copy checked in under shared/contracts/schemas/.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.envelope import Event

ORDERS = "orders.order.v1"
RESERVATIONS = "catalog.reservation.v1"
PICKUPS = "logistics.pickup.v1"


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OrderLine(_Part):
    sku: str | None = None  # ours, when the channel sent it; the catalog maps channel_sku
    channel_sku: str | None = None
    name: str
    quantity: int = Field(gt=0)
    unit_price: int


class OrderPlaced(Event):
    event_type: ClassVar[str] = "OrderPlaced"
    topic: ClassVar[str] = ORDERS

    order_id: str
    channel: str
    account: str
    external_id: str
    order_ref: str  # what the seller and the producer see, e.g. Shopify "#1001"
    currency: str
    total: int
    cod_amount: int = 0
    lines: list[OrderLine]
    province: str | None = None
    placed_at: datetime

    def key(self) -> str:
        return self.order_id


class OrderConfirmed(Event):
    event_type: ClassVar[str] = "OrderConfirmed"
    topic: ClassVar[str] = ORDERS

    order_id: str

    def key(self) -> str:
        return self.order_id


class OrderRejected(Event):
    event_type: ClassVar[str] = "OrderRejected"
    topic: ClassVar[str] = ORDERS

    order_id: str
    reason: str

    def key(self) -> str:
        return self.order_id


class Location(_Part):
    village: str
    ward: str | None = None
    district: str | None = None
    province: str
    country: str
    lat: float
    lon: float


class Contact(_Part):
    name: str
    phone: str
    sms_language: str = "vi"
    sms_diacritics: bool = False


class ReservedLine(_Part):
    sku: str
    name: str
    quantity: int = Field(gt=0)
    weight_g: int = Field(ge=0)


class ProducerAllocation(_Part):
    """The part of an order one producer prepares."""

    producer_id: str
    contact: Contact
    location: Location
    lines: list[ReservedLine]


class StockReserved(Event):
    event_type: ClassVar[str] = "StockReserved"
    topic: ClassVar[str] = RESERVATIONS

    order_id: str
    order_ref: str
    allocations: list[ProducerAllocation]

    def key(self) -> str:
        return self.order_id


class RejectedLine(_Part):
    sku: str
    reason: Literal["unknown_sku", "insufficient_stock", "invalid_quantity"]
    requested: int
    available: int = 0


class StockRejected(Event):
    event_type: ClassVar[str] = "StockRejected"
    topic: ClassVar[str] = RESERVATIONS

    order_id: str
    reason: str
    lines: list[RejectedLine] = Field(default_factory=list)

    def key(self) -> str:
        return self.order_id


class PickupScheduled(Event):
    """One producer's parcels for one order joined a pickup wave (partners consume this)."""

    event_type: ClassVar[str] = "PickupScheduled"
    topic: ClassVar[str] = PICKUPS

    shipment_id: str
    order_id: str
    order_ref: str
    producer_id: str
    hub_id: str
    wave_id: str
    window_start: datetime
    window_end: datetime
    pickup_contact: Contact
    location: Location
    lines: list[ReservedLine]
    weight_g: int
    parcels: int = 1

    def key(self) -> str:
        return self.shipment_id


EVENTS: tuple[type[Event], ...] = (
    OrderPlaced,
    OrderConfirmed,
    OrderRejected,
    StockReserved,
    StockRejected,
    PickupScheduled,
)
