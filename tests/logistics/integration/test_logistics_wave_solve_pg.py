"""The cut-off solve on the real database, through the consumer's own delivery, with a solver
that lets the test act while it "solves": the solve holds no transaction and no lock, and a wave
that changes meanwhile is solved again, so the plan applied is the wave as it ends."""

from __future__ import annotations

import asyncpg
import pytest

from services.logistics import bootstrap
from services.logistics.adapters import postgres as db
from services.logistics.domain.messages import ParcelQueued, WaveCutoffReached
from services.logistics.metrics import WAVE_CHANGED
from services.logistics.planner import MAX_SOLVES, Planner
from services.logistics.settings import LogisticsSettings
from shared.contracts.events import CancelledLine, OrderCancelled
from shared.db.pool import create_pool
from tests.logistics.fakes import HookedSolver, consumer_handlers
from tests.logistics.integration.conftest import HAGIANG
from tests.logistics.integration.test_logistics_flow_pg import allocation, reserved
from tests.shared.integration.delivery import deliver, outbox, wrap

pytestmark = pytest.mark.integration
ORDERS = {
    "o-a": allocation("PRD-A", 23.16, 105.41),
    "o-b": allocation("PRD-B", 23.00, 105.20),
    "o-c": allocation("PRD-C", 22.95, 105.05),
    "o-d": allocation("PRD-D", 23.05, 105.30),
}


@pytest.fixture
async def pool(make_database):
    pool = await create_pool(await make_database("logistics", bootstrap.MIGRATIONS), max_size=4)
    async with pool.acquire() as conn:
        await db.put_hub(conn, HAGIANG)
    yield pool
    await pool.close()


def cutoff_handler(pool, planner: Planner):
    return consumer_handlers(pool, planner)[WaveCutoffReached.event_type]


async def cut_off_wave(pool, planner: Planner, orders: list[str]) -> WaveCutoffReached:
    """One wave holding a promised parcel per order, its cut-off passed."""
    handlers = consumer_handlers(pool, planner)
    for order in orders:
        assert await deliver(pool, "logistics", handlers["StockReserved"],
                             reserved(order, ORDERS[order]))  # fmt: skip
    async with pool.acquire() as conn:
        shipments = await conn.fetch("SELECT * FROM shipments ORDER BY producer_id")
    for row in shipments:
        queued = ParcelQueued(hub_id=HAGIANG.hub_id, wave_id=row["run_id"],
                              shipment_id=row["shipment_id"])  # fmt: skip
        assert await deliver(pool, "logistics", handlers["ParcelQueued"], queued)
    async with pool.acquire() as conn:
        [wave_id] = await conn.fetch("SELECT DISTINCT run_id FROM shipments")
        await conn.execute("UPDATE wave_plans SET status = 'cutoff_queued'")
    return WaveCutoffReached(hub_id=HAGIANG.hub_id, wave_id=wave_id["run_id"])


async def cancel(pool, order: str, *, one_jar: bool = False) -> None:
    lines = [CancelledLine(sku="HG-HONEY-500", quantity=1)] if one_jar else []
    event = OrderCancelled(order_id=order, reason="the buyer changed their mind", lines=lines)
    assert await deliver(pool, "logistics", consumer_handlers(pool)["OrderCancelled"], event)


def solved_again() -> float:
    return WAVE_CHANGED.labels(HAGIANG.hub_id, "solved_again")._value.get()


@pytest.mark.parametrize("change", ["cancelled", "one jar less"])
async def test_a_wave_that_changes_while_it_is_solved_is_solved_again_as_it_ends(pool, change):
    async def during(solve: int) -> None:
        if solve == 1:
            await cancel(pool, "o-b", one_jar=change == "one jar less")

    solver = HookedSolver(during)
    planner = Planner(LogisticsSettings(), solver)
    cutoff = await cut_off_wave(pool, planner, ["o-a", "o-b", "o-c"])
    before = solved_again()
    assert await deliver(pool, "logistics", cutoff_handler(pool, planner), cutoff)

    async with pool.acquire() as conn:
        active = await db.wave_shipments(conn, cutoff.wave_id)
        wave = await conn.fetchrow("SELECT * FROM wave_plans")
    [planned] = [p for t, p in await outbox(pool) if t == "PickupPlanned"]
    stops = [s for r in planned["routes"] for s in r["stops"]]
    assert wave["status"] == "planned"
    assert sorted(s["producer_id"] for s in stops) == [r["producer_id"] for r in active]
    assert sorted(i for s in stops for i in s["shipment_ids"]) == sorted(
        r["shipment_id"] for r in active
    )
    assert round(sum(r["load_kg"] for r in planned["routes"]) * 1000) == sum(
        r["weight_g"] for r in active
    )
    kept = sorted(s for r in db.as_json(wave["plan"])["routes"] for s in r["stops"])
    assert kept == [r["producer_id"] for r in active]
    assert solver.solves == 2 and solved_again() == before + 1


async def test_the_solve_holds_no_transaction_and_leaves_the_wave_row_free(pool):
    seen: list[tuple[str, int]] = []

    async def during(solve: int) -> None:
        async with pool.acquire() as conn:
            open_transactions = await conn.fetchval(
                """SELECT count(*) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND state LIKE 'idle in transaction%'"""
            )
            try:
                async with conn.transaction():
                    await conn.execute("SELECT 1 FROM wave_plans FOR UPDATE NOWAIT")
                    await conn.execute("UPDATE wave_plans SET updated_at = now()")
                wave_row = "free"
            except asyncpg.LockNotAvailableError:
                wave_row = "locked"
        seen.append((wave_row, open_transactions))

    solver = HookedSolver(during)
    planner = Planner(LogisticsSettings(), solver)
    cutoff = await cut_off_wave(pool, planner, ["o-a", "o-b"])
    assert await deliver(pool, "logistics", cutoff_handler(pool, planner), cutoff)

    assert seen == [("free", 0)]
    assert [t for t, _ in await outbox(pool)].count("PickupPlanned") == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM wave_plans") == "planned"


async def test_a_wave_that_keeps_changing_is_queued_again_behind_its_hubs_messages(pool):
    orders = ["o-a", "o-b", "o-c", "o-d"]

    async def during(solve: int) -> None:
        if solve <= MAX_SOLVES:
            await cancel(pool, orders[solve - 1])

    solver = HookedSolver(during)
    planner = Planner(LogisticsSettings(), solver)
    cutoff = await cut_off_wave(pool, planner, orders)
    queued_before = WAVE_CHANGED.labels(HAGIANG.hub_id, "queued_again")._value.get()
    env = wrap(cutoff)
    assert await deliver(pool, "logistics", cutoff_handler(pool, planner), cutoff, env)

    assert solver.solves == MAX_SOLVES
    assert WAVE_CHANGED.labels(HAGIANG.hub_id, "queued_again")._value.get() == queued_before + 1
    events = await outbox(pool)
    assert "PickupPlanned" not in [t for t, _ in events]
    [again] = [p for t, p in events if t == "WaveCutoffReached"]
    assert again == cutoff.model_dump(mode="json")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM wave_plans") == "cutoff_queued"
    assert not await deliver(pool, "logistics", cutoff_handler(pool, planner), cutoff, env)

    assert await deliver(
        pool, "logistics", cutoff_handler(pool, planner), WaveCutoffReached.model_validate(again)
    )
    [planned] = [p for t, p in await outbox(pool) if t == "PickupPlanned"]
    assert [s["producer_id"] for r in planned["routes"] for s in r["stops"]] == ["PRD-D"]
