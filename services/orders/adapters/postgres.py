"""The orders service's tables. Every function runs on a connection inside the caller's
transaction, so a state change and its outbox row commit together."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.orders.adapters.platforms.channel import Account
from services.orders.domain.model import CanonicalOrder
from services.orders.domain.status import OrderStatus


async def add_channel_account(
    conn: asyncpg.Connection,
    platform: str,
    account: str,
    secret: str,
    settings: Mapping[str, str] | None = None,
):
    await conn.execute(
        """INSERT INTO channel_accounts (platform, account, secrets, settings)
           VALUES ($1, $2, ARRAY[$3], $4)
           ON CONFLICT (platform, account) DO UPDATE
           SET secrets = ARRAY[$3], settings = $4, rotated_at = now()""",
        platform,
        account,
        secret,
        dict(settings or {}),
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
    """Accounts without their secrets: only how many are valid and which settings are set."""
    rows = await conn.fetch(
        """SELECT platform, account, cardinality(secrets) AS secrets, created_at, rotated_at,
                  settings FROM channel_accounts ORDER BY platform, account"""
    )
    return [
        dict(r)
        | {
            "settings": {
                k: ("***" if k in SECRET_SETTINGS else v) for k, v in r["settings"].items()
            }
        }
        for r in rows
    ]


SECRET_SETTINGS = frozenset({"access_token"})


async def channel_secrets(
    conn: asyncpg.Connection, platform: str, account: str
) -> list[str] | None:
    return await conn.fetchval(
        "SELECT secrets FROM channel_accounts WHERE platform = $1 AND account = $2",
        platform,
        account,
    )


async def get_account(conn: asyncpg.Connection, platform: str, account: str) -> Account | None:
    row = await conn.fetchrow(
        "SELECT secrets, settings FROM channel_accounts WHERE platform = $1 AND account = $2",
        platform,
        account,
    )
    return Account(platform, account, row["secrets"], row["settings"]) if row else None


async def accounts_of(conn: asyncpg.Connection, platform: str) -> list[Account]:
    rows = await conn.fetch(
        "SELECT account, secrets, settings FROM channel_accounts WHERE platform = $1", platform
    )
    return [Account(platform, r["account"], r["secrets"], r["settings"]) for r in rows]


async def record_delivery(
    conn: asyncpg.Connection,
    order: CanonicalOrder,
    delivery_id: str,
    topic: str | None,
    raw_body: bytes,
) -> bool:
    """A push about an order we already have; False when this delivery was seen before."""
    return (
        await conn.fetchval(
            """INSERT INTO webhook_deliveries
               (platform, account, delivery_id, topic, raw_body, order_id)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true""",
            order.channel,
            order.account,
            delivery_id,
            topic,
            raw_body,
            order.order_id,
        )
        is not None
    )


async def insert_order(
    conn: asyncpg.Connection,
    order: CanonicalOrder,
    history: Sequence[tuple[OrderStatus, str | None]],
    source: str,
    stock_deadline: datetime | None = None,
) -> bool:
    """False when the order exists already (another delivery of the same order)."""
    inserted = await conn.fetchval(
        """INSERT INTO orders (order_id, channel, account, external_id, status, channel_status,
                               channel_updated_at, canonical, hold_reason, producers, placed_at,
                               stock_deadline)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT DO NOTHING RETURNING 1""",
        order.order_id,
        order.channel,
        order.account,
        order.external_id,
        order.status.value,
        order.channel_status,
        order.updated_at,
        order.model_dump(mode="json"),
        order.hold_reason,
        _producers(order),
        order.placed_at,
        stock_deadline,
    )
    if inserted:
        for status, reason in history:
            await _history(conn, order.order_id, status, reason, source)
    return inserted is not None


def _producers(order: CanonicalOrder) -> list[str]:
    return sorted({u.producer_id for u in order.fulfilment_units})


async def update_order(
    conn: asyncpg.Connection,
    order: CanonicalOrder,
    history: Sequence[tuple[OrderStatus, str | None]],
    source: str,
    stock_deadline: datetime | None,
) -> None:
    await conn.execute(
        """UPDATE orders SET status = $2, channel_status = $3, channel_updated_at = $4,
                  canonical = $5, hold_reason = $6, producers = $7, stock_deadline = $8,
                  updated_at = now()
           WHERE order_id = $1""",
        order.order_id,
        order.status.value,
        order.channel_status,
        order.updated_at,
        order.model_dump(mode="json"),
        order.hold_reason,
        _producers(order),
        stock_deadline,
    )
    for status, reason in history:
        await _history(conn, order.order_id, status, reason, source)


async def get_order(conn: asyncpg.Connection, order_id: str) -> CanonicalOrder | None:
    row = await conn.fetchrow("SELECT canonical FROM orders WHERE order_id = $1", order_id)
    return CanonicalOrder.model_validate(row["canonical"]) if row else None


async def lock_order(
    conn: asyncpg.Connection, order_id: str
) -> tuple[CanonicalOrder, datetime | None] | None:
    row = await conn.fetchrow(
        "SELECT canonical, stock_deadline FROM orders WHERE order_id = $1 FOR UPDATE", order_id
    )
    if row is None:
        return None
    return CanonicalOrder.model_validate(row["canonical"]), row["stock_deadline"]


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


async def list_orders(
    conn: asyncpg.Connection,
    *,
    status: str | None = None,
    channel: str | None = None,
    account: str | None = None,
    producer: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[CanonicalOrder]:
    """Newest first; `since`/`until` bound the time the order was placed."""
    rows = await conn.fetch(
        """SELECT canonical FROM orders
           WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)
             AND ($3::text IS NULL OR account = $3) AND ($4::text IS NULL OR $4 = ANY(producers))
             AND ($5::timestamptz IS NULL OR placed_at >= $5)
             AND ($6::timestamptz IS NULL OR placed_at < $6)
           ORDER BY placed_at DESC NULLS LAST, order_id LIMIT $7""",
        status,
        channel,
        account,
        producer,
        since,
        until,
        limit,
    )
    return [CanonicalOrder.model_validate(r["canonical"]) for r in rows]


async def overdue_reservations(conn: asyncpg.Connection, limit: int = 100) -> list[str]:
    rows = await conn.fetch(
        """SELECT order_id FROM orders WHERE status = 'PENDING_STOCK' AND stock_deadline < now()
           ORDER BY stock_deadline LIMIT $1""",
        limit,
    )
    return [r["order_id"] for r in rows]


async def add_fetch(
    conn: asyncpg.Connection, platform: str, account: str, external_id: str, delivery_id: str
) -> bool:
    """Persist a thin push until its order detail is fetched; False for a redelivery."""
    inserted = await conn.fetchval(
        """INSERT INTO inbound_fetches (platform, account, external_id, delivery_id)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1""",
        platform,
        account,
        external_id,
        delivery_id,
    )
    return inserted is not None


async def claim_fetches(
    conn: asyncpg.Connection, limit: int = 20, lease_s: float = 60.0
) -> list[dict[str, Any]]:
    """Due fetches, leased for `lease_s` (SKIP LOCKED: replicas share the work; a crashed
    worker's lease simply runs out and another takes the fetch)."""
    rows = await conn.fetch(
        """UPDATE inbound_fetches SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE id IN (SELECT id FROM inbound_fetches
                        WHERE state = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, platform, account, external_id, delivery_id, attempts""",
        limit,
        lease_s,
    )
    return [dict(r) for r in rows]


async def fetch_done(conn: asyncpg.Connection, fetch_id: int, order_id: str | None) -> None:
    await conn.execute(
        """UPDATE inbound_fetches SET state = 'done', done_at = now(), order_id = $2,
                  attempts = attempts + 1 WHERE id = $1""",
        fetch_id,
        order_id,
    )


async def fetch_failed(conn: asyncpg.Connection, fetch_id: int, error: str, retry_in_s: float):
    await conn.execute(
        """UPDATE inbound_fetches SET attempts = attempts + 1, last_error = $2,
                  next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1""",
        fetch_id,
        error[:500],
        retry_in_s,
    )


async def set_listing_stock(
    conn: asyncpg.Connection,
    channel: str,
    account: str,
    channel_sku: str,
    sku: str,
    available: int,
    version: int,
) -> bool:
    """Record the latest figure for one listing; an older version than the one held is
    skipped (False), so a burst leaves one pending push with the latest figure."""
    done = await conn.fetchval(
        """INSERT INTO listing_stock (channel, account, channel_sku, sku, available, version)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (channel, account, channel_sku) DO UPDATE
           SET sku = EXCLUDED.sku, available = EXCLUDED.available, version = EXCLUDED.version,
               attempts = 0, next_attempt_at = now()
           WHERE listing_stock.version < EXCLUDED.version
           RETURNING 1""",
        channel,
        account,
        channel_sku,
        sku,
        max(0, available),
        version,
    )
    return done is not None


async def claim_stock_pushes(
    conn: asyncpg.Connection, limit: int = 50, lease_s: float = 30.0
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """UPDATE listing_stock SET next_attempt_at = now() + make_interval(secs => $2)
           WHERE (channel, account, channel_sku) IN (
               SELECT channel, account, channel_sku FROM listing_stock
               WHERE pushed_version IS DISTINCT FROM version AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING channel, account, channel_sku, available, version, attempts""",
        limit,
        lease_s,
    )
    return [dict(r) for r in rows]


async def stock_pushed(
    conn, channel: str, account: str, channel_sku: str, version: int, note: str | None = None
) -> None:
    """Done with `version` (pushed, or `note` says why it cannot be); a newer version that came
    in meanwhile stays due."""
    await conn.execute(
        """UPDATE listing_stock SET pushed_version = $4, pushed_at = now(), last_error = $5,
                  attempts = 0, next_attempt_at = now()
           WHERE channel = $1 AND account = $2 AND channel_sku = $3""",
        channel,
        account,
        channel_sku,
        version,
        note,
    )


async def stock_push_failed(
    conn, channel: str, account: str, channel_sku: str, error: str, retry_in_s: float
) -> None:
    await conn.execute(
        """UPDATE listing_stock SET attempts = attempts + 1, last_error = $4,
                  next_attempt_at = now() + make_interval(secs => $5)
           WHERE channel = $1 AND account = $2 AND channel_sku = $3""",
        channel,
        account,
        channel_sku,
        error[:500],
        retry_in_s,
    )


async def cursor(conn: asyncpg.Connection, platform: str, account: str) -> datetime | None:
    return await conn.fetchval(
        "SELECT pulled_to FROM channel_cursors WHERE platform = $1 AND account = $2",
        platform,
        account,
    )


async def set_cursor(conn: asyncpg.Connection, platform: str, account: str, to: datetime):
    await conn.execute(
        """INSERT INTO channel_cursors (platform, account, pulled_to) VALUES ($1, $2, $3)
           ON CONFLICT (platform, account) DO UPDATE SET pulled_to = EXCLUDED.pulled_to""",
        platform,
        account,
        to,
    )
