"""Applying queued full-order pushes (Shopify, WooCommerce).

The webhook answers as soon as the push is verified and committed to `webhook_queue`: parsing the
order and writing it, its history and its events cost four times what accepting it does, and a
platform that waits too long retries (and, after repeated failures, disables the webhook). On a
sale day the queue absorbs the burst; this job catches up behind it.

A pass claims the oldest rows (leased, so replicas share them), applies them together, so that
new orders share one group-commit statement, then settles every row:
- applied (created, updated, a duplicate, a stale update...) or ignored: deleted, after the
  order's own commit; a crash in between applies it again, which is a duplicate delivery;
- not an order we can read (a missing field, a wrong type, a huge amount...): kept as a
  dead-letter entry with the parser's reason, counted, and listed by `ovop orders rejected`;
- failed otherwise (the database went away): retried with a growing delay, and after
  `MAX_ATTEMPTS` kept as a dead-letter entry too.

The order's own updated_at decides which of two updates wins (lifecycle), so rows applied
together or out of order give the same order.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import asyncpg
import pydantic_core
import structlog

from services.orders import handlers
from services.orders.adapters import postgres as db
from services.orders.adapters import webhook_queue as queue
from services.orders.adapters.intake import NewOrderWriter
from services.orders.adapters.platforms.registry import Account, read_push
from services.orders.domain.errors import OrderError
from services.orders.metrics import WEBHOOKS_APPLIED, WEBHOOKS_DEAD_LETTERED

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 10


class QueueDepth:
    """How many pushes wait in the webhook queue, as this process knows it: the last count
    taken from the database (`Jobs.sample_backlog`, or an empty pass) plus what was queued
    here since, less what was applied here since. Cheap enough to check on every push."""

    def __init__(self) -> None:
        self._depth = 0
        self.puts = 0  # pushes queued by this process, ever: the pacer reads their rate

    def sampled(self, count: int) -> None:
        self._depth = count

    def added(self, n: int = 1) -> None:
        self._depth += n
        self.puts += n

    def settled(self, n: int) -> None:
        self._depth = max(0, self._depth - n)

    def over(self, limit: int) -> bool:
        return self._depth >= limit


class Pacer:
    """During a burst, applying gives way to accepting. While pushes arrive at `burst_rate` or
    more, a pass waits (checking every `window_s`), so the webhook keeps the CPU and the platforms
    get their answers at once; but once the job has been behind for `max_lag_s`, it takes its
    share again until the queue is empty, so a sustained overload is applied at the rate the
    process can manage (and the queue's limit sheds the rest with 503). Below `burst_rate` a pass
    never waits longer than one window, which also lets its batch fill."""

    def __init__(
        self,
        depth: QueueDepth,
        burst_rate: float = 500.0,
        max_lag_s: float = 30.0,
        window_s: float = 0.05,
    ) -> None:
        self._depth, self._burst_rate = depth, burst_rate
        self._max_lag_s, self._window_s = max_lag_s, window_s
        self._behind_since: float | None = None
        self._mark_t, self._mark_puts = time.monotonic(), depth.puts

    def caught_up(self) -> None:
        self._behind_since = None

    async def wait_turn(self) -> None:
        now = time.monotonic()
        if self._behind_since is None:
            self._behind_since = now
        while now - self._behind_since < self._max_lag_s:
            elapsed = now - self._mark_t
            if elapsed < self._window_s:
                await asyncio.sleep(self._window_s - elapsed)
            else:
                rate = (self._depth.puts - self._mark_puts) / elapsed
                self._mark_t, self._mark_puts = now, self._depth.puts
                if rate < self._burst_rate:
                    return
            now = time.monotonic()


@dataclass(frozen=True)
class Applied:
    outcome: str  # ingest outcome (created, stale...), or ignored, rejected, failed
    order_id: str | None = None
    error: str | None = None


async def apply_once(
    pool: asyncpg.Pool,
    writer: NewOrderWriter,
    depth: QueueDepth,
    limit: int = 256,
    lease_s: float = 60.0,
) -> dict[int, Applied]:
    """One pass: claim up to `limit` rows, apply them, settle them. What became of each row."""
    async with pool.acquire() as conn:
        rows = await queue.claim(conn, limit, lease_s)
    if not rows:
        depth.sampled(0)  # nothing is due: leased or delayed rows are few
        return {}
    accounts: dict[tuple[str, str], Account | None] = {}
    async with pool.acquire() as conn:
        for key in {(r.platform, r.account) for r in rows}:
            accounts[key] = await db.get_account(conn, *key)
    results = await asyncio.gather(
        *(_apply(pool, writer, row, accounts[row.platform, row.account]) for row in rows)
    )
    outcomes = {row.id: result for row, result in zip(rows, results, strict=True)}
    done, rejected, failed = [], [], []
    for row, result in zip(rows, results, strict=True):
        if result.outcome == "rejected" or (
            result.outcome == "failed" and row.attempts >= MAX_ATTEMPTS
        ):
            rejected.append((row.id, result.error or result.outcome))
            WEBHOOKS_DEAD_LETTERED.labels(row.platform, result.outcome).inc()
        elif result.outcome == "failed":
            failed.append((row.id, result.error or "", handlers.retry_delay_s(row.attempts - 1)))
        else:
            done.append(row.id)
        WEBHOOKS_APPLIED.labels(row.platform, result.outcome).inc()
    async with pool.acquire() as conn:
        await queue.settle(conn, done, rejected, failed)
    depth.settled(len(done) + len(rejected))
    return outcomes


async def _apply(
    pool: asyncpg.Pool, writer: NewOrderWriter, row: queue.Queued, account: Account | None
) -> Applied:
    structlog.contextvars.bind_contextvars(
        channel=row.platform, account=row.account, webhook_queue_id=row.id
    )
    try:
        if account is None:
            raise OrderError(f"no {row.platform} account {row.account!r} any more")
        push = read_push(account, pydantic_core.from_json(row.raw_body), row.headers)
    except (OrderError, ValueError) as exc:
        log.warning("webhook.rejected", reason=str(exc))
        return Applied("rejected", error=f"invalid_order: {exc}")
    if push.kind != "order" or push.order is None:
        log.info("webhook.ignored", note=push.note)
        return Applied("ignored")
    order_id = push.order.order_id
    structlog.contextvars.bind_contextvars(order_id=order_id, correlation_id=order_id)
    try:
        accepted = await handlers.accept_push(
            writer,
            pool,
            push.order,
            delivery_id=push.delivery_id,
            topic=push.topic,
            raw_body=row.raw_body,
        )
    except Exception as exc:  # the database, most likely: the row is tried again later
        log.warning("webhook.apply_failed", error=repr(exc), attempts=row.attempts)
        return Applied("failed", order_id, f"{type(exc).__name__}: {exc}")
    log.info("webhook.applied", outcome=accepted.outcome)
    return Applied(accepted.outcome, order_id)
