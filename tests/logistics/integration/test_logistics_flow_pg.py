"""The planning flow on the real broker and database: a reserved order gets its pickup window
at once through the hub-keyed planner, parcels that cannot be planned go on hold, the cut-off
plans the wave (deferring what may wait), and cancellations take stops out."""

from __future__ import annotations

import asyncio

import pytest

from services.logistics.jobs import queue_cutoffs
from services.logistics.metrics import PARCELS_ON_HOLD, WAVE_KPI
from shared.contracts.events import (
    Contact,
    Location,
    OrderCancelled,
    ProducerAllocation,
    ReservedLine,
    StockReserved,
)
from shared.contracts.parts import PICKUPS, SHIPMENTS, Address
from tests.shared.integration.harness import eventually

pytestmark = pytest.mark.integration

CONTACT = Contact(name="HTX Mat ong Meo Vac", phone="+84912000101")


def allocation(producer: str, lat: float, lon: float, grams: int = 750, perishable=False,
               village: str = "Pa Vi") -> ProducerAllocation:
    return ProducerAllocation(
        producer_id=producer,
        contact=CONTACT,
        location=Location(village=village, province="Tuyen Quang", country="VN", lat=lat,
                          lon=lon),
        lines=[ReservedLine(sku="HG-HONEY-500", name="Mat ong", quantity=2, weight_g=grams,
                            perishable=perishable)],
    )


def reserved(order: str, *allocs: ProducerAllocation) -> StockReserved:
    return StockReserved(
        order_id=order,
        order_ref=f"#{order}",
        allocations=list(allocs),
        cod_amount=900_000,
        currency="VND",
        shipping_address=Address(recipient="Nguyen Van A", line1="12 Ly Thuong Kiet",
                                 province="Ha Noi", country="VN"),
    )


async def rows(logistics, sql: str, *args):
    conn = await logistics.db()
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def test_a_reserved_order_gets_its_pickup_window_at_once_and_bad_parcels_go_on_hold(
    start_logistics,
):
    logistics = await start_logistics()
    held_before = {r: PARCELS_ON_HOLD.labels(r)._value.get() for r in ("too_heavy",
                                                                        "no_coordinates")}
    await logistics.publish(
        reserved(
            "o-1",
            allocation("PRD-A", 23.16, 105.41),
            allocation("PRD-HEAVY", 23.10, 105.30, grams=2_000_000),
            allocation("PRD-NOWHERE", 0.0, 0.0),
        )
    )
    [scheduled] = await logistics.wait_for(PICKUPS, "PickupScheduled")
    payload = scheduled.payload
    assert payload["producer_id"] == "PRD-A" and payload["hub_id"] == "HUB-HAGIANG"
    assert payload["wave_id"].startswith("HUB-HAGIANG-") and payload["cod_amount"] == 900_000
    assert payload["window_start"] < payload["window_end"]

    shipments = {r["producer_id"]: r for r in await rows(logistics, "SELECT * FROM shipments")}
    assert shipments["PRD-A"]["status"] == "PICKUP_SCHEDULED"
    assert shipments["PRD-HEAVY"]["status"] == "ON_HOLD"
    assert shipments["PRD-HEAVY"]["hold_reason"] == "too_heavy"
    assert shipments["PRD-NOWHERE"]["hold_reason"] == "no_coordinates"
    for reason in ("too_heavy", "no_coordinates"):
        assert PARCELS_ON_HOLD.labels(reason)._value.get() == held_before[reason] + 1
    [wave] = await rows(logistics, "SELECT * FROM wave_plans")
    assert wave["plan"]["routes"][0]["stops"] == ["PRD-A"]


