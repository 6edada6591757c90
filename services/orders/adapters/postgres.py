"""The orders service's tables. Every function runs on a connection inside the caller's
transaction, so a state change and its outbox row commit together."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.orders.domain.model import CanonicalOrder
from services.orders.domain.status import OrderStatus


async def add_channel_account(conn: asyncpg.Connection, platform: str, account: str, secret: str):
    await conn.execute(
        """INSERT INTO channel_accounts (platform, account, secrets) VALUES ($1, $2, ARRAY[$3])
           ON CONFLICT (platform, account) DO UPDATE SET secrets = ARRAY[$3], rotated_at = now()""",
        platform,
        account,
        secret,
    )


async def rotate_channel_secret(conn: asyncpg.Connection, platform: str, account: str, secret: str):
    """The new secret first, the previous one still valid until the next rotation."""
    done = await conn.fetchval(
        """UPDATE channel_accounts SET secrets = ARRAY[$3, secrets[1]], rotated_at = now()
           WHERE platform = $1 AND account = $2 RETURNING 1""",
        platform,
        account,
        secret,
    )
    if not done:
        raise LookupError(f"no {platform} account {account!r}")


async def list_channel_accounts(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT platform, account, cardinality(secrets) AS secrets, created_at, rotated_at
           FROM channel_accounts ORDER BY platform, account"""
    )
    return [dict(r) for r in rows]


async def channel_secrets(
    conn: asyncpg.Connection, platform: str, account: str
) -> list[str] | None:
    return await conn.fetchval(
        "SELECT secrets FROM channel_accounts WHERE platform = $1 AND account = $2",
        platform,
        account,
    )


async def record_delivery(
    conn: asyncpg.Connection,
    platform: str,
    account: str,
    delivery_id: str,
    topic: str | None,
    raw_body: bytes,
) -> bool:
    """False when this delivery was accepted before (a platform redelivery)."""
    inserted = await conn.fetchval(
        """INSERT INTO webhook_deliveries (platform, account, delivery_id, topic, raw_body)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1""",
        platform,
        account,
        delivery_id,
        topic,
        raw_body,
    )
    return inserted is not None


async def link_delivery(conn, platform: str, account: str, delivery_id: str, order_id: str) -> None:
    await conn.execute(
        """UPDATE webhook_deliveries SET order_id = $4
           WHERE platform = $1 AND account = $2 AND delivery_id = $3""",
        platform,
        account,
        delivery_id,
        order_id,
    )


async def insert_order(conn: asyncpg.Connection, order: CanonicalOrder, source: str) -> bool:
    """False when the order exists already (another delivery of the same order)."""
    inserted = await conn.fetchval(
        """INSERT INTO orders (order_id, channel, account, external_id, status, channel_status,
                               channel_updated_at, canonical)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING 1""",
        order.order_id,
        order.channel,
        order.account,
        order.external_id,
        order.status.value,
        order.channel_status,
        order.updated_at,
        order.model_dump(mode="json"),
    )
    if inserted:
        await _history(conn, order.order_id, order.status, None, source)
    return inserted is not None


async def get_order(conn: asyncpg.Connection, order_id: str) -> CanonicalOrder | None:
    row = await conn.fetchrow("SELECT canonical FROM orders WHERE order_id = $1", order_id)
    return CanonicalOrder.model_validate(row["canonical"]) if row else None


async def lock_order(conn: asyncpg.Connection, order_id: str) -> CanonicalOrder | None:
    row = await conn.fetchrow(
        "SELECT canonical FROM orders WHERE order_id = $1 FOR UPDATE", order_id
    )
    return CanonicalOrder.model_validate(row["canonical"]) if row else None


async def save_status(
    conn: asyncpg.Connection, order: CanonicalOrder, reason: str | None, source: str
) -> None:
    await conn.execute(
        """UPDATE orders SET status = $2, canonical = $3, updated_at = now()
           WHERE order_id = $1""",
        order.order_id,
        order.status.value,
        order.model_dump(mode="json"),
    )
    await _history(conn, order.order_id, order.status, reason, source)


async def _history(conn, order_id: str, status: OrderStatus, reason: str | None, source: str):
    await conn.execute(
        """INSERT INTO order_status_history (order_id, status, reason, source)
           VALUES ($1, $2, $3, $4)""",
        order_id,
        status.value,
        reason,
        source,
    )


async def status_history(conn: asyncpg.Connection, order_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT status, reason, source, changed_at FROM order_status_history
           WHERE order_id = $1 ORDER BY id""",
        order_id,
    )
    return [dict(r) for r in rows]
