"""The catalog's PostgreSQL adapter.

Every function takes an `asyncpg.Connection` that is already inside a transaction: the caller
owns it, because it writes its outbox row in the same transaction. Nothing here commits.
Stock moves only by appending to `stock_ledger`; a trigger applies each row to `stock_items`
(see migrations/001_catalog.sql), so the ledger and the stock cannot disagree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import TypeVar

import asyncpg

from services.catalog.domain import (
    Decision,
    Held,
    LineProblem,
    Problem,
    Producer,
    Product,
    Rejected,
    Reserved,
    StockLevel,
    adjustment_delta,
    plan_pickup,
    plan_release,
    plan_reservation,
)

M = TypeVar("M", Producer, Product)
# Columns that hold a nested model as jsonb (shared.db.pool's codec turns them into dicts),
# and the tables that keep an updated_at.
_JSON = ("names", "descriptions", "story")
_TOUCHED = ("producers", "products")


async def upsert_producer(conn: asyncpg.Connection, p: Producer) -> None:
    await _upsert(conn, "producers", ("producer_id",), _row(p))


async def upsert_product(conn: asyncpg.Connection, p: Product, initial_stock: int) -> None:
    """Creates or updates a product; `initial_stock` is booked only when the SKU is new."""
    if initial_stock < 0:
        raise ValueError(f"initial stock of {p.sku} is negative: {initial_stock}")
    await _upsert(conn, "products", ("sku",), _row(p))
    created = await conn.fetchval(
        "INSERT INTO stock_items (sku) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", p.sku
    )
    if created and initial_stock:
        await _append(conn, [(p.sku, initial_stock, 0)], "INITIAL", None)


async def upsert_listing(
    conn: asyncpg.Connection, channel: str, account: str, channel_sku: str, sku: str
) -> None:
    row = {"channel": channel, "account": account, "channel_sku": channel_sku, "sku": sku}
    await _upsert(conn, "channel_listings", ("channel", "account", "channel_sku"), row)


async def load_demo(conn: asyncpg.Connection) -> dict[str, int]:
    """Upserts the demo producers, products and listings; stock already booked is kept."""
    demo = resources.files("services.catalog.demo")
    producers, products, listings = (
        json.loads(demo.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        for name in ("producers", "products", "listings")
    )
    for row in producers:
        await upsert_producer(conn, Producer.model_validate(row))
    for row in products:
        fields = {k: v for k, v in row.items() if k != "stock"}
        await upsert_product(conn, Product.model_validate(fields), row["stock"])
    for row in listings:
        await upsert_listing(conn, row["channel"], row["account"], row["channel_sku"], row["sku"])
    return {"producers": len(producers), "products": len(products), "listings": len(listings)}


async def get_producer(conn: asyncpg.Connection, producer_id: str) -> Producer | None:
    row = await conn.fetchrow("SELECT * FROM producers WHERE producer_id = $1", producer_id)
    return _model(Producer, row) if row else None


async def existing_producer_ids(conn: asyncpg.Connection, ids: Iterable[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT producer_id FROM producers WHERE producer_id = ANY($1::text[])", list(ids)
    )
    return {r["producer_id"] for r in rows}


async def existing_skus(conn: asyncpg.Connection, skus: Iterable[str]) -> set[str]:
    rows = await conn.fetch("SELECT sku FROM products WHERE sku = ANY($1::text[])", list(skus))
    return {r["sku"] for r in rows}


async def listed_skus(
    conn: asyncpg.Connection, keys: Iterable[tuple[str, str, str]]
) -> dict[tuple[str, str, str], str]:
    """The SKU each (channel, account, channel_sku) already maps to, for those that exist."""
    keys = list(keys)
    rows = await conn.fetch(
        """SELECT l.channel, l.account, l.channel_sku, l.sku FROM channel_listings l
           JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(channel, account, channel_sku)
             USING (channel, account, channel_sku)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
    )
    return {(r["channel"], r["account"], r["channel_sku"]): r["sku"] for r in rows}


async def delete_listing(
    conn: asyncpg.Connection, channel: str, account: str, channel_sku: str
) -> bool:
    deleted = await conn.fetchval(
        """DELETE FROM channel_listings WHERE channel = $1 AND account = $2 AND channel_sku = $3
           RETURNING true""",
        channel,
        account,
        channel_sku,
    )
    return bool(deleted)


