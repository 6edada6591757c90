"""PostgreSQL side of the webhook queue (migration 005 has the invariants)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
import pydantic_core

from shared.db.group_commit import GroupCommit


@dataclass(frozen=True)
class Received:
    """A verified push as it arrived: what the queue stores."""

    platform: str
    account: str
    headers: dict[str, str]
    raw_body: bytes


@dataclass(frozen=True)
class Queued:
    """A row claimed for applying."""

    id: int
    platform: str
    account: str
    headers: dict[str, str]
    raw_body: bytes
    attempts: int  # this one included


async def _insert(conn: asyncpg.Connection, rows: Sequence[Received]) -> list[None]:
    await conn.execute(
        """INSERT INTO webhook_queue (platform, account, headers, raw_body)
           SELECT p, a, h::jsonb, b FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
               AS x(p, a, h, b)""",
        [r.platform for r in rows],
        [r.account for r in rows],
        [pydantic_core.to_json(r.headers).decode() for r in rows],
        [r.raw_body for r in rows],
    )
    return [None] * len(rows)


class QueueWriter(GroupCommit[Received, None]):
    """Concurrent webhooks share one INSERT; `put` returns once the push is committed."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], max_batch: int = 256) -> None:
        super().__init__(pool, _insert, max_batch=max_batch, name="orders-webhook-queue")

    async def put(self, received: Received) -> None:
        await self.submit(received)


async def claim(conn: asyncpg.Connection, limit: int, lease_s: float) -> list[Queued]:
    """The oldest rows no one holds, leased for `lease_s` (SKIP LOCKED: replicas share them)."""
    rows = await conn.fetch(
        """UPDATE webhook_queue SET attempts = attempts + 1,
                  leased_until = now() + make_interval(secs => $2)
           WHERE id IN (SELECT id FROM webhook_queue
                        WHERE rejected_reason IS NULL AND leased_until <= now()
                        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
           RETURNING id, platform, account, headers::text AS headers, raw_body, attempts""",
        limit,
        lease_s,
    )
    return [
        Queued(
            r["id"],
            r["platform"],
            r["account"],
            pydantic_core.from_json(r["headers"]),
            r["raw_body"],
            r["attempts"],
        )
        for r in sorted(rows, key=lambda r: r["id"])
    ]


async def settle(
    conn: asyncpg.Connection,
    done: Sequence[int],
    rejected: Sequence[tuple[int, str]],
    failed: Sequence[tuple[int, str, float]],
) -> None:
    """Delete the applied rows, keep the rejected ones as dead-letter entries with their reason,
    and put the failed ones back after their delay."""
    async with conn.transaction():
        if done:
            await conn.execute("DELETE FROM webhook_queue WHERE id = ANY($1::bigint[])", done)
        if rejected:
            await conn.execute(
                """UPDATE webhook_queue q SET rejected_reason = u.reason, rejected_at = now(),
                          leased_until = 'infinity'
                   FROM unnest($1::bigint[], $2::text[]) AS u(id, reason) WHERE q.id = u.id""",
                [r[0] for r in rejected],
                [r[1][:1000] for r in rejected],
            )
        if failed:
            await conn.execute(
                """UPDATE webhook_queue q SET last_error = u.error,
                          leased_until = now() + make_interval(secs => u.delay)
                   FROM unnest($1::bigint[], $2::text[], $3::float8[]) AS u(id, error, delay)
                   WHERE q.id = u.id""",
                [f[0] for f in failed],
                [f[1][:1000] for f in failed],
                [f[2] for f in failed],
            )


async def pending(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM webhook_queue WHERE rejected_reason IS NULL")


async def rejected(conn: asyncpg.Connection, limit: int = 100) -> list[dict]:
    """The dead-letter entries, newest first, for the operator."""
    rows = await conn.fetch(
        """SELECT id, platform, account, received_at, rejected_at, attempts, rejected_reason,
                  raw_body
           FROM webhook_queue WHERE rejected_reason IS NOT NULL
           ORDER BY rejected_at DESC, id DESC LIMIT $1""",
        limit,
    )
    return [dict(r) | {"raw_body": r["raw_body"].decode("utf-8", errors="replace")} for r in rows]


async def requeue(conn: asyncpg.Connection, ids: Sequence[int]) -> list[int]:
    """Dead-letter entries back in the queue (after the parser was fixed): the ids requeued."""
    return [
        r["id"]
        for r in await conn.fetch(
            """UPDATE webhook_queue SET rejected_reason = NULL, rejected_at = NULL, attempts = 0,
                      leased_until = '-infinity'
               WHERE id = ANY($1::bigint[]) AND rejected_reason IS NOT NULL RETURNING id""",
            list(ids),
        )
    ]
