"""Events the orders service publishes on `orders.order.v1`, keyed by order id."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from shared.contracts.envelope import Event
from shared.contracts.identifiers import Identifier
from shared.contracts.parts import ORDERS, Address, Part
from shared.contracts.platforms import Platform


class OrderLine(Part):
    # What the channel sent, looked up exactly in the catalog: one that cannot be an identifier
    # is an unknown SKU there (the order is rejected with that reason), not an unreadable event.
    sku: str | None = None  # ours, when the channel sent it; the catalog maps channel_sku
    channel_sku: str | None = None
    name: str
    quantity: int = Field(gt=0)
    unit_price: int


class Buyer(Part):
    """Who to tell about the order's progress (notifications keeps it from OrderPlaced)."""

    name: str | None = None
    phone: str | None = None  # E.164
    email: str | None = None
    language: str | None = None


class OrderPlaced(Event):
    event_type: ClassVar[str] = "OrderPlaced"
    topic: ClassVar[str] = ORDERS

    order_id: str
    channel: Platform
    account: Identifier
    external_id: str
    order_ref: str  # what the seller and the producer see, e.g. Shopify "#1001"
    currency: str
    total: int
    cod_amount: int = 0
    lines: list[OrderLine]
    province: str | None = None
    placed_at: datetime
    buyer: Buyer | None = None
    shipping_address: Address | None = None

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


class CancelledLine(Part):
    sku: str  # our SKU, else the channel SKU, else the line's name
    quantity: int = Field(gt=0)


class OrderCancelled(Event):
    """The whole order (no `lines`) or some of its lines were cancelled.

    Catalog releases the reservations; logistics removes the stops (or turns a picked-up
    shipment into a return when `after_pickup`); notifications tells the buyer.
    """

    event_type: ClassVar[str] = "OrderCancelled"
    topic: ClassVar[str] = ORDERS

    order_id: str
    reason: str
    lines: list[CancelledLine] = Field(default_factory=list)
    after_pickup: bool = False

    def key(self) -> str:
        return self.order_id
