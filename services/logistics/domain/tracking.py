"""Carriers' status codes (GHN, GHTK, Viettel Post) mapped onto a small internal set and onto the
shipment events partners consume. The raw code always travels along. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.contracts.logistics import (
    ShipmentArrivedAtHub,
    ShipmentCancelled,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentDepartedHub,
    ShipmentDispatchedForDelivery,
    ShipmentEvent,
    ShipmentPickedUp,
    ShipmentReturned,
)

VN = timezone(timedelta(hours=7))

INTERNAL = (
    "PickupScheduled", "PickupAssigned", "PickupFailed", "PickupDelayed", "PickedUp",
    "AtHub", "InTransit", "OutForDelivery", "Delivered", "DeliveryFailed",
    "Returning", "Returned", "Cancelled", "Lost", "Damaged",
)  # fmt: skip

GHN = {
    "ready_to_pick": "PickupScheduled", "picking": "PickupAssigned",
    "money_collect_picking": "PickupAssigned", "picked": "PickedUp", "storing": "AtHub",
    "transporting": "InTransit", "sorting": "AtHub", "delivering": "OutForDelivery",
    "money_collect_delivering": "OutForDelivery", "delivered": "Delivered",
    "delivery_fail": "DeliveryFailed", "waiting_to_return": "Returning", "return": "Returning",
    "return_transporting": "Returning", "return_sorting": "Returning", "returning": "Returning",
    "return_fail": "Returning", "returned": "Returned", "cancel": "Cancelled",
    "exception": "DeliveryFailed", "damage": "Damaged", "lost": "Lost",
}  # fmt: skip
GHTK = {
    "-1": "Cancelled", "1": "PickupScheduled", "2": "PickupScheduled", "12": "PickupAssigned",
    "8": "PickupDelayed", "7": "PickupFailed", "3": "PickedUp", "4": "OutForDelivery",
    "10": "DeliveryFailed", "9": "DeliveryFailed", "5": "Delivered", "6": "Delivered",
    "20": "Returning", "21": "Returned",
}  # fmt: skip
VIETTEL_POST = {
    **{str(c): "PickupAssigned" for c in range(101, 105)},
    "100": "PickupScheduled", "105": "PickedUp", "200": "AtHub",
    **{str(c): "InTransit" for c in range(300, 304)},
    **{str(c): "AtHub" for c in range(400, 404)},
    "500": "OutForDelivery", "501": "Delivered", "502": "Returning", "504": "Returned",
}  # fmt: skip
CODES = {"ghn": GHN, "ghtk": GHTK, "viettelpost": VIETTEL_POST}

EVENT_FOR: dict[str, type[ShipmentEvent]] = {
    "PickedUp": ShipmentPickedUp,
    "AtHub": ShipmentArrivedAtHub,
    "InTransit": ShipmentDepartedHub,
    "OutForDelivery": ShipmentDispatchedForDelivery,
    "Delivered": ShipmentDelivered,
    "DeliveryFailed": ShipmentDeliveryFailed,
    "Lost": ShipmentDeliveryFailed,
    "Damaged": ShipmentDeliveryFailed,
    "Returned": ShipmentReturned,
    "Cancelled": ShipmentCancelled,
}


class UnreadableUpdate(ValueError):
    """The body is not a status update of this carrier, or its code is unknown."""


@dataclass(frozen=True)
class TrackingUpdate:
    carrier: str
    code: str  # raw
    status: str  # internal
    occurred_at: datetime
    shipment_id: str | None
    tracking_number: str | None
    reason: str | None = None

    @property
    def reference(self) -> str:
        """What deduplication keys on besides carrier, code and time."""
        return self.tracking_number or self.shipment_id or ""


def internal_status(carrier: str, code: str) -> str:
    table = CODES.get(carrier)
    if table is None:  # a partner reporting in our own names
        if code in INTERNAL:
            return code
        raise UnreadableUpdate(f"unknown status {code!r}")
    if code not in table:
        raise UnreadableUpdate(f"unknown {carrier} status {code!r}")
    return table[code]


def _when(value: Any, fmt: str | None = None) -> datetime:
    if value is None:
        raise UnreadableUpdate("the update has no time")
    try:
        if fmt:
            at = datetime.strptime(str(value), fmt)
        elif isinstance(value, int | float):
            at = datetime.fromtimestamp(value, VN)
        else:
            at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError) as exc:
        raise UnreadableUpdate(f"unreadable time {value!r}") from exc
    return at if at.tzinfo else at.replace(tzinfo=VN)  # carriers' local time


# code, time, our reference (the shipment id we gave them), their tracking number, reason
FIELDS = {
    "ghn": ("Status", "Time", "ClientOrderCode", "OrderCode", "Reason"),
    "ghtk": ("status_id", "action_time", "partner_id", "label_id", "reason"),
    "viettelpost": ("ORDER_STATUS", "ORDER_STATUSDATE", "ORDER_REFERENCE", "ORDER_NUMBER", "NOTE"),
    "*": ("code", "occurred_at", "shipment_id", "tracking_number", "reason"),
}


def parse(carrier: str, body: dict[str, Any]) -> TrackingUpdate:
    """A carrier's own webhook body as a TrackingUpdate."""
    fields = FIELDS.get(carrier, FIELDS["*"])
    try:
        data = body["DATA"] if carrier == "viettelpost" else body
        code = str(data[fields[0]])
        at = _when(data.get(fields[1]), "%d/%m/%Y %H:%M:%S" if carrier == "viettelpost" else None)
        ref, number, reason = (data.get(f) for f in fields[2:])
    except (KeyError, TypeError) as exc:
        raise UnreadableUpdate(f"not a {carrier} status update: missing {exc}") from exc
    if not ref and not number:
        raise UnreadableUpdate("the update names no shipment")
    return TrackingUpdate(
        carrier=carrier,
        code=code,
        status=internal_status(carrier, code),
        occurred_at=at,
        shipment_id=str(ref) if ref else None,
        tracking_number=str(number) if number else None,
        reason=str(reason) if reason else None,
    )
