"""Inbox: the consumer's dedup key, claimed in the same transaction as the handler's writes."""

from __future__ import annotations

import uuid

import asyncpg


async def claim(conn: asyncpg.Connection, consumer: str, event_id: uuid.UUID, topic: str) -> bool:
    """True when this consumer has not handled the event before (and now owns it)."""
    row = await conn.fetchval(
        """INSERT INTO processed_messages (consumer, event_id, topic) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING 1""",
        consumer,
        event_id,
        topic,
    )
    return row is not None
