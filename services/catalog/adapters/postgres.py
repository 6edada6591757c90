"""The catalog's PostgreSQL adapter.

Every function takes an `asyncpg.Connection` that is already inside a transaction: the caller
owns it, because it writes its outbox row in the same transaction. Nothing here commits.
Stock moves only by appending to `stock_ledger`; a trigger applies each row to `stock_items`
(see migrations/001_catalog.sql), so the ledger and the stock cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import TypeVar

import asyncpg

from services.catalog.domain import (
    Decision,
    LineProblem,
    Problem,
    Producer,
    Product,
    Rejected,
    Reserved,
    StockLevel,
    plan_reservation,
)

M = TypeVar("M", Producer, Product)
# Columns that hold a nested model as jsonb (shared.db.pool's codec turns them into dicts),
# and the tables that keep an updated_at.
_JSON = ("names", "story")
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
    levels = {r["sku"]: StockLevel(on_hand=r["on_hand"], reserved=r["reserved"]) for r in rows}
    known = {
        r["sku"]
        for r in await conn.fetch("SELECT sku FROM products WHERE sku = ANY($1::text[])", skus)
    }
    decision = plan_reservation(lines, levels, known)
    if isinstance(decision, Reserved):
        await _append(conn, [(sku, 0, qty) for sku, qty in decision.lines], "RESERVE", order_id)
        await conn.executemany(
            """INSERT INTO reservations (order_id, sku, quantity, status)
               VALUES ($1, $2, $3, 'RESERVED')""",
            [(order_id, sku, qty) for sku, qty in decision.lines],
        )
    return decision


async def release_for_order(conn: asyncpg.Connection, order_id: str) -> list[tuple[str, int]]:
    """Releases the order's RESERVED lines and returns them; empty when nothing is left."""
    await _lock_order(conn, order_id)
    rows = await conn.fetch(
        """SELECT sku, quantity FROM reservations WHERE order_id = $1 AND status = 'RESERVED'
           ORDER BY sku""",
        order_id,
    )
    released = [(r["sku"], r["quantity"]) for r in rows]
    if not released:
        return []
    await conn.execute(  # same lock order as reserve_for_order
        "SELECT 1 FROM stock_items WHERE sku = ANY($1::text[]) ORDER BY sku FOR UPDATE",
        [sku for sku, _ in released],
    )
    await _append(conn, [(sku, 0, -qty) for sku, qty in released], "RELEASE", order_id)
    await conn.execute(
        """UPDATE reservations SET status = 'RELEASED', updated_at = now()
           WHERE order_id = $1 AND status = 'RESERVED'""",
        order_id,
    )
    return released


async def stock_level(conn: asyncpg.Connection, sku: str) -> StockLevel | None:
    row = await conn.fetchrow("SELECT on_hand, reserved FROM stock_items WHERE sku = $1", sku)
    return StockLevel(on_hand=row["on_hand"], reserved=row["reserved"]) if row else None


async def _lock_order(conn: asyncpg.Connection, order_id: str) -> None:
    # Namespaced key so other services' advisory locks on the same text cannot collide.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('catalog.order:' || $1, 0))", order_id
    )


async def _append(
    conn: asyncpg.Connection,
    deltas: Sequence[tuple[str, int, int]],
    reason: str,
    order_id: str | None,
) -> None:
    await conn.executemany(
        """INSERT INTO stock_ledger (sku, delta_on_hand, delta_reserved, reason, order_id)
           VALUES ($1, $2, $3, $4, $5)""",
        [(sku, d_on_hand, d_reserved, reason, order_id) for sku, d_on_hand, d_reserved in deltas],
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
        if field in row:
            row[field] = getattr(model, field).model_dump(mode="json")
    if "languages" in row:
        row["languages"] = list(row["languages"])
    return row


def _model(cls: type[M], row: asyncpg.Record) -> M:
    return cls.model_validate({f: row[f] for f in cls.model_fields})