async def stock_detail(conn: asyncpg.Connection, sku: str) -> dict[str, object] | None:
    """The SKU's stock figures and its latest ledger rows, for operators."""
    row = await conn.fetchrow(
        "SELECT on_hand, reserved, available, version FROM stock_items WHERE sku = $1", sku
    )
    if row is None:
        return None
    ledger = await conn.fetch(
        """SELECT id, delta_on_hand, delta_reserved, reason, order_id, note, created_at
           FROM stock_ledger WHERE sku = $1 ORDER BY id DESC LIMIT 20""",
        sku,
    )
    return {**dict(row), "ledger": [dict(r) for r in ledger]}


async def get_producers_for_skus(
    conn: asyncpg.Connection, skus: Iterable[str]
) -> dict[str, Producer]:
    """Maps each known SKU to its producer; unknown SKUs are left out."""
    rows = await conn.fetch(
        """SELECT s.sku, p.* FROM products s JOIN producers p USING (producer_id)
           WHERE s.sku = ANY($1::text[])""",
        list(skus),
    )
    return {row["sku"]: _model(Producer, row) for row in rows}


async def get_products(conn: asyncpg.Connection, skus: Iterable[str]) -> dict[str, Product]:
    """Maps each known SKU to its product; unknown SKUs are left out."""
    rows = await conn.fetch("SELECT * FROM products WHERE sku = ANY($1::text[])", list(skus))
    return {row["sku"]: _model(Product, row) for row in rows}


async def map_channel_skus(
    conn: asyncpg.Connection, channel: str, account: str, channel_skus: Iterable[str]
) -> dict[str, str]:
    """Maps a channel's SKUs to ours; SKUs the channel account has not listed are left out."""
    rows = await conn.fetch(
        """SELECT channel_sku, sku FROM channel_listings
           WHERE channel = $1 AND account = $2 AND channel_sku = ANY($3::text[])""",
        channel,
        account,
        list(channel_skus),
    )
    return {row["channel_sku"]: row["sku"] for row in rows}


async def reserve_for_order(
    conn: asyncpg.Connection, order_id: str, lines: Sequence[tuple[str, int]]
) -> Decision:
    """Reserves all of an order's lines or none, at most once per order.

    Concurrent calls for the same order queue on a transaction-scoped advisory lock, so the
    second sees the first's committed reservation and replays it. Stock rows are then locked in
    SKU order, the one order every caller uses, so two orders can never deadlock each other.
    """
    await _lock_order(conn, order_id)
    existing = await conn.fetch(
        "SELECT sku, quantity, status FROM reservations WHERE order_id = $1 ORDER BY sku",
        order_id,
    )
    if existing:
        return _replay(existing)
    skus = sorted({sku for sku, _ in lines})
    rows = await conn.fetch(
        """SELECT sku, on_hand, reserved FROM stock_items WHERE sku = ANY($1::text[])
           ORDER BY sku FOR UPDATE""",
        skus,
    )
    # Every product gets its stock row when it is created (upsert_product), so the stock rows
    # are also the known SKUs: one round trip fewer on the hot path.
    levels = {r["sku"]: StockLevel(on_hand=r["on_hand"], reserved=r["reserved"]) for r in rows}
    decision = plan_reservation(lines, levels, levels.keys())
    if isinstance(decision, Reserved):
        # The ledger rows and the reservations in one statement (the trigger moves the stock).
        await conn.execute(
            """WITH lines AS (SELECT * FROM unnest($2::text[], $3::int[]) AS l(sku, quantity)),
                    booked AS (
                        INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason,
                                                  order_id)
                        SELECT sku, 0, quantity, 'RESERVE', $1 FROM lines ORDER BY sku)
               INSERT INTO reservations (order_id, sku, quantity, status)
               SELECT $1, sku, quantity, 'RESERVED' FROM lines""",
            order_id,
            [sku for sku, _ in decision.lines],
            [qty for _, qty in decision.lines],
        )
    return decision


