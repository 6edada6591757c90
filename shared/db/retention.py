"""Housekeeping: sent outbox rows and old inbox keys are deleted, or both tables grow forever.

Invariant: an inbox key is kept longer than any topic keeps its records, so every redelivery the
broker can still make is recognised as one. `check_inbox_retention` fails fast otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import asyncpg
import structlog

from shared.contracts.topics import DLQ_RETENTION_MS, TOPICS

log = structlog.get_logger(__name__)


def check_inbox_retention(inbox_keep: timedelta) -> None:
    longest = max([t.retention_ms for t in TOPICS] + [DLQ_RETENTION_MS])  # DLQ replays too
    if inbox_keep <= timedelta(milliseconds=longest):
        raise ValueError(
            f"INBOX_KEEP_DAYS ({inbox_keep.days} days) must exceed the longest topic retention "
            f"({longest // 86_400_000} days), or an old redelivery would be applied twice"
        )


async def prune(
    conn: asyncpg.Connection, *, outbox_keep: timedelta, inbox_keep: timedelta
) -> tuple[int, int]:
    """Delete sent outbox rows and inbox keys older than the given ages. Unsent rows stay."""
    outbox = await conn.execute(
        "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - $1::interval",
        outbox_keep,
    )
    inbox = await conn.execute(
        "DELETE FROM processed_messages WHERE processed_at < now() - $1::interval", inbox_keep
    )
    return int(outbox.split()[-1]), int(inbox.split()[-1])


async def prune_forever(
    pool: asyncpg.Pool, *, outbox_keep: timedelta, inbox_keep: timedelta, every_s: float = 3600
) -> None:
    while True:
        with contextlib.suppress(Exception):  # the next round tries again
            async with pool.acquire() as conn:
                deleted = await prune(conn, outbox_keep=outbox_keep, inbox_keep=inbox_keep)
            log.info("db.pruned", outbox_rows=deleted[0], inbox_keys=deleted[1])
        await asyncio.sleep(every_s)
