"""The canonical order: one shape for orders from every channel. Its field names are a contract."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Final, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.orders.domain.money import MAX_MINOR_UNITS, currency_exponent, to_minor_units
from services.orders.domain.status import OrderStatus
from shared.ids import uuid5_str

__all__ = [
    "Address",
    "AdminCodes",
    "Buyer",
    "CanonicalOrder",
    "Cancellation",
    "FulfilmentUnit",
    "OrderFacts",
    "OrderLine",
    "Payment",
    "ReceivedLocality",
    "ShipmentFact",
    "map_skus",
    "order_id_for",
    "to_minor_units",
]

# Fixed forever: changing it would give every existing order a new order_id.
ORDER_ID_NAMESPACE: Final[uuid.UUID] = uuid.UUID("6f1c2a9e-3b7d-5c41-9a0e-0d7a5e3f8b21")


@functools.lru_cache(maxsize=4096)  # asked several times per delivery; uuid5 is not free
def order_id_for(channel: str, account: str, external_id: str) -> str:
    """Our order id: uuid5 of (channel, account, external id), so redeliveries map to one order."""
    # A JSON array as the name keeps the parts unambiguous whatever characters they contain.
    return uuid5_str(ORDER_ID_NAMESPACE, json.dumps([channel, account, external_id]))


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
# strict: an amount arriving as a float or a string is a bug upstream, not something to coerce.
MinorUnits = Annotated[int, Field(ge=0, le=MAX_MINOR_UNITS, strict=True)]
E164Phone = Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    # frozen: changes go through transition() and model_copy(), never in-place mutation.
    # extra="ignore": an older consumer keeps working when a newer producer adds a field.
    model_config = ConfigDict(frozen=True, extra="ignore")


class OrderLine(_Model):
    channel_line_id: str | None = None  # the platform's line id, needed to fulfil lines there
    sku: str | None = None  # our SKU; None until mapped through the catalog's channel listings
    channel_sku: str | None = None
    name: str
    quantity: int = Field(gt=0, strict=True)
    unit_price: MinorUnits
    discount: MinorUnits = 0  # for the whole line, not per unit
    cancelled_quantity: int = Field(default=0, ge=0, strict=True)  # units cancelled since

    @model_validator(mode="after")
    def _cancelled_within_ordered(self) -> Self:
        if self.cancelled_quantity > self.quantity:
            raise ValueError("cancelled_quantity cannot exceed quantity")
        return self

    @property
    def active_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity

    @property
    def key(self) -> str:
        """What identifies the line across updates of the order."""
        return self.channel_line_id or self.channel_sku or self.sku or self.name


class Payment(_Model):
    method: str  # "cod" for cash on delivery, otherwise the platform's gateway name
    cod: bool
    cod_amount: MinorUnits = 0  # cash the courier must collect
    paid: bool

    @model_validator(mode="after")
    def _cod_amount_only_for_cod(self) -> Self:
        if self.cod_amount and not self.cod:
            raise ValueError("cod_amount must be 0 when the payment is not cash on delivery")
        return self


class Buyer(_Model):
    name: str | None = None  # display name, in the order the buyer's culture writes it
    given_name: str | None = None
    family_name: str | None = None
    phone: E164Phone | None = None
    email: str | None = None


class AdminCodes(_Model):
    """The address's administrative units by code. Vietnam reused most ward codes in its 2025
    reorganisation for other wards, so a code means nothing without its scheme."""

    scheme: str  # "vn-nso-2025": the statistics office's codes in force since 1 July 2025
    province: str
    ward: str | None = None


class ReceivedLocality(_Model):
    """The locality fields as the platform sent them, before they were resolved against the
    administrative units in force (an old province, district and ward stay readable here)."""

    ward: str | None = None
    district: str | None = None
    province: str | None = None


class Address(_Model):
    recipient: str | None = None
    recipient_given_name: str | None = None
    recipient_family_name: str | None = None
    phone: E164Phone | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = (
        None  # the platform's locality line, verbatim (its meaning varies by country)
    )
    ward: str | None = None
    district: str | None = None  # None for new Vietnamese addresses: districts ended 1 July 2025
    province: str | None = None
    country: CountryCode
    postal_code: str | None = None
    admin_codes: AdminCodes | None = None  # set once the units are resolved (Vietnam)
    received: ReceivedLocality | None = None  # Vietnam: what came, when it was resolved


class UnitLine(_Model):
    sku: str
    name: str
    quantity: int


class FulfilmentUnit(_Model):
    """What one producer prepares for the order: one shipment, tracked on its own. The catalog's
    reservation gives `producer_id` and `lines`; the rest shows the unit's shipment fact."""

    producer_id: str
    lines: list[UnitLine]
    shipment_id: str | None = None
    status: str = "reserved"  # reserved, pickup_scheduled, then the shipment's status names
    updated_at: UtcDatetime | None = None  # the carrier's time of the last status applied


