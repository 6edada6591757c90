"""The notifications service's tables (inside the caller's transaction)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.notifications.domain.messages import RenderedSms


async def insert_message(
    conn: asyncpg.Connection,
    *,
    dedup_key: str,
    message_type: str,
    recipient: str,
    sms: RenderedSms,
    provider: str,
    refs: dict[str, str | None],
) -> uuid.UUID | None:
    """The new message's id, or None when this dedup key was recorded before."""
    message_id = uuid.uuid4()
    inserted = await conn.fetchval(
        """INSERT INTO sms_messages (message_id, dedup_key, message_type, recipient, producer_id,
               order_id, shipment_id, language, text, encoding, segments, provider, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'QUEUED')
           ON CONFLICT (dedup_key) DO NOTHING RETURNING 1""",
        message_id,
        dedup_key,
        message_type,
        recipient,
        refs.get("producer_id"),
        refs.get("order_id"),
        refs.get("shipment_id"),
        sms.language,
        sms.text,
        sms.encoding,
        sms.segments,
        provider,
    )
    if inserted is None:
        return None
    await record_status(conn, message_id, "QUEUED", None)
    return message_id


async def record_status(
    conn: asyncpg.Connection,
    message_id: uuid.UUID,
    status: str,
    detail: str | None,
    provider_message_id: str | None = None,
) -> None:
    await conn.execute(
        """UPDATE sms_messages SET status = $2, updated_at = now(),
               provider_message_id = coalesce($3, provider_message_id)
           WHERE message_id = $1""",
        message_id,
        status,
        provider_message_id,
    )
    await conn.execute(
        "INSERT INTO sms_status_history (message_id, status, detail) VALUES ($1, $2, $3)",
        message_id,
        status,
        detail,
    )


async def list_messages(conn: asyncpg.Connection, limit: int = 50) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT message_id, message_type, recipient, order_id, shipment_id, language, text,
                  encoding, segments, provider, provider_message_id, status, created_at
           FROM sms_messages ORDER BY created_at DESC LIMIT $1""",
        limit,
    )
    return [dict(r) for r in rows]
