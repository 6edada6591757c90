"""The lifecycle rules, in memory: ordering by the platform's update time, cancellations,
returns, holds, the reservation saga and fulfilment units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.orders.adapters.platforms.registry import parse_detail
from services.orders.domain import lifecycle
from services.orders.domain.lifecycle import Cancelled, Confirmed, Placed, Rejected
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.status import OrderStatus as S
from services.orders.domain.status import status_of
from tests.orders import samples

T0 = datetime(2025, 8, 1, 1, 0, tzinfo=UTC)


def lazada(statuses, updated="2025-08-01 08:05:00 +0700"):
    return parse_detail(
        "lazada",
        samples.lazada_detail(units=len(statuses), statuses=statuses, updated_at=updated),
        "lz",
    )


def placed():
    return lifecycle.new_order(lazada(["pending"] * 3)).order


def test_a_new_order_asks_the_catalog_to_reserve():
    result = lifecycle.new_order(lazada(["pending"] * 3))
    assert result.order.status is S.PENDING_STOCK and result.effects == [Placed()]


def test_a_stale_update_never_wins_and_an_equal_one_is_a_no_op():
    current = lifecycle.apply_channel_update(
        placed(), lazada(["canceled"] * 3, "2025-08-01 09:00:00 +0700")
    ).order
    older = lazada(["pending"] * 3, "2025-08-01 08:30:00 +0700")
    assert lifecycle.apply_channel_update(current, older).outcome == "stale"
    same = lazada(["canceled"] * 3, "2025-08-01 09:00:00 +0700")
    assert lifecycle.apply_channel_update(current, same).outcome == "unchanged"


def test_partial_cancellation_releases_only_the_cancelled_units_once():
    update = lazada(["canceled", "pending", "pending"], "2025-08-01 09:00:00 +0700")
    result = lifecycle.apply_channel_update(placed(), update)
    assert result.effects == [Cancelled(result.effects[0].reason, (("LZ-HONEY-500", 1),))]
    assert result.order.status is S.PENDING_STOCK
    # A later update still showing that unit cancelled does not cancel it again.
    later = lazada(["canceled", "pending", "pending"], "2025-08-01 10:00:00 +0700")
    assert lifecycle.apply_channel_update(result.order, later).effects == []


def test_a_cancellation_is_never_undone_by_a_later_update():
    cancelled = lifecycle.apply_channel_update(
        placed(), lazada(["canceled"] * 3, "2025-08-01 09:00:00 +0700")
    ).order
    revived = lazada(["pending"] * 3, "2025-08-01 10:00:00 +0700")
    assert lifecycle.apply_channel_update(cancelled, revived).order.status is S.CANCELLED


def test_cancellation_after_pickup_is_a_return():
    units = lifecycle.units_from_allocations([("P1", [("LZ-HONEY-500", "honey", 3)])])
    reserved = lifecycle.on_reserved(placed(), units).order
    shipped = lifecycle.on_shipment(reserved, "P1", "S1", "picked_up", T0, "x").order
    assert shipped.status is S.SHIPPED
    result = lifecycle.cancel(shipped, "buyer changed mind")
    assert result.order.status is S.RETURNING
    assert result.effects == [Cancelled("buyer changed mind", after_pickup=True)]
    partial = lifecycle.cancel(shipped, "one broke", {"LZ-HONEY-500": 1})
    assert partial.effects == [Cancelled("one broke", (("LZ-HONEY-500", 1),), True)]


def test_the_reservation_saga_confirms_rejects_holds_and_compensates():
    order = placed()
    units = lifecycle.units_from_allocations([("P1", [("A", "a", 1)]), ("P2", [("B", "b", 2)])])
    confirmed = lifecycle.on_reserved(order, units)
    assert confirmed.effects == [Confirmed()]
    assert [u.producer_id for u in confirmed.order.fulfilment_units] == ["P1", "P2"]
    assert lifecycle.on_rejected(order, "insufficient_stock: A", []).effects == [
        Rejected("insufficient_stock: A")
    ]
    held = lifecycle.on_rejected(order, "unknown_sku: X", ["X"]).order
    assert held.status is S.ON_HOLD and held.hold_reason == "unmapped_sku: X"
    timed_out = lifecycle.on_reservation_timeout(order, "900s")
    assert timed_out.order.status is S.CANCELLED and isinstance(timed_out.effects[0], Cancelled)
    late = lifecycle.on_reserved(timed_out.order, units)
    assert late.order.status is S.CANCELLED and isinstance(late.effects[0], Cancelled)


def test_shipment_events_move_units_and_the_order_follows_the_slowest():
    units = lifecycle.units_from_allocations([("P1", []), ("P2", [])])
    order = lifecycle.on_reserved(placed(), units).order
    order = lifecycle.on_shipment(order, "P1", "S1", "picked_up", T0, "x").order
    assert order.status is S.SHIPPED
    order = lifecycle.on_shipment(order, "P1", "S1", "delivered", T0 + timedelta(1), "x").order
    assert order.status is S.SHIPPED
    stale = lifecycle.on_shipment(order, "P1", "S1", "picked_up", T0, "x")
    assert stale.outcome == "stale"
    order = lifecycle.on_shipment(order, "P2", "S2", "delivered", T0 + timedelta(1), "x").order
    assert order.status is S.DELIVERED


def test_resolve_maps_skus_fixes_the_address_and_releases_the_hold():
    order = lifecycle.new_order(
        lazada(["pending"] * 3).model_copy(update={"shipping_address": None})
    ).order
    assert order.status is S.ON_HOLD
    still = lifecycle.resolve(order, {"LZ-HONEY-500": "HG-HONEY-500"})
    assert still.order.status is S.ON_HOLD and "address_unusable" in still.order.hold_reason
    done = lifecycle.resolve(still.order, {}, {"line1": "Thôn 3", "province": "Hà Giang"})
    assert done.order.status is S.PENDING_STOCK and done.effects == [Placed()]
    assert done.order.lines[0].sku == "HG-HONEY-500"


def test_a_pickup_scheduled_before_the_reservation_waits_for_its_unit_and_confirms_once():
    early = lifecycle.on_shipment(placed(), "P1", "S1", "pickup_scheduled", T0, "logistics")
    assert early.order.status is S.PENDING_STOCK and early.effects == []
    assert early.history == [
        (
            S.PENDING_STOCK,
            "shipment S1 (P1): pickup_scheduled via logistics, kept until its unit is reserved",
        )
    ]
    units = lifecycle.units_from_allocations([("P1", [("A", "a", 1)])])
    reserved = lifecycle.on_reserved(early.order, units)
    assert reserved.order.status is S.PICKUP_SCHEDULED and reserved.effects == [Confirmed()]
    assert [(u.status, u.shipment_id) for u in reserved.order.fulfilment_units] == [
        ("pickup_scheduled", "S1")
    ]
    assert lifecycle.on_reserved(reserved.order, units).outcome == "unchanged"


def test_a_units_events_are_ordered_by_the_carriers_time_then_by_the_journey():
    units = lifecycle.units_from_allocations([("P1", [])])
    order = lifecycle.on_reserved(placed(), units).order
    # Our clock scheduled the pickup after the carrier's clock says it was picked up.
    picked = lifecycle.on_shipment(order, "P1", "S1", "picked_up", T0, "ghn").order
    late = lifecycle.on_shipment(picked, "P1", "S1", "pickup_scheduled", T0 + timedelta(1), "x")
    assert late.outcome == "stale" and picked.status is S.SHIPPED
    # Same time: delivered wins whichever arrives first.
    at = T0 + timedelta(hours=5)
    one = lifecycle.on_shipment(picked, "P1", "S1", "delivered", at, "ghn").order
    one = lifecycle.on_shipment(one, "P1", "S1", "in_transit", at, "ghn").order
    other = lifecycle.on_shipment(picked, "P1", "S1", "in_transit", at, "ghn").order
    other = lifecycle.on_shipment(other, "P1", "S1", "delivered", at, "ghn").order
    assert one == other and one.status is S.DELIVERED


def test_a_pickup_heard_of_after_the_cancellation_makes_it_a_return():
    units = lifecycle.units_from_allocations([("P1", [])])
    order = lifecycle.on_reserved(placed(), units).order
    cancelled = lifecycle.cancel(order, "buyer")
    assert cancelled.order.status is S.CANCELLED
    assert cancelled.effects == [Cancelled("buyer")]
    picked = lifecycle.on_shipment(cancelled.order, "P1", "S1", "picked_up", T0, "ghn")
    assert picked.order.status is S.RETURNING and picked.effects == []


def test_a_cancellation_wins_over_a_rejection_whichever_arrives_first():
    rejected_first = lifecycle.on_rejected(placed(), "insufficient_stock: A", []).order
    cancelled_after = lifecycle.cancel(rejected_first, "buyer")
    assert cancelled_after.effects == []  # nothing was reserved
    cancelled_first = lifecycle.cancel(placed(), "buyer").order
    rejected_after = lifecycle.on_rejected(cancelled_first, "insufficient_stock: A", [])
    assert rejected_after.effects == []
    assert cancelled_after.order.status is rejected_after.order.status is S.CANCELLED


def test_an_order_stored_before_it_kept_facts_keeps_its_status_and_its_units_moves():
    units = lifecycle.units_from_allocations([("P1", []), ("P2", [])])
    order = lifecycle.on_reserved(placed(), units).order
    order = lifecycle.on_shipment(order, "P1", "S1", "picked_up", T0, "ghn").order
    stored = order.model_dump(mode="json")
    del stored["facts"]
    old = CanonicalOrder.model_validate(stored)
    assert old.facts is None
    assert status_of(lifecycle.facts_of(old), old.fulfilment_units) is S.SHIPPED
    assert lifecycle.on_reserved(old, units).outcome == "unchanged"
    delivered = lifecycle.on_shipment(old, "P1", "S1", "delivered", T0 + timedelta(1), "ghn")
    assert delivered.order.status is S.SHIPPED
    both = lifecycle.on_shipment(delivered.order, "P2", "S2", "delivered", T0 + timedelta(1), "x")
    assert both.order.status is S.DELIVERED


def test_once_reserved_a_lines_channel_sku_is_named_by_ours_in_every_later_cancellation():
    units = lifecycle.units_from_allocations([("P-HONEY", [("HG-HONEY-500", "Mat ong", 3)])])
    reserved = lifecycle.on_reserved(placed(), units, {"LZ-HONEY-500": "HG-HONEY-500"}).order
    assert {line.sku for line in reserved.lines} == {"HG-HONEY-500"}
    update = lazada(["canceled", "pending", "pending"], "2025-08-01 09:00:00 +0700")
    result = lifecycle.apply_channel_update(reserved, update)
    assert result.effects == [Cancelled(result.effects[0].reason, (("HG-HONEY-500", 1),))]


def test_a_units_lines_shrink_by_what_is_cancelled_since_in_either_order():
    units = lifecycle.units_from_allocations([("P-HONEY", [("HG-HONEY-500", "Mat ong", 3)])])
    skus = {"LZ-HONEY-500": "HG-HONEY-500"}
    update = lazada(["canceled", "pending", "pending"], "2025-08-01 09:00:00 +0700")
    reserved = lifecycle.on_reserved(placed(), units, skus).order
    reserved_first = lifecycle.apply_channel_update(reserved, update).order
    cancelled = lifecycle.apply_channel_update(placed(), update).order
    cancelled_first = lifecycle.on_reserved(cancelled, units, skus).order
    for order in (reserved_first, cancelled_first):
        [unit] = order.fulfilment_units
        assert [(ln.sku, ln.quantity) for ln in unit.lines] == [("HG-HONEY-500", 2)]
    # Every unit cancelled: the unit names nothing left to prepare.
    gone = lazada(["canceled"] * 3, "2025-08-01 10:00:00 +0700")
    assert (
        lifecycle.apply_channel_update(reserved_first, gone).order.fulfilment_units[0].lines == []
    )