async def held_for_order(conn: asyncpg.Connection, order_id: str) -> list[Held]:
    """The order's reservations still held (status RESERVED), by SKU."""
    rows = await conn.fetch(
        """SELECT sku, quantity, released FROM reservations
           WHERE order_id = $1 AND status = 'RESERVED' ORDER BY sku""",
        order_id,
    )
    return [Held(sku=r["sku"], quantity=r["quantity"], released=r["released"]) for r in rows]


async def map_cancelled_skus(
    conn: asyncpg.Connection, order_id: str, skus: Sequence[str]
) -> dict[str, str]:
    """Maps cancelled lines that name a channel SKU to the SKU the order reserved (a channel may
    cancel by its own SKU); SKUs that are already ours are left out."""
    held = {
        r["sku"]
        for r in await conn.fetch("SELECT sku FROM reservations WHERE order_id = $1", order_id)
    }
    unknown = [sku for sku in skus if sku not in held]
    if not unknown or not held:
        return {}
    rows = await conn.fetch(
        """SELECT channel_sku, sku FROM channel_listings
           WHERE channel_sku = ANY($1::text[]) AND sku = ANY($2::text[])""",
        unknown,
        sorted(held),
    )
    return {r["channel_sku"]: r["sku"] for r in rows}


async def release_for_order(
    conn: asyncpg.Connection,
    order_id: str,
    lines: Sequence[tuple[str, int]] | None = None,
    *,
    reason: str = "RELEASE",
    cancelled_at: datetime | None = None,
    after_pickup: bool = False,
) -> list[tuple[str, int]]:
    """Releases the order's held stock (all of it, or the cancelled `lines`) and returns what it
    released; empty when nothing is held any more, so a replay changes nothing.

    A cancellation that happened at `cancelled_at`, before a parcel's pickup that came first
    (not `after_pickup`), also puts back what that pickup took of its lines: those units were
    not in the parcel, as if the cancellation had come first."""
    await _lock_order(conn, order_id)
    plan = plan_release(await held_for_order(conn, order_id), lines)
    moved = [(sku, 0, -qty) for sku, qty in plan]
    if cancelled_at is not None and not after_pickup:
        back = await _picked_up_before(conn, order_id, lines, dict(plan), cancelled_at)
        moved += [(sku, qty, 0) for sku, qty in back]
        plan += back
    if not plan:
        return []
    await _lock_stock(conn, [sku for sku, _ in plan])
    await _append(conn, moved, reason, order_id, event_at=cancelled_at)
    await conn.executemany(
        """UPDATE reservations
              SET released = released + $3, updated_at = now(),
                  status = CASE WHEN released + $3 = quantity THEN 'RELEASED' ELSE status END
            WHERE order_id = $1 AND sku = $2""",
        [(order_id, sku, qty) for sku, qty in plan],
    )
    return list(plan)


async def _picked_up_before(
    conn: asyncpg.Connection,
    order_id: str,
    lines: Sequence[tuple[str, int]] | None,
    released: Mapping[str, int],
    cancelled_at: datetime,
) -> tuple[tuple[str, int], ...]:
    """The cancelled units a pickup took although it happened after the cancellation (at the
    same time counts as after): what is left of the cancellation once the held units are
    released, capped at what each picked-up line still counts."""
    rows = await conn.fetch(
        """SELECT sku, quantity, released FROM reservations
           WHERE order_id = $1 AND status = 'CONFIRMED' AND picked_up_at >= $2 ORDER BY sku""",
        order_id,
        cancelled_at,
    )
    picked = [Held(sku=r["sku"], quantity=r["quantity"], released=r["released"]) for r in rows]
    if lines is None:
        return plan_release(picked) if picked else ()
    wanted: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        wanted[sku] += quantity
    left = [(sku, q - released.get(sku, 0)) for sku, q in wanted.items()]
    left = [(sku, q) for sku, q in left if q > 0]
    return plan_release(picked, left) if picked and left else ()


