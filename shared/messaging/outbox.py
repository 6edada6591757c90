"""Transactional outbox.

`enqueue` writes the event in the caller's transaction, beside the state change it announces.
`OutboxRelay` publishes the rows and marks them sent only after the broker has acknowledged. A
row whose publish fails stays unsent and is retried with backoff, so a broker outage delays
events but loses none. A crash between the acknowledgement and the mark republishes the row:
consumers deduplicate on `event_id` (the inbox).

A pass pipelines its publishes: awaiting each acknowledgement before the next send cost a produce
round trip per row, and the relay fell behind the intake. The invariant is per-key order (the
key is the aggregate: order_id, sku, ...), which is what consumers rely on: a row is handed to
the producer only once every earlier row of its key in the pass has been acknowledged, while rows
of other keys are in flight together. The idempotent producer alone does not guarantee this (a
batch that finally fails does not stop a later batch of the same partition). A failed row stays
unsent with its attempt recorded, and the later rows of its key in the pass are not handed to
the producer; other keys' acknowledged rows are marked sent. One poison row thus holds back its
own aggregate only, not the whole outbox (it used to stop the pass). The next pass starts again
from the oldest unsent row, so the failed row goes first for its key.

During a broker outage the idempotent producer keeps retrying the rows in flight, so the relay
waits there (holding that batch's row locks) and resumes when the broker is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import pydantic_core
import structlog

from shared.contracts.envelope import Envelope, Event
from shared.metrics import MESSAGES_PUBLISHED, OUTBOX_BACKLOG, OUTBOX_PUBLISH_FAILURES

log = structlog.get_logger(__name__)

# One relay pass at a time per database. Two replicas claiming batches side by side (SKIP
# LOCKED) could publish one aggregate's later event before its earlier one; this lock keeps the
# outbox's id order on the topic whatever the number of replicas.
_RELAY_LOCK = 4242_0002

# publish(topic, body, key, headers) hands the record to the producer and returns an awaitable
# that completes once the broker has acknowledged it (or raises). Awaiting the call must not wait
# for the acknowledgement: that is what lets a pass have many keys in flight.
Publish = Callable[[str, bytes, str, dict[str, str]], Awaitable[Awaitable[object]]]


async def enqueue(
    conn: asyncpg.Connection, envelope: Envelope, event: Event, *, topic: str | None = None
) -> None:
    """Write `event` for publishing once the caller's transaction commits. `topic` overrides the
    event's own, e.g. to publish to both topics while consumers move from .v1 to .v2."""
    await conn.execute(
        """INSERT INTO outbox (event_id, topic, key, event_type, headers, body)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING""",
        envelope.event_id,
        topic or event.topic,
        event.key(),
        envelope.event_type,
        envelope.headers(),
        envelope.to_bytes(),
    )


@dataclass(frozen=True)
class Raised:
    """An event a handler raised, with what its envelope needs: the journey it belongs to, the
    message that caused it (None for one from an API call or a job), and an id when the event
    must keep one across retries."""

    event: Event
    correlation_id: str
    causation_id: str | None = None
    event_id: uuid.UUID | None = None

    def wrap(self, producer: str) -> Envelope:
        return Envelope.wrap(
            self.event,
            producer=producer,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            event_id=self.event_id,
        )


async def enqueue_raised(conn: asyncpg.Connection, producer: str, raised: Iterable[Raised]) -> None:
    """The one place a service's events enter the outbox: each wrapped in its envelope and
    written in the caller's transaction (a unit of work's commit)."""
    for item in raised:
        await enqueue(conn, item.wrap(producer), item.event)


def insert_sql(first: int, *, grouped_by: str | None = None) -> str:
    """An INSERT of the rows `columns()` gives, as parameters $first..$first+5, to compose into
    a caller's own statement (a CTE), so the rows commit with its state change in one round trip.
    With `grouped_by` (a SQL row set, e.g. "SELECT order_id FROM o"), a seventh array gives each
    row's group, and only rows whose group is in that set are written."""
    u, t, k, e, h, b, g = (f"${first + n}" for n in range(7))
    group = f", {g}::text[]" if grouped_by else ""
    keep = f"WHERE x.g IN ({grouped_by})" if grouped_by else ""
    return f"""INSERT INTO outbox (event_id, topic, key, event_type, headers, body)
               SELECT x.i, x.t, x.k, x.e, x.h::jsonb, x.b
               FROM unnest({u}::uuid[], {t}::text[], {k}::text[], {e}::text[],
                           {h}::text[], {b}::bytea[]{group}) WITH ORDINALITY
                    AS x(i, t, k, e, h, b, {"g, " if grouped_by else ""}n)
               {keep}
               ORDER BY x.n ON CONFLICT (event_id) DO NOTHING"""