async def test_the_cutoff_plans_the_wave_defers_what_may_wait_and_reports_kpis(start_logistics):
    from tests.logistics.integration.conftest import HAGIANG

    cheap_deferral = HAGIANG.model_copy(update={"defer_cost": 1})
    logistics = await start_logistics(hubs=(cheap_deferral,))
    await logistics.publish(
        reserved("o-2", allocation("PRD-FRESH", 23.16, 105.41, perishable=True),
                 allocation("PRD-DRY", 22.60, 104.70, village="Lang Giang"))
    )
    await logistics.wait_for(PICKUPS, "PickupScheduled", count=2)
    [wave] = await rows(logistics, "SELECT * FROM wave_plans")
    conn = await logistics.db()
    try:
        await conn.execute("UPDATE wave_plans SET cutoff_at = now() - interval '1 second'")
    finally:
        await conn.close()
    assert await queue_cutoffs(logistics.service) in (0, 1)  # the job may have been first

    [planned] = await logistics.wait_for(PICKUPS, "PickupPlanned")
    plan = planned.payload
    assert plan["wave_id"] == wave["wave_id"]
    assert [s["producer_id"] for r in plan["routes"] for s in r["stops"]] == ["PRD-FRESH"]
    [dry] = await rows(logistics, "SELECT * FROM shipments WHERE producer_id = 'PRD-DRY'")
    assert plan["deferred_shipment_ids"] == [dry["shipment_id"]]
    [moved] = await logistics.wait_for(PICKUPS, "PickupRescheduled")
    assert moved.payload["shipment_id"] == dry["shipment_id"]
    assert moved.payload["window_start"] > plan["routes"][0]["stops"][0]["window_start"]

    async def placed_in_next_wave() -> bool:
        [row] = await rows(logistics, "SELECT * FROM shipments WHERE producer_id = 'PRD-DRY'")
        return row["run_id"] != wave["wave_id"] and row["status"] == "PICKUP_SCHEDULED"

    await eventually(placed_in_next_wave)
    assert row_count(await logistics.read(PICKUPS), "PickupScheduled") == 2  # not announced again

    resp = await logistics.http().get(f"/plans/{plan['plan_id']}")
    assert resp.status_code == 200
    kpis = resp.json()["kpis"]
    assert kpis["plan"]["stops"] == 1 and kpis["plan"]["deferred"] == 1
    assert kpis["one_trip_per_order"]["cost"] > 0 and kpis["one_trip_per_village"]["cost"] > 0
    assert kpis["plan"]["on_time_pct"] == 100.0
    day = wave["wave_id"].split("-", 2)[2].rsplit("-", 1)[0]
    daily = (await logistics.http().get(f"/days/HUB-HAGIANG/{day}")).json()
    assert daily["waves"] == [wave["wave_id"]] and "vs_one_trip_per_order" in daily["cost_ratio"]
    assert (await logistics.http().get("/plans/nope")).status_code == 404
    per_order = WAVE_KPI.labels("HUB-HAGIANG", "one_trip_per_order", "cost")._value.get()
    assert per_order == kpis["one_trip_per_order"]["cost"]


def row_count(envelopes, event_type: str) -> int:
    return sum(1 for e in envelopes if e.event_type == event_type)


async def test_a_cancelled_order_leaves_the_plan_and_partners_hear_of_it(start_logistics):
    logistics = await start_logistics()
    await logistics.publish(reserved("o-3", allocation("PRD-A", 23.16, 105.41),
                                     allocation("PRD-B", 23.0, 105.2)))
    await logistics.wait_for(PICKUPS, "PickupScheduled", count=2)
    await logistics.publish(OrderCancelled(order_id="o-3", reason="buyer changed their mind"))
    cancelled = await logistics.wait_for(PICKUPS, "PickupCancelled", count=2)
    assert {c.payload["producer_id"] for c in cancelled} == {"PRD-A", "PRD-B"}
    await logistics.wait_for(SHIPMENTS, "ShipmentCancelled", count=2)

    async def plan_emptied() -> bool:
        [wave] = await rows(logistics, "SELECT * FROM wave_plans")
        return wave["plan"]["routes"] == []

    await eventually(plan_emptied)
    statuses = {r["status"] for r in await rows(logistics, "SELECT status FROM shipments")}
    assert statuses == {"CANCELLED"}


async def test_a_partial_cancellation_lightens_the_stop_without_a_new_promise(start_logistics):
    logistics = await start_logistics()
    await logistics.publish(reserved("o-4", allocation("PRD-A", 23.16, 105.41)))
    await logistics.wait_for(PICKUPS, "PickupScheduled")
    from shared.contracts.orders import CancelledLine

    await logistics.publish(
        OrderCancelled(order_id="o-4", reason="one jar less",
                       lines=[CancelledLine(sku="HG-HONEY-500", quantity=1)])
    )

    async def lighter() -> bool:
        [row] = await rows(logistics, "SELECT * FROM shipments")
        return row["weight_g"] == 750

    await eventually(lighter)
    [row] = await rows(logistics, "SELECT * FROM shipments")
    assert row["status"] == "PICKUP_SCHEDULED"
    assert row_count(await logistics.read(PICKUPS), "PickupCancelled") == 0


