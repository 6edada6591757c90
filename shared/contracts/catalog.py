"""Events the catalog publishes: reservation outcomes (keyed by order id) and stock levels
(keyed by SKU, on `catalog.stock.v1`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Event
from shared.contracts.identifiers import Identifier
from shared.contracts.parts import (
    RESERVATIONS,
    STOCK,
    Address,
    Contact,
    Location,
    Part,
    ReservedLine,
)
from shared.contracts.platforms import Platform


class ProducerAllocation(Part):
    """The part of an order one producer prepares."""

    producer_id: Identifier
    contact: Contact
    location: Location
    lines: list[ReservedLine]


class StockReserved(Event):
    event_type: ClassVar[str] = "StockReserved"
    topic: ClassVar[str] = RESERVATIONS

    order_id: str
    order_ref: str
    allocations: list[ProducerAllocation]
    # Carried through from OrderPlaced so logistics can label and collect without asking orders.
    cod_amount: int = 0
    currency: str | None = None
    shipping_address: Address | None = None

    def key(self) -> str:
        return self.order_id


class RejectedLine(Part):
    sku: str  # as the order named it: empty when the line named no SKU
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


class ChannelListingRef(Part):
    channel: Platform
    account: Identifier
    channel_sku: Identifier


class StockLevelChanged(Event):
    """The latest stock figure of one SKU, coalesced under bursts; orders pushes `available`
    to every listing."""

    event_type: ClassVar[str] = "StockLevelChanged"
    topic: ClassVar[str] = STOCK

    sku: Identifier
    producer_id: Identifier
    on_hand: int
    reserved: int
    available: int
    version: int  # the ledger position: a consumer ignores a level older than one it applied
    listings: list[ChannelListingRef] = Field(default_factory=list)

    def key(self) -> str:
        return self.sku


class LowStockDetected(Event):
    event_type: ClassVar[str] = "LowStockDetected"
    topic: ClassVar[str] = STOCK

    sku: Identifier
    product_name: str
    producer_id: Identifier
    contact: Contact
    available: int
    threshold: int

    def key(self) -> str:
        return self.sku
