"""Value objects that several events share: where a producer is, and whom to tell."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.identifiers import Identifier

ORDERS = "orders.order.v1"
RESERVATIONS = "catalog.reservation.v1"
STOCK = "catalog.stock.v1"
PICKUPS = "logistics.pickup.v1"
SHIPMENTS = "logistics.shipment.v1"
TRACKING = "logistics.tracking.v1"


class Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Location(Part):
    village: str
    ward: str | None = None
    district: str | None = None
    province: str
    country: str
    lat: float
    lon: float


class Contact(Part):
    name: str
    phone: str
    sms_language: str = "vi"
    sms_diacritics: bool = False


class ReservedLine(Part):
    sku: Identifier
    # The order's channel SKUs this SKU was reserved for, so that a cancellation naming a
    # channel SKU (all the platform knows) finds its units downstream.
    channel_skus: list[str] = Field(default_factory=list)
    name: str
    quantity: int = Field(gt=0)
    weight_g: int = Field(ge=0)  # per unit
    volume_ml: int | None = Field(default=None, ge=0)  # per unit
    perishable: bool = False


class Address(Part):
    """Where a parcel goes (the buyer's shipping address)."""

    recipient: str | None = None
    phone: str | None = None  # E.164
    line1: str | None = None
    line2: str | None = None
    ward: str | None = None
    district: str | None = None
    province: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    postal_code: str | None = None