async def test_operators_set_the_network_through_the_api_and_the_cli(start_logistics, tmp_path):
    import asyncio
    import json
    import os
    import sys

    logistics = await start_logistics()
    client = logistics.http()
    hub = {"hub_id": "HUB-MEOVAC", "name": "Meo Vac", "lat": 23.16, "lon": 105.41,
           "villages": [{"province": "Tuyen Quang", "village": "Pa Vi"}],
           "fleets": [{"partner": "ghtk", "vehicles": [
               {"type": "motorbike", "capacity_kg": 50, "capacity_l": 80, "fixed_cost": 100000,
                "cost_per_km": 2000, "count": 4, "shift_start": "07:00",
                "shift_end": "18:00"}]}],
           "waves": [{"code": "AM", "cutoff": "08:00", "window_start": "09:00",
                      "window_end": "11:30"}]}
    assert (await client.put("/network/hubs/HUB-MEOVAC", json=hub)).status_code == 200
    bad = hub | {"waves": [{"code": "AM", "cutoff": "10:00", "window_start": "09:00",
                             "window_end": "11:30"}]}
    assert (await client.put("/network/hubs/HUB-MEOVAC", json=bad)).status_code == 422
    listed = (await client.get("/network/hubs")).json()
    assert {h["hub_id"] for h in listed} == {"HUB-HAGIANG", "HUB-MEOVAC"}

    # A producer of a listed village goes to that hub, in its own wave.
    await logistics.publish(reserved("o-net", allocation("PRD-A", 23.16, 105.41)))
    [scheduled] = await logistics.wait_for(PICKUPS, "PickupScheduled")
    assert scheduled.payload["hub_id"] == "HUB-MEOVAC"
    assert scheduled.payload["wave_id"].endswith("-AM")

    path = tmp_path / "hub.json"
    path.write_text(json.dumps(hub | {"hub_id": "HUB-DONGVAN", "name": "Dong Van"}))
    env = dict(os.environ) | {"LOGISTICS_DATABASE_URL": logistics.url}

    async def ovop(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", "logistics", *args, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate()
        return proc.returncode or 0, out.decode()

    code, out = await ovop("hub-set", str(path))
    assert code == 0, out
    code, listing = await ovop("hubs")
    assert "HUB-DONGVAN" in listing and "4 x ghtk:motorbike" in listing


async def test_after_dispatch_the_plan_is_frozen_and_a_cancellation_only_drops_its_stop(
    start_logistics,
):
    from shared.contracts.orders import CancelledLine
    from tests.logistics.integration.conftest import HAGIANG

    # Deferring is dear here: every stop stays in this wave.
    logistics = await start_logistics(hubs=(HAGIANG.model_copy(update={"defer_cost": 10**7}),))
    await logistics.publish(reserved("o-5", allocation("PRD-A", 23.16, 105.41),
                                     allocation("PRD-B", 23.00, 105.20),
                                     allocation("PRD-C", 22.95, 105.05)))
    await logistics.publish(reserved("o-6", allocation("PRD-D", 23.05, 105.30)))
    await logistics.wait_for(PICKUPS, "PickupScheduled", count=4)
    conn = await logistics.db()
    try:  # the cut-off and the window's start have both passed
        await conn.execute("""UPDATE wave_plans SET cutoff_at = now() - interval '2 seconds',
                                                    window_start = now() - interval '1 second'""")
    finally:
        await conn.close()
    await queue_cutoffs(logistics.service)
    [planned] = await logistics.wait_for(PICKUPS, "PickupPlanned")

    async def dispatched() -> bool:
        await queue_cutoffs(logistics.service)
        [wave] = await rows(logistics, "SELECT status FROM wave_plans")
        return wave["status"] == "dispatched"

    await eventually(dispatched)
    [before] = await rows(logistics, "SELECT plan FROM wave_plans")
    await logistics.publish(OrderCancelled(order_id="o-6", reason="out of stock after all"))
    await logistics.publish(OrderCancelled(order_id="o-5", reason="one jar less",
                                           lines=[CancelledLine(sku="HG-HONEY-500",
                                                                quantity=1)]))
    await logistics.wait_for(PICKUPS, "PickupCancelled")

    async def settled() -> bool:
        found = await rows(logistics, "SELECT weight_g FROM shipments WHERE order_id = 'o-5'")
        return all(r["weight_g"] == 750 for r in found)

    await eventually(settled)
    await asyncio.sleep(1.0)  # let the quiet re-placements of the lighter stops run
    [after] = await rows(logistics, "SELECT plan FROM wave_plans")
    expected = [[s for s in r["stops"] if s != "PRD-D"] for r in before["plan"]["routes"]]
    assert [r["stops"] for r in after["plan"]["routes"]] == [e for e in expected if e]
    moved = await rows(logistics, "SELECT * FROM shipments WHERE run_id <> $1",
                       planned.payload["wave_id"])
    assert [r["status"] for r in moved] == []  # nothing left its dispatched wave


async def test_a_parcel_no_wave_can_reach_goes_on_hold_instead_of_the_dead_letters(
    start_logistics,
):
    from tests.logistics.integration.conftest import HAGIANG

    logistics = await start_logistics(hubs=(HAGIANG,))
    held_before = PARCELS_ON_HOLD.labels("unreachable")._value.get()
    # Buôn Ma Thuột is 1,200 km of road from Hà Giang: no vehicle gets there inside a window.
    await logistics.publish(reserved("o-far", allocation("PRD-FAR", 12.71, 108.09)))

    async def held() -> bool:
        found = await rows(logistics, "SELECT * FROM shipments WHERE producer_id = 'PRD-FAR'")
        return bool(found) and found[0]["status"] == "ON_HOLD"

    await eventually(held, timeout=30)
    [far] = await rows(logistics, "SELECT * FROM shipments WHERE producer_id = 'PRD-FAR'")
    assert far["hold_reason"] == "unreachable"
    assert PARCELS_ON_HOLD.labels("unreachable")._value.get() == held_before + 1