def columns(items: Sequence[tuple[Envelope, Event]]) -> list[list[Any]]:
    """The parameters of `insert_sql`: one array per column, in the events' order."""
    cols: list[list[Any]] = [[], [], [], [], [], []]
    for envelope, event in items:
        cols[0].append(envelope.event_id)
        cols[1].append(event.topic)
        cols[2].append(event.key())
        cols[3].append(envelope.event_type)
        cols[4].append(pydantic_core.to_json(envelope.headers()).decode())
        cols[5].append(envelope.to_bytes())
    return cols


async def backlog(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        publish: Publish,
        *,
        service: str,
        batch_size: int = 100,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._pool = pool
        self._publish = publish
        self._service = service
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._max_backoff_s = max_backoff_s
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._listener = await self._pool.acquire()
        await self._listener.add_listener("outbox", self._on_notify)
        self._tasks = [
            asyncio.create_task(self._run(), name=f"outbox-relay-{self._service}"),
            asyncio.create_task(self._sample_backlog(), name=f"outbox-backlog-{self._service}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # Whatever a task died of, the listener connection must go back before the pool closes.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._listener:
            with contextlib.suppress(Exception):
                await self._listener.remove_listener("outbox", self._on_notify)
            await self._pool.release(self._listener)
            self._listener = None

    async def _sample_backlog(self, every_s: float = 5.0) -> None:
        """Apart from the relay loop, which a publish can hold for as long as a broker outage."""
        while True:
            with contextlib.suppress(Exception):
                async with self._pool.acquire() as conn:
                    OUTBOX_BACKLOG.labels(self._service).set(await backlog(conn))
            await asyncio.sleep(every_s)

    async def _run(self) -> None:
        backoff = self._poll_interval_s
        while True:
            # Cleared before the pass, not after: a commit notified during the pass must wake the
            # next one at once rather than wait for the poll.
            self._wake.clear()
            try:
                sent = await self.relay_once()
                backoff = self._poll_interval_s
                if sent == self._batch_size:
                    continue  # more may be waiting
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database trouble: keep the rows, back off
                OUTBOX_PUBLISH_FAILURES.labels(self._service, type(exc).__name__).inc()
                log.warning("outbox.publish_failed", error=repr(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval_s):
                    await self._wake.wait()

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows. Returns how many were sent; raises the first publish
        error (in id order) after recording what did get through."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0  # another replica is relaying this database: it keeps the order
            rows = await conn.fetch(
                """SELECT id, topic, key, headers, body FROM outbox
                   WHERE sent_at IS NULL ORDER BY id
                   LIMIT $1 FOR UPDATE SKIP LOCKED""",
                self._batch_size,
            )
            by_key: dict[str, list[asyncpg.Record]] = {}
            for row in rows:  # id order within each key
                by_key.setdefault(row["key"], []).append(row)
            sent: list[int] = []
            failed: list[tuple[int, Exception]] = []
            # One task per key: its rows go one after the other, the keys side by side. The tasks
            # catch their publish errors; cancelling the pass (stop) cancels them all.
            async with asyncio.TaskGroup() as group:
                for key_rows in by_key.values():
                    group.create_task(self._publish_in_order(key_rows, sent, failed))
            if failed:
                failed.sort(key=lambda f: f[0])
                await conn.executemany(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
                    [(row_id, repr(exc)[:500]) for row_id, exc in failed],
                )
            if sent:
                await conn.execute(
                    # clock_timestamp, not now(): now() is this transaction's start, which can
                    # precede the commit of a row it claimed (and break sent_at >= created_at).
                    "UPDATE outbox SET sent_at = clock_timestamp() WHERE id = ANY($1::bigint[])",
                    sent,
                )
        if failed:
            raise failed[0][1]
        return len(sent)

    async def _publish_in_order(
        self,
        rows: list[asyncpg.Record],
        sent: list[int],
        failed: list[tuple[int, Exception]],
    ) -> None:
        """One key's rows of a pass, each handed to the producer once the previous one is
        acknowledged. The first failure is recorded and ends the key: the later rows of the key
        stay unsent, never handed over, so they cannot overtake it."""
        for row in rows:
            try:
                acknowledged = await self._publish(
                    row["topic"], row["body"], row["key"], row["headers"]
                )
                await acknowledged
            except Exception as exc:
                failed.append((row["id"], exc))
                return
            sent.append(row["id"])
            MESSAGES_PUBLISHED.labels(self._service, row["topic"]).inc()
