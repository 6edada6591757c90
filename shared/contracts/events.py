"""Integration events: the public contract between services (and partners, for logistics).

Each domain's events live in its own module (orders, catalog, logistics); this module is the
registry. Within a version only optional fields may be added; tests/shared/unit/test_schemas.py
compares every schema with the copy checked in under shared/contracts/schemas/.
"""

from __future__ import annotations

from shared.contracts.catalog import (
    ChannelListingRef,
    LowStockDetected,
    ProducerAllocation,
    RejectedLine,
    StockLevelChanged,
    StockRejected,
    StockReserved,
)
from shared.contracts.envelope import Event
from shared.contracts.logistics import (
    SHIPMENT_EVENTS,
    CarrierStatusReported,
    PickupCancelled,
    PickupPlanned,
    PickupRescheduled,
    PickupScheduled,
    ShipmentEvent,
)
from shared.contracts.orders import (
    Buyer,
    CancelledLine,
    OrderCancelled,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderRejected,
)
from shared.contracts.parts import (
    ORDERS,
    PICKUPS,
    RESERVATIONS,
    SHIPMENTS,
    STOCK,
    TRACKING,
    Address,
    Contact,
    Location,
    ReservedLine,
)

EVENTS: tuple[type[Event], ...] = (
    OrderPlaced,
    OrderConfirmed,
    OrderRejected,
    OrderCancelled,
    StockReserved,
    StockRejected,
    StockLevelChanged,
    LowStockDetected,
    PickupPlanned,
    PickupScheduled,
    PickupRescheduled,
    PickupCancelled,
    *SHIPMENT_EVENTS,
    CarrierStatusReported,
)

__all__ = [
    "EVENTS",
    "Address",
    "ORDERS",
    "PICKUPS",
    "RESERVATIONS",
    "SHIPMENTS",
    "STOCK",
    "TRACKING",
    "Buyer",
    "CancelledLine",
    "ChannelListingRef",
    "Contact",
    "Location",
    "LowStockDetected",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderLine",
    "OrderPlaced",
    "OrderRejected",
    "PickupCancelled",
    "PickupPlanned",
    "PickupRescheduled",
    "PickupScheduled",
    "ProducerAllocation",
    "RejectedLine",
    "ReservedLine",
    "ShipmentEvent",
    "StockLevelChanged",
    "StockRejected",
    "StockReserved",
]
