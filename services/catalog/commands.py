"""What the catalog's bus is asked to do. Entrypoints turn their input into one of these: the
consumers an event in its envelope (the `of` constructors), the jobs a pass, the CSV import a
checked batch, the admin API a validated body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from services.catalog.domain import Producer, Product
from services.catalog.domain.intake import Listing
from shared.contracts.envelope import Envelope
from shared.contracts.events import OrderCancelled, OrderPlaced
from shared.contracts.logistics import ShipmentPickedUp

if TYPE_CHECKING:
    from services.catalog.imports import Batch, Progress


class Refusal(Exception):
    """A command refused as it stands, with the field to blame. `duplicate` and `not_found`
    name a clash with what is stored; the others, input that cannot be taken."""

    def __init__(
        self,
        reason: Literal["duplicate", "not_found", "unknown_producer", "unknown_sku", "invalid"],
        field: str,
        message: str,
    ) -> None:
        super().__init__(message)
        self.reason, self.field = reason, field


@dataclass(frozen=True)
class ReserveStock:
    """Reserve every line of a placed order, or none."""

    order: OrderPlaced

    @classmethod
    def of(cls, _: Envelope, event: OrderPlaced) -> ReserveStock:
        return cls(event)


@dataclass(frozen=True)
class ReleaseStock:
    """Give an order's held units back: all of them (no `lines`), or the cancelled lines', each
    named by our SKU or the channel's. `cancelled_at` and `after_pickup` say how it stands
    against the parcel's pickup."""

    order_id: str
    lines: tuple[tuple[str, int], ...] = ()
    cancelled_at: datetime | None = None
    after_pickup: bool = False

    @classmethod
    def of(cls, envelope: Envelope, event: OrderCancelled) -> ReleaseStock:
        return cls(
            order_id=event.order_id,
            lines=tuple((line.sku, line.quantity) for line in event.lines),
            cancelled_at=envelope.occurred_at,
            after_pickup=event.after_pickup,
        )


@dataclass(frozen=True)
class ConfirmPickup:
    """The producer's parcel of the order left with the courier at `picked_up_at`."""

    order_id: str
    producer_id: str
    shipment_id: str
    picked_up_at: datetime | None = None

    @classmethod
    def of(cls, _: Envelope, event: ShipmentPickedUp) -> ConfirmPickup:
        return cls(event.order_id, event.producer_id, event.shipment_id, event.occurred_at)


@dataclass(frozen=True)
class FindOverdueReservations:
    """Answers the orders holding a reservation made longer than `older_than` ago."""

    older_than: timedelta
    limit: int = 100


@dataclass(frozen=True)
class ExpireReservation:
    """Release what the order still holds: it was not picked up in time."""

    order_id: str


@dataclass(frozen=True)
class SaveProducer:
    """Create a producer (`create`: refused when it exists), or replace it."""

    producer: Producer
    create: bool = False


@dataclass(frozen=True)
class SaveProduct:
    """Create a product (`create`: refused when it exists) or replace it; its producer must
    exist. `stock` is booked only for a new SKU: stored stock moves by adjustments."""

    product: Product
    stock: int = 0
    create: bool = False


@dataclass(frozen=True)
class SaveListing:
    """Map a channel account's SKU to one of ours; refused when it maps to another already.
    Answers whether the listing is new."""

    listing: Listing


@dataclass(frozen=True)
class RemoveListing:
    channel: str
    account: str
    channel_sku: str


@dataclass(frozen=True)
class AdjustStock:
    """Book a stock adjustment: a `delta`, or a counted `on_hand` (exactly one). Answers the
    SKU's level after it, None for an unknown SKU; refused (AdjustmentError) when it would leave
    less on hand than is reserved for orders."""

    sku: str
    delta: int | None = None
    on_hand: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class PublishStockChanges:
    """Announce up to `limit` SKUs whose stock moved (their latest figure), and low stock at or
    below each product's threshold, else `low_stock_threshold`. Answers the events raised."""

    limit: int
    low_stock_threshold: int


@dataclass(frozen=True)
class ImportCatalog:
    """Write a batch of rows read from CSV files, once checked against the stored catalog:
    nothing when a row is refused, unless `partial`. Answers what was written and every row
    error."""

    batch: Batch
    files: dict[str, str]  # the file name of each kind (producers, products, listings)
    partial: bool = False
    update: bool = False
    progress: Progress | None = None
