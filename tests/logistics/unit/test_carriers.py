"""Carrier status codes map onto our events and keep the raw code."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.logistics.domain.tracking import (
    CODES,
    EVENT_FOR,
    INTERNAL,
    UnreadableUpdate,
    internal_status,
    parse,
)


@pytest.mark.parametrize(
    ("carrier", "code", "status", "event"),
    [
        ("ghn", "picked", "PickedUp", "ShipmentPickedUp"),
        ("ghn", "delivering", "OutForDelivery", "ShipmentDispatchedForDelivery"),
        ("ghn", "lost", "Lost", "ShipmentDeliveryFailed"),
        ("ghn", "returned", "Returned", "ShipmentReturned"),
        ("ghtk", "-1", "Cancelled", "ShipmentCancelled"),
        ("ghtk", "3", "PickedUp", "ShipmentPickedUp"),
        ("ghtk", "5", "Delivered", "ShipmentDelivered"),
        ("ghtk", "8", "PickupDelayed", None),
        ("viettelpost", "105", "PickedUp", "ShipmentPickedUp"),
        ("viettelpost", "302", "InTransit", "ShipmentDepartedHub"),
        ("viettelpost", "401", "AtHub", "ShipmentArrivedAtHub"),
        ("viettelpost", "501", "Delivered", "ShipmentDelivered"),
        ("acme", "Delivered", "Delivered", "ShipmentDelivered"),
    ],
)
def test_carrier_codes_map_to_our_statuses_and_events(carrier, code, status, event):
    assert internal_status(carrier, code) == status
    found = EVENT_FOR.get(status)
    assert (found.event_type if found else None) == event


def test_every_documented_code_maps_into_the_internal_set():
    for table in CODES.values():
        assert set(table.values()) <= set(INTERNAL)
    assert len(CODES["ghn"]) == 22 and len(CODES["ghtk"]) == 14


def test_each_carriers_body_is_read_with_its_raw_code_and_local_time():
    ghn = parse("ghn", {"OrderCode": "GHN1", "ClientOrderCode": "s-1", "Status": "storing",
                        "Time": "2026-11-29T10:15:00+07:00"})
    assert (ghn.shipment_id, ghn.tracking_number, ghn.code, ghn.status) == (
        "s-1", "GHN1", "storing", "AtHub")
    ghtk = parse("ghtk", {"label_id": "S1.A1", "partner_id": "s-2", "status_id": 3,
                          "action_time": "2026-11-29T10:15:00+07:00", "reason": ""})
    assert ghtk.code == "3" and ghtk.reason is None
    vtp = parse("viettelpost", {"DATA": {"ORDER_NUMBER": "VTP9", "ORDER_REFERENCE": "s-3",
                                         "ORDER_STATUS": 501,
                                         "ORDER_STATUSDATE": "29/11/2026 10:15:00"}})
    assert vtp.occurred_at == datetime.fromisoformat("2026-11-29T03:15:00+00:00")
    assert vtp.code == "501" and vtp.status == "Delivered"


@pytest.mark.parametrize(
    ("carrier", "body"),
    [
        ("ghn", {"OrderCode": "X", "Time": "2026-11-29T10:15:00+07:00"}),  # no status
        ("ghn", {"OrderCode": "X", "Status": "teleported", "Time": "2026-11-29T10:00:00Z"}),
        ("ghtk", {"label_id": "X", "status_id": 99, "action_time": "2026-11-29T10:00:00Z"}),
        ("ghtk", {"label_id": "X", "status_id": 3, "action_time": "yesterday"}),
        ("viettelpost", {"ORDER_STATUS": 105}),  # not inside DATA
        ("ghn", {"Status": "picked", "Time": "2026-11-29T10:00:00Z"}),  # names no shipment
    ],
)
def test_an_unreadable_update_is_refused_with_a_reason(carrier, body):
    with pytest.raises(UnreadableUpdate):
        parse(carrier, body)