async def confirm_for_pickup(
    conn: asyncpg.Connection,
    order_id: str,
    producer_id: str,
    picked_up_at: datetime | None = None,
) -> list[tuple[str, int]]:
    """The courier took the producer's parcel at `picked_up_at` (now when not given): its held
    units leave the shelf (on hand and reserved both drop), and so do units a cancellation that
    happened after that time released (only on hand: their reservation is gone). Returns what
    left; empty on a replay, since a parcel's pickup counts once."""
    await _lock_order(conn, order_id)
    rows = await conn.fetch(
        """SELECT r.sku, r.quantity, r.released, r.status, r.picked_up_at
             FROM reservations r JOIN products p USING (sku)
            WHERE r.order_id = $1 AND p.producer_id = $2 ORDER BY r.sku FOR UPDATE OF r""",
        order_id,
        producer_id,
    )
    if not rows or any(r["picked_up_at"] is not None for r in rows):
        return []
    at = picked_up_at or await conn.fetchval("SELECT now()")
    late = await conn.fetch(
        """SELECT sku, -sum(delta_reserved) AS units FROM stock_ledger
            WHERE order_id = $1 AND sku = ANY($2::text[]) AND reason = 'RELEASE'
              AND delta_reserved < 0 AND event_at > $3
            GROUP BY sku""",
        order_id,
        [r["sku"] for r in rows],
        at,
    )
    parcel = [
        (Held(sku=r["sku"], quantity=r["quantity"], released=r["released"]),
         r["status"] == "RESERVED")
        for r in rows
    ]  # fmt: skip
    plan = plan_pickup(parcel, {r["sku"]: r["units"] for r in late})
    if plan:
        await _lock_stock(conn, [sku for sku, _, _ in plan])
        await _append(
            conn, [(sku, -units, -held) for sku, units, held in plan], "CONFIRM", order_id,
            event_at=at,
        )  # fmt: skip
    # Every line records the pickup, even one that moved nothing: it counts once.
    moved = {sku: (units, held) for sku, units, held in plan}
    changes = []
    for r in rows:
        units, held = moved.get(r["sku"], (0, 0))
        changes.append((order_id, r["sku"], at, units - held, units > 0))
    await conn.executemany(
        """UPDATE reservations SET picked_up_at = $3, updated_at = now(),
                  released = released - $4,
                  status = CASE WHEN $5 THEN 'CONFIRMED' ELSE status END
            WHERE order_id = $1 AND sku = $2""",
        changes,
    )
    return [(sku, units) for sku, units, _ in plan]


async def orders_held_since(
    conn: asyncpg.Connection, older_than: timedelta, limit: int
) -> list[str]:
    """Orders with a reservation still held that was made more than `older_than` ago."""
    rows = await conn.fetch(
        """SELECT DISTINCT order_id FROM reservations
           WHERE status = 'RESERVED' AND created_at < now() - $1::interval
           ORDER BY order_id LIMIT $2""",
        older_than,
        limit,
    )
    return [r["order_id"] for r in rows]


async def adjust_stock(
    conn: asyncpg.Connection,
    sku: str,
    *,
    delta: int | None = None,
    on_hand: int | None = None,
    note: str | None = None,
) -> StockLevel | None:
    """Books a stock adjustment (a `delta`, or a counted `on_hand`); None for an unknown SKU.
    Raises AdjustmentError when the change would eat into reserved units."""
    row = await conn.fetchrow(
        "SELECT on_hand, reserved FROM stock_items WHERE sku = $1 FOR UPDATE", sku
    )
    if row is None:
        return None
    level = StockLevel(on_hand=row["on_hand"], reserved=row["reserved"])
    change = adjustment_delta(level, delta=delta, on_hand=on_hand)
    await _append(conn, [(sku, change, 0)], "ADJUST", None, note)
    return StockLevel(on_hand=level.on_hand + change, reserved=level.reserved)