class ShipmentFact(_Model):
    """The latest shipment status heard of for one producer's unit. Kept even when it arrives
    before the reservation that creates the unit: logistics hears of the reservation first."""

    producer_id: str
    shipment_id: str
    status: str  # one of status.UNIT_STATUSES
    occurred_at: UtcDatetime  # the carrier's time (our own for a scheduled pickup)


class Cancellation(_Model):
    """The whole order was cancelled (a line cancellation lives in `OrderLine`)."""

    by: str  # channel, operator, timeout; unknown when read from an order's stored status
    reason: str


class OrderFacts(_Model):
    """What the lifecycle has learned about an order, whatever the order it learned it in; the
    status is computed from these alone (status.status_of)."""

    intake_hold: str | None = None  # why the order could not go to the catalog as it arrived
    catalog_hold: str | None = None  # the catalog did not know a SKU: the operator must map it
    reserved: bool = False  # the catalog reserved stock (the units are `fulfilment_units`)
    rejected: str | None = None  # the catalog could not reserve, and why
    cancellation: Cancellation | None = None
    shipments: list[ShipmentFact] = Field(default_factory=list)  # one per producer
    # The operator checked the stated total on the platform and let the order go on with it.
    amounts_accepted: bool = False


class CanonicalOrder(_Model):
    """An order from any channel. Amounts are integers in `currency`'s minor units.

    `total` is what the buyer pays and `subtotal` the lines after their own discounts; how the
    amounts add up is `money.computed_total`, checked at intake by `money.amount_problems`.
    `updated_at` is the platform's update time, used to discard stale updates.
    """

    order_id: str
    channel: NonEmpty
    account: NonEmpty
    external_id: NonEmpty  # a string: Shopify ids exceed 2^53 and break JSON number parsers
    channel_order_name: str | None = None  # what the seller sees, e.g. Shopify "#1001"
    status: OrderStatus
    channel_status: str | None = None
    placed_at: UtcDatetime
    updated_at: UtcDatetime
    currency: str
    lines: list[OrderLine] = Field(min_length=1)
    subtotal: MinorUnits
    shipping_fee: MinorUnits = 0
    discount_total: MinorUnits = 0  # off the whole order, not off any line
    fee_total: MinorUnits = 0  # charges besides shipping the buyer pays
    tax_total: MinorUnits = 0
    taxes_included: bool = True  # whether prices already include tax_total
    total: MinorUnits
    payment: Payment
    buyer: Buyer
    shipping_address: Address | None = None  # None for orders that ship nothing (e.g. pickup)
    hold_reason: str | None = None  # why the order is ON_HOLD, for the operator
    fulfilment_units: list[FulfilmentUnit] = Field(default_factory=list)  # one per producer
    # None on an order stored before it kept its facts: the lifecycle reads them from `status`.
    facts: OrderFacts | None = None

    @model_validator(mode="after")
    def _check_invariants(self) -> Self:
        currency_exponent(self.currency)  # raises UnknownCurrency
        expected = order_id_for(self.channel, self.account, self.external_id)
        if self.order_id != expected:
            raise ValueError(
                f"order_id {self.order_id} is not the id of {self.channel} order "
                f"{self.external_id} of {self.account} ({expected})"
            )
        if self.payment.cod_amount > self.total:
            raise ValueError("cod_amount cannot exceed the order total")
        return self

    @property
    def unmapped_lines(self) -> list[OrderLine]:
        """Lines still without our SKU: the order must wait for the operator while any remain."""
        return [line for line in self.lines if line.sku is None]


def map_skus(order: CanonicalOrder, listing: Mapping[str, str]) -> tuple[CanonicalOrder, list[str]]:
    """Fill each line's `sku` from `listing` (channel SKU -> our SKU) for the order's channel.

    Returns the new order and the channel SKUs that could not be mapped, without duplicates, so
    the caller can put the order on hold visibly instead of dropping it. A line already mapped
    keeps its SKU when the listing does not know it (an operator may have mapped it by hand).
    A line with no channel SKU at all is reported as "no-sku:<line name>".
    """
    lines: list[OrderLine] = []
    unmapped: list[str] = []
    for line in order.lines:
        ours = listing.get(line.channel_sku) if line.channel_sku is not None else None
        if ours is not None:
            line = line.model_copy(update={"sku": ours})
        elif line.sku is None:
            key = line.channel_sku if line.channel_sku is not None else f"no-sku:{line.name}"
            if key not in unmapped:
                unmapped.append(key)
        lines.append(line)
    return order.model_copy(update={"lines": lines}), unmapped