async def drain_stock_changes(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Takes up to `limit` SKUs whose stock changed and returns their current figures.

    Each SKU comes once however many ledger rows marked it; rows being marked by transactions
    still open are skipped (SKIP LOCKED) and come in a later pass with their final figure.
    """
    return await conn.fetch(
        """WITH picked AS (
               SELECT sku FROM stock_dirty ORDER BY since, sku LIMIT $1 FOR UPDATE SKIP LOCKED
           ), gone AS (
               DELETE FROM stock_dirty d USING picked WHERE d.sku = picked.sku
               RETURNING d.sku, d.changes
           )
           SELECT g.sku, g.changes, i.on_hand, i.reserved, i.available, i.version,
                  p.producer_id, p.low_stock_threshold, (a.sku IS NOT NULL) AS alerted
             FROM gone g JOIN stock_items i USING (sku) JOIN products p USING (sku)
             LEFT JOIN low_stock_alerts a USING (sku)
            ORDER BY g.sku""",
        limit,
    )


async def listings_for_skus(
    conn: asyncpg.Connection, skus: Iterable[str]
) -> dict[str, list[tuple[str, str, str]]]:
    """Each SKU's channel listings as (channel, account, channel_sku)."""
    rows = await conn.fetch(
        """SELECT sku, channel, account, channel_sku FROM channel_listings
           WHERE sku = ANY($1::text[]) ORDER BY sku, channel, account, channel_sku""",
        list(skus),
    )
    result: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for r in rows:
        result[r["sku"]].append((r["channel"], r["account"], r["channel_sku"]))
    return result


async def set_low_stock_alert(
    conn: asyncpg.Connection, sku: str, alerted: bool, available: int = 0, threshold: int = 0
) -> None:
    if alerted:
        await conn.execute(
            """INSERT INTO low_stock_alerts (sku, available, threshold) VALUES ($1, $2, $3)
               ON CONFLICT (sku) DO NOTHING""",
            sku,
            available,
            threshold,
        )
    else:
        await conn.execute("DELETE FROM low_stock_alerts WHERE sku = $1", sku)


async def stock_level(conn: asyncpg.Connection, sku: str) -> StockLevel | None:
    row = await conn.fetchrow("SELECT on_hand, reserved FROM stock_items WHERE sku = $1", sku)
    return StockLevel(on_hand=row["on_hand"], reserved=row["reserved"]) if row else None


async def _lock_order(conn: asyncpg.Connection, order_id: str) -> None:
    # Namespaced key so other services' advisory locks on the same text cannot collide.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('catalog.order:' || $1, 0))", order_id
    )


async def _lock_stock(conn: asyncpg.Connection, skus: Sequence[str]) -> None:
    # Always in SKU order, the order reserve_for_order uses, so no two callers deadlock.
    await conn.execute(
        "SELECT 1 FROM stock_items WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE",
        sorted(skus),
    )


async def _append(
    conn: asyncpg.Connection,
    deltas: Sequence[tuple[str, int, int]],
    reason: str,
    order_id: str | None,
    note: str | None = None,
    *,
    event_at: datetime | None = None,
) -> None:
    await conn.executemany(
        """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason, order_id, note,
                                    event_at)
           VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()))""",
        [
            (sku, d_on_hand, d_reserved, reason, order_id, note, event_at)
            for sku, d_on_hand, d_reserved in deltas
        ],
    )


def _replay(rows: Sequence[asyncpg.Record]) -> Decision:
    released = [r for r in rows if r["status"] == "RELEASED"]
    if released:
        return Rejected(
            problems=tuple(
                LineProblem(
                    line=None,
                    sku=r["sku"],
                    quantity=r["quantity"],
                    problem=Problem.ALREADY_RELEASED,
                )
                for r in released
            )
        )
    return Reserved(lines=tuple((r["sku"], r["quantity"]) for r in rows), replayed=True)


async def _upsert(
    conn: asyncpg.Connection, table: str, key: tuple[str, ...], row: Mapping[str, object]
) -> None:
    cols = list(row)
    updates = [f"{c} = EXCLUDED.{c}" for c in cols if c not in key]
    updates += ["updated_at = now()"] if table in _TOUCHED else []
    placeholders = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
    await conn.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}",
        *row.values(),
    )


def _row(model: Producer | Product) -> dict[str, object]:
    row = model.model_dump()
    for field in _JSON:
        value = getattr(model, field, None)
        if field in row:
            row[field] = value.model_dump(mode="json") if value is not None else None
    for field in ("languages", "certifications"):
        if field in row:
            row[field] = list(row[field])
    return row


def _model(cls: type[M], row: asyncpg.Record) -> M:
    return cls.model_validate({f: row[f] for f in cls.model_fields})
